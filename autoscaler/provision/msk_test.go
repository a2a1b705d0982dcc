package provision

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kafka/types"

	"github.com/weirhq/weir/autoscaler/policy"
)

// The requests a Describe sends: DescribeClusterV2, then ListNodes' pages.
var describeRequests = []string{
	"GET /api/v2/clusters/" + testARNPath,
	"GET /v1/clusters/" + testARNPath + "/nodes",
	"GET /v1/clusters/" + testARNPath + "/nodes?nextToken=page-2",
}

// TestMSKScalesAFakeCluster walks the autoscaler's path against the fake
// MSK: describe, grow storage, be refused as busy while MSK updates, see
// the operation complete, then add brokers. Every request is checked by
// the fake (path, SigV4) and its body here.
func TestMSKScalesAFakeCluster(t *testing.T) {
	f := newFakeMSK(t)
	m := f.start()
	ctx := context.Background()

	got := describe(t, m)
	want := policy.Cluster{State: "ACTIVE", Brokers: 3, Provisioned: perBroker(100*gib, 1, 2, 3)}
	checkCluster(t, got, want)
	checkRequests(t, f, describeRequests, nil)

	// 110 GiB less a byte rounds up to 110 GiB, for every broker: "All".
	op, err := m.UpdateBrokerStorage(ctx, []int32{3, 1, 2}, 110*gib-1)
	if err != nil {
		t.Fatal(err)
	}
	checkRequests(t, f, []string{"PUT /v1/clusters/" + testARNPath + "/nodes/storage"}, []map[string]any{{
		"currentVersion": "K3AEGXETSR30VB",
		"targetBrokerEBSVolumeInfo": []any{
			map[string]any{"kafkaBrokerNodeId": "All", "volumeSizeGB": float64(110)},
		},
	}})

	got = describe(t, m)
	want = policy.Cluster{State: "UPDATING", Brokers: 3, Provisioned: perBroker(100*gib, 1, 2, 3), Operation: op}
	checkCluster(t, got, want)
	f.takeRequests()

	// MSK refuses a change while UPDATING: 400 BadRequestException.
	_, err = m.UpdateBrokerCount(ctx, 6)
	var bad *types.BadRequestException
	if !errors.Is(err, ErrBusy) || !errors.As(err, &bad) {
		t.Fatalf("UpdateBrokerCount while UPDATING: %v, want ErrBusy and a BadRequestException", err)
	}
	if !strings.Contains(err.Error(), "cluster is in the UPDATING state") {
		t.Errorf("error %q lost MSK's message", err)
	}
	checkRequests(t, f, append([]string{"PUT /v1/clusters/" + testARNPath + "/nodes/count"}, describeRequests...), []map[string]any{{
		"currentVersion":            "K2HXZ4UA9RVO3M",
		"targetNumberOfBrokerNodes": float64(6),
	}})

	checkOperation(t, m, op, Operation{ID: op, Type: "UPDATE_BROKER_EBS_VOLUME", State: InProgress})
	f.complete(op)
	checkOperation(t, m, op, Operation{ID: op, Type: "UPDATE_BROKER_EBS_VOLUME", State: Complete})
	checkRequests(t, f, []string{"GET /api/v2/operations/" + opPath(1), "GET /api/v2/operations/" + opPath(1)}, nil)

	got = describe(t, m)
	checkCluster(t, got, policy.Cluster{State: "ACTIVE", Brokers: 3, Provisioned: perBroker(110*gib, 1, 2, 3)})

	op, err = m.UpdateBrokerCount(ctx, 6)
	if err != nil {
		t.Fatal(err)
	}
	f.takeRequests()
	checkOperation(t, m, op, Operation{ID: op, Type: "INCREASE_BROKER_COUNT", State: InProgress})
	f.complete(op)
	got = describe(t, m)
	checkCluster(t, got, policy.Cluster{State: "ACTIVE", Brokers: 6, Provisioned: perBroker(110*gib, 1, 2, 3, 4, 5, 6)})
}

// TestMSKRefusals: which of MSK's refusals of an update are ErrBusy (the
// autoscaler holds and tries again) and which are errors; MSK's message
// is kept either way.
func TestMSKRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(f *fakeMSK)
		busy    bool
		message string
		typ     any // the SDK's error type, if it knows one
	}{
		{
			name: "BadRequestException while ACTIVE is the request's fault",
			setup: func(f *fakeMSK) {
				f.injectNext(fakeAnswer{400, "BadRequestException" + coralSuffix, "The request does not include any updates to the EBS volumes of the cluster."})
			},
			message: "does not include any updates",
			typ:     new(*types.BadRequestException),
		},
		{
			name:    "a stale currentVersion: another client changed the cluster",
			setup:   func(f *fakeMSK) { f.changeBehindOurBack() },
			busy:    true,
			message: "The version of the cluster isn't current",
			typ:     new(*types.BadRequestException),
		},
		{
			name: "a 400 without x-amzn-ErrorType while another operation runs",
			setup: func(f *fakeMSK) {
				f.injectNext(fakeAnswer{400, "", "The cluster is in the UPDATING state."})
				f.startElsewhere()
			},
			busy:    true,
			message: "UPDATING state",
		},
		{
			name: "ConflictException",
			setup: func(f *fakeMSK) {
				f.injectNext(fakeAnswer{409, "ConflictException", "An operation is already in progress on the cluster."})
			},
			busy:    true,
			message: "already in progress",
			typ:     new(*types.ConflictException),
		},
		{
			name: "ForbiddenException",
			setup: func(f *fakeMSK) {
				f.injectNext(fakeAnswer{403, "ForbiddenException" + coralSuffix, "User is not authorized to perform kafka:UpdateBrokerStorage"})
			},
			message: "kafka:UpdateBrokerStorage",
			typ:     new(*types.ForbiddenException),
		},
		{
			name: "NotFoundException",
			setup: func(f *fakeMSK) {
				f.injectNext(fakeAnswer{404, "NotFoundException", "The specified cluster was not found."})
			},
			message: "cluster was not found",
			typ:     new(*types.NotFoundException),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeMSK(t)
			m := f.start()
			describe(t, m)
			tc.setup(f)
			_, err := m.UpdateBrokerStorage(context.Background(), []int32{1, 2, 3}, 200*gib)
			if err == nil {
				t.Fatal("UpdateBrokerStorage succeeded")
			}
			if errors.Is(err, ErrBusy) != tc.busy {
				t.Errorf("errors.Is(%v, ErrBusy) = %t, want %t", err, !tc.busy, tc.busy)
			}
			if tc.typ != nil && !errors.As(err, tc.typ) {
				t.Errorf("error %v is not a %T", err, tc.typ)
			}
			if !strings.Contains(err.Error(), tc.message) || !strings.HasPrefix(err.Error(), "UpdateBrokerStorage to 200 GiB: ") {
				t.Errorf("error %q: want the operation and MSK's %q", err, tc.message)
			}
		})
	}
}

// TestMSKUpdateChecks: updates MSK would refuse, or that would not do what
// the autoscaler asked, are refused before any update is sent.
func TestMSKUpdateChecks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		update  func(m *MSK) error
		wantErr string
	}{
		{"over 16 TiB", storage([]int32{1, 2, 3}, 16384*gib+1), "rounds up to 16385 GiB, above MSK's per-broker maximum of 16384 GiB"},
		{"zero bytes", storage([]int32{1, 2, 3}, 0), "volume size 0 bytes"},
		{"not growing", storage([]int32{1, 2, 3}, 100*gib), "100 GiB does not grow the brokers' 100 GiB volumes"},
		{"not every broker", storage([]int32{1, 3}, 200*gib), `MSK grows every broker's volume together (KafkaBrokerNodeId "All"): asked for broker(s) [1 3] of [1 2 3]`},
		{"an unknown broker", storage([]int32{1, 2, 3, 4}, 200*gib), "asked for broker(s) [1 2 3 4] of [1 2 3]"},
		{"not a multiple of the zones", count(4), "4 brokers is not a multiple of the cluster's 3 availability zones"},
		{"no change", count(3), "the cluster already has 3 brokers"},
		{"no brokers", count(0), "0 brokers: want at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeMSK(t)
			m := f.start()
			err := tc.update(m)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
			}
			for _, r := range f.takeRequests() {
				if r.Method != "GET" {
					t.Errorf("sent %s", r)
				}
			}
		})
	}
}

func storage(brokers []int32, bytes int64) func(m *MSK) error {
	return func(m *MSK) error {
		_, err := m.UpdateBrokerStorage(context.Background(), brokers, bytes)
		return err
	}
}

func count(n int) func(m *MSK) error {
	return func(m *MSK) error {
		_, err := m.UpdateBrokerCount(context.Background(), n)
		return err
	}
}

// TestMSKDescribe: broker ids come from ListNodes, whatever they are; an
// Express cluster has no provisioned storage; a serverless one is refused.
func TestMSKDescribe(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(f *fakeMSK)
		want    policy.Cluster
		wantErr string
	}{
		{
			name:  "ids after a broker removal",
			setup: func(f *fakeMSK) { f.ids = []int{1, 2, 3, 7, 8, 9} },
			want:  policy.Cluster{State: "ACTIVE", Brokers: 6, Provisioned: perBroker(100*gib, 1, 2, 3, 7, 8, 9)},
		},
		{
			name:  "Express brokers",
			setup: func(f *fakeMSK) { f.volumeGiB = 0 },
			want:  policy.Cluster{State: "ACTIVE", Brokers: 3},
		},
		{
			name:    "serverless",
			setup:   func(f *fakeMSK) { f.serverless = true },
			wantErr: "a SERVERLESS cluster has no brokers to scale",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeMSK(t)
			tc.setup(f)
			got, err := f.start().Describe(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkCluster(t, got, tc.want)
		})
	}
}

// TestMSKStorageOnExpress: no EBS volume, nothing to grow.
func TestMSKStorageOnExpress(t *testing.T) {
	f := newFakeMSK(t)
	f.volumeGiB = 0
	_, err := f.start().UpdateBrokerStorage(context.Background(), []int32{1, 2, 3}, 200*gib)
	if err == nil || !strings.Contains(err.Error(), "no EBS volumes to grow") {
		t.Fatalf("got %v", err)
	}
}

func TestMSKOperationFailed(t *testing.T) {
	f := newFakeMSK(t)
	m := f.start()
	op, err := m.UpdateBrokerCount(context.Background(), 6)
	if err != nil {
		t.Fatal(err)
	}
	f.fail(op, "InsufficientCapacity", "There is not enough capacity for kafka.m5.large in us-east-1a.")
	got := checkOperation(t, m, op, Operation{ID: op, Type: "INCREASE_BROKER_COUNT", State: Failed,
		Error: "InsufficientCapacity: There is not enough capacity for kafka.m5.large in us-east-1a."})
	if !got.Done() {
		t.Error("a failed operation is not done")
	}
	if _, err := m.Operation(context.Background(), op+"-unknown"); err == nil || !strings.Contains(err.Error(), "operation was not found") {
		t.Errorf("unknown operation: %v", err)
	}
}

// TestMSKDefaultCredentials: without an aws.Config, the SDK's standard
// chain is used; here the environment's keys sign the requests.
func TestMSKDefaultCredentials(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "ENVAKID", "AWS_SECRET_ACCESS_KEY": "ENVSECRET", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "eu-west-3",
	} {
		t.Setenv(k, v)
	}
	f := newFakeMSK(t)
	f.creds.AccessKeyID, f.creds.SecretAccessKey = "ENVAKID", "ENVSECRET"
	m, err := NewMSK(MSKConfig{ClusterARN: testARN, Endpoint: f.serve()})
	if err != nil {
		t.Fatal(err)
	}
	checkCluster(t, describe(t, m), policy.Cluster{State: "ACTIVE", Brokers: 3, Provisioned: perBroker(100*gib, 1, 2, 3)})
}

func TestNewMSKRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     MSKConfig
		wantErr string
	}{
		{"no ARN", MSKConfig{}, `MSK cluster ARN "": arn: invalid prefix`},
		{"not an ARN", MSKConfig{ClusterARN: "weir-test"}, `MSK cluster ARN "weir-test"`},
		{"another service", MSKConfig{ClusterARN: "arn:aws:s3:::weir-test"}, `service "s3" is not kafka`},
		{"a configuration", MSKConfig{ClusterARN: "arn:aws:kafka:us-east-1:123456789012:configuration/weir/2a7d6f3c-1"}, `resource "configuration/weir/2a7d6f3c-1" is not a cluster`},
		{"no uuid", MSKConfig{ClusterARN: "arn:aws:kafka:us-east-1:123456789012:cluster/weir-test"}, "is not cluster/<name>/<uuid>"},
		{"no region", MSKConfig{ClusterARN: "arn:aws:kafka::123456789012:cluster/weir-test/2a7d6f3c-1"}, "no region"},
		{"a bad account", MSKConfig{ClusterARN: "arn:aws:kafka:us-east-1:12345:cluster/weir-test/2a7d6f3c-1"}, `account "12345" is not 12 digits`},
		{"another region", MSKConfig{ClusterARN: testARN, Region: "eu-west-1"}, "region eu-west-1: the cluster " + testARN + " is in us-east-1"},
		{"a bad endpoint", MSKConfig{ClusterARN: testARN, Endpoint: "kafka.us-east-1.amazonaws.com"}, `MSK endpoint "kafka.us-east-1.amazonaws.com": want an http(s) URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewMSK(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}

func TestVolumeGiB(t *testing.T) {
	for _, tc := range []struct {
		bytes   int64
		want    int32
		wantErr bool
	}{
		{bytes: 1, want: 1},
		{bytes: gib, want: 1},
		{bytes: gib + 1, want: 2},
		{bytes: 1000 * 1000 * 1000 * 1000, want: 932}, // a decimal TB
		{bytes: MaxVolumeGiB * gib, want: MaxVolumeGiB},
		{bytes: MaxVolumeGiB*gib + 1, wantErr: true},
		{bytes: 0, wantErr: true},
		{bytes: -gib, wantErr: true},
	} {
		got, err := VolumeGiB(tc.bytes)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("VolumeGiB(%d) = %d, %v; want %d, error %t", tc.bytes, got, err, tc.want, tc.wantErr)
		}
	}
}

func describe(t *testing.T, m *MSK) policy.Cluster {
	t.Helper()
	c, err := m.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func perBroker(bytes int64, ids ...int32) map[int32]int64 {
	out := map[int32]int64{}
	for _, id := range ids {
		out[id] = bytes
	}
	return out
}

func checkCluster(t *testing.T, got, want policy.Cluster) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Describe:\n got %+v\nwant %+v", got, want)
	}
}

func checkOperation(t *testing.T, m *MSK, id string, want Operation) Operation {
	t.Helper()
	got, err := m.Operation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Operation:\n got %+v\nwant %+v", got, want)
	}
	return got
}

// checkRequests compares the requests the fake received since the last
// check with want, and the bodies of those with one with bodies.
func checkRequests(t *testing.T, f *fakeMSK, want []string, bodies []map[string]any) {
	t.Helper()
	var got []string
	var gotBodies []map[string]any
	for _, r := range f.takeRequests() {
		got = append(got, r.String())
		if r.Body != nil {
			gotBodies = append(gotBodies, r.Body)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requests:\n got %q\nwant %q", got, want)
	}
	if !reflect.DeepEqual(gotBodies, bodies) {
		t.Errorf("bodies:\n got %v\nwant %v", gotBodies, bodies)
	}
}

// opPath is the fake's nth operation ARN as the SDK puts it in a path.
func opPath(n int) string {
	return strings.NewReplacer(":", "%3A", "/", "%2F").Replace(fmt.Sprintf(
		"arn:aws:kafka:us-east-1:123456789012:cluster-operation/weir-test/2a7d6f3c-1b2c-4d5e-8f90-0123456789ab-3/op-%d", n))
}

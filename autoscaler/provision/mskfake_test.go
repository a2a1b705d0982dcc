package provision

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// fakeMSK is Amazon MSK's control plane for one provisioned cluster, as
// far as the MSK provisioner uses it. It checks every request the SDK
// sends: the SigV4 signature (signed again here from the request as it
// arrived), the method and REST path of the operation, and the JSON body,
// which it records for the tests to compare. It answers with MSK's JSON
// shapes, and with MSK's errors: 400 BadRequestException while the
// cluster is not ACTIVE or for a stale currentVersion, with the
// x-amzn-ErrorType header that the SDK reads the error's type from.
// Operations finish when the test says (complete, fail).
type fakeMSK struct {
	t      *testing.T
	arn    string
	region string
	creds  aws.Credentials

	mu sync.Mutex
	// The cluster, guarded by mu.
	state      string
	version    int // CurrentVersion is versions[version]
	ids        []int
	volumeGiB  int
	subnets    int
	serverless bool
	activeOp   string
	ops        map[string]*fakeOp
	// The test's view, guarded by mu.
	requests []fakeRequest
	inject   []fakeAnswer // answered to the next requests instead
}

// fakeOp is a cluster operation and what it changes when it completes.
type fakeOp struct {
	arn, typ, state string
	errorInfo       map[string]any
	apply           func()
}

// fakeRequest is a request as the fake received it.
type fakeRequest struct {
	Method string
	Path   string // as sent, escaped
	Query  string
	Body   map[string]any // nil without a body
}

func (r fakeRequest) String() string {
	s := r.Method + " " + r.Path
	if r.Query != "" {
		s += "?" + r.Query
	}
	return s
}

// fakeAnswer is an error answer injected by a test.
type fakeAnswer struct {
	status  int
	errType string // x-amzn-ErrorType, as sent ("" for none)
	message string
}

const (
	testARN     = "arn:aws:kafka:us-east-1:123456789012:cluster/weir-test/2a7d6f3c-1b2c-4d5e-8f90-0123456789ab-3"
	testARNPath = "arn%3Aaws%3Akafka%3Aus-east-1%3A123456789012%3Acluster%2Fweir-test%2F2a7d6f3c-1b2c-4d5e-8f90-0123456789ab-3"
	// coralSuffix is what MSK appends to x-amzn-ErrorType; the SDK strips it.
	coralSuffix = ":http://internal.amazon.com/coral/com.amazonaws.kafka/"
)

// versions are the cluster's CurrentVersion, one after another.
var versions = []string{"K3AEGXETSR30VB", "K2HXZ4UA9RVO3M", "K1Q9CVDJ5X5Z2T", "K3ZL7P1YQ8W4NE", "K2C6RN3VB0DHJA", "K1W4TGMS7E2QXU"}

// newFakeMSK is the brief's cluster: ACTIVE, 3 brokers in 3 zones, 100 GiB.
func newFakeMSK(t *testing.T) *fakeMSK {
	return &fakeMSK{
		t: t, arn: testARN, region: "us-east-1",
		creds: aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET", Source: "test"},
		state: "ACTIVE", ids: []int{1, 2, 3}, volumeGiB: 100, subnets: 3,
		ops: map[string]*fakeOp{},
	}
}

// serve starts the fake's HTTP server and returns its URL.
func (f *fakeMSK) serve() string {
	srv := httptest.NewServer(f)
	f.t.Cleanup(srv.Close)
	return srv.URL
}

// start serves the fake and returns an MSK provisioner pointed at it,
// with the fake's credentials.
func (f *fakeMSK) start() *MSK {
	creds := f.creds
	m, err := NewMSK(MSKConfig{
		ClusterARN: f.arn,
		Endpoint:   f.serve(),
		AWS: &aws.Config{Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		})},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *fakeMSK) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("reading %s %s: %v", r.Method, r.URL, err)
	}
	f.checkSignature(r, body)
	req := fakeRequest{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req.Body); err != nil {
			f.t.Errorf("%s: body %q is not a JSON object: %v", req, body, err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	if len(f.inject) > 0 {
		f.answerError(w, f.inject[0], "")
		f.inject = f.inject[1:]
		return
	}
	f.route(w, req, r.URL.Query())
}

// route answers one MSK operation, under mu.
func (f *fakeMSK) route(w http.ResponseWriter, req fakeRequest, query url.Values) {
	seg := f.segments(req.Path)
	call := req.Method + " " + strings.Join(seg, "/")
	switch {
	case len(seg) == 4 && call == "GET api/v2/clusters/"+seg[3]:
		f.ifCluster(w, seg[3], func() { f.reply(w, f.describeClusterV2()) })
	case len(seg) == 4 && call == "GET api/v2/operations/"+seg[3]:
		f.describeOperation(w, seg[3])
	case len(seg) == 4 && call == "GET v1/clusters/"+seg[2]+"/nodes":
		f.ifCluster(w, seg[2], func() { f.reply(w, f.listNodes(query.Get("nextToken"))) })
	case len(seg) == 5 && call == "PUT v1/clusters/"+seg[2]+"/nodes/storage":
		f.ifCluster(w, seg[2], func() { f.updateStorage(w, req.Body) })
	case len(seg) == 5 && call == "PUT v1/clusters/"+seg[2]+"/nodes/count":
		f.ifCluster(w, seg[2], func() { f.updateCount(w, req.Body) })
	default:
		f.t.Errorf("%s: not an MSK operation the provisioner calls", req)
		f.refuse(w, http.StatusNotFound, "NotFoundException", "no such operation", "")
	}
}

// segments splits an escaped path and unescapes each part, so a cluster
// ARN (escaped by the SDK, slashes and all) is one segment.
func (f *fakeMSK) segments(path string) []string {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, p := range parts {
		s, err := url.PathUnescape(p)
		if err != nil {
			f.t.Errorf("path %s: %v", path, err)
		}
		parts[i] = s
	}
	return parts
}

func (f *fakeMSK) ifCluster(w http.ResponseWriter, arn string, then func()) {
	if arn != f.arn {
		f.t.Errorf("cluster %s: want %s", arn, f.arn)
		f.refuse(w, http.StatusNotFound, "NotFoundException", "The specified cluster was not found.", "clusterArn")
		return
	}
	then()
}

func (f *fakeMSK) describeClusterV2() map[string]any {
	info := map[string]any{
		"clusterArn":     f.arn,
		"clusterName":    "weir-test",
		"clusterType":    "PROVISIONED",
		"creationTime":   "2026-01-05T10:21:54.012Z",
		"currentVersion": versions[f.version],
		"state":          f.state,
		"tags":           map[string]string{},
		"provisioned": map[string]any{
			"brokerNodeGroupInfo":       f.brokerNodeGroupInfo(),
			"currentBrokerSoftwareInfo": map[string]any{"kafkaVersion": "3.6.0"},
			"enhancedMonitoring":        "DEFAULT",
			"numberOfBrokerNodes":       len(f.ids),
			"storageMode":               "LOCAL",
		},
	}
	if f.activeOp != "" {
		info["activeOperationArn"] = f.activeOp
	}
	if f.serverless {
		info["clusterType"] = "SERVERLESS"
		delete(info, "provisioned")
		info["serverless"] = map[string]any{"vpcConfigs": []any{}}
	}
	return map[string]any{"clusterInfo": info}
}

func (f *fakeMSK) brokerNodeGroupInfo() map[string]any {
	g := map[string]any{
		"brokerAZDistribution": "DEFAULT",
		"clientSubnets":        []string{"subnet-0a1b", "subnet-0c2d", "subnet-0e3f"}[:f.subnets],
		"instanceType":         "kafka.m5.large",
		"securityGroups":       []string{"sg-0123456789abcdef0"},
	}
	if f.volumeGiB > 0 {
		g["storageInfo"] = map[string]any{"ebsStorageInfo": map[string]any{"volumeSize": f.volumeGiB}}
	} else {
		g["instanceType"] = "express.m7g.large"
	}
	return g
}

// listNodes pages by two nodes, after a controller node MSK may list too.
func (f *fakeMSK) listNodes(token string) map[string]any {
	nodes := []any{map[string]any{"nodeType": "BROKER", "controllerNodeInfo": map[string]any{"endpoints": []string{"c-1.weirtest.example"}}}}
	for _, id := range f.ids {
		nodes = append(nodes, map[string]any{
			"addedToClusterTime": "2026-01-05T10:40:02.118Z",
			"instanceType":       "m5.large",
			"nodeARN":            fmt.Sprintf("arn:aws:kafka:us-east-1:123456789012:node/weir-test/%d", id),
			"nodeType":           "BROKER",
			"brokerNodeInfo": map[string]any{
				"attachedENIId": fmt.Sprintf("eni-%04d", id),
				"brokerId":      json.Number(fmt.Sprintf("%d.0", id)), // a double in MSK's API
				"clientSubnet":  "subnet-0a1b",
				"endpoints":     []string{fmt.Sprintf("b-%d.weirtest.abc123.c3.kafka.us-east-1.amazonaws.com", id)},
			},
		})
	}
	from := 0
	if token != "" {
		fmt.Sscanf(token, "page-%d", &from)
	}
	to := min(from+2, len(nodes))
	out := map[string]any{"nodeInfoList": nodes[from:to]}
	if to < len(nodes) {
		out["nextToken"] = fmt.Sprintf("page-%d", to)
	}
	return out
}

func (f *fakeMSK) updateStorage(w http.ResponseWriter, body map[string]any) {
	infos, _ := body["targetBrokerEBSVolumeInfo"].([]any)
	if !f.admit(w, body) || len(infos) != 1 {
		return
	}
	size := int(infos[0].(map[string]any)["volumeSizeGB"].(float64))
	f.begin(w, "UPDATE_BROKER_EBS_VOLUME", func() { f.volumeGiB = size })
}

func (f *fakeMSK) updateCount(w http.ResponseWriter, body map[string]any) {
	if !f.admit(w, body) {
		return
	}
	n := int(body["targetNumberOfBrokerNodes"].(float64))
	if n%f.subnets != 0 {
		f.refuse(w, http.StatusBadRequest, "BadRequestException",
			fmt.Sprintf("The number of broker nodes must be a multiple of the number of Availability Zones (%d).", f.subnets), "targetNumberOfBrokerNodes")
		return
	}
	typ := "INCREASE_BROKER_COUNT"
	if n < len(f.ids) {
		typ = "DECREASE_BROKER_COUNT"
	}
	f.begin(w, typ, func() { f.setBrokers(n) })
}

// admit refuses an update as MSK does when the cluster is busy or the
// update names another version.
func (f *fakeMSK) admit(w http.ResponseWriter, body map[string]any) bool {
	switch {
	case f.state != "ACTIVE":
		f.refuse(w, http.StatusBadRequest, "BadRequestException",
			fmt.Sprintf("This operation cannot be performed because the cluster is in the %s state. Try again when the cluster is ACTIVE.", f.state), "")
		return false
	case body["currentVersion"] != versions[f.version]:
		f.refuse(w, http.StatusBadRequest, "BadRequestException",
			"The version of the cluster isn't current. Check the current version and try again.", "currentVersion")
		return false
	}
	return true
}

// begin starts an operation: the cluster is UPDATING until it completes.
func (f *fakeMSK) begin(w http.ResponseWriter, typ string, apply func()) {
	arn := fmt.Sprintf("arn:aws:kafka:us-east-1:123456789012:cluster-operation/weir-test/2a7d6f3c-1b2c-4d5e-8f90-0123456789ab-3/op-%d", len(f.ops)+1)
	f.ops[arn] = &fakeOp{arn: arn, typ: typ, state: "UPDATE_IN_PROGRESS", apply: apply}
	f.state, f.activeOp = "UPDATING", arn
	f.version++
	f.reply(w, map[string]any{"clusterArn": f.arn, "clusterOperationArn": arn})
}

func (f *fakeMSK) describeOperation(w http.ResponseWriter, arn string) {
	op, ok := f.ops[arn]
	if !ok {
		f.refuse(w, http.StatusNotFound, "NotFoundException", "The specified cluster operation was not found.", "clusterOperationArn")
		return
	}
	info := map[string]any{
		"clusterArn":     f.arn,
		"clusterType":    "PROVISIONED",
		"operationArn":   op.arn,
		"operationState": op.state,
		"operationType":  op.typ,
		"startTime":      "2026-01-06T08:00:00.000Z",
	}
	if op.errorInfo != nil {
		info["errorInfo"] = op.errorInfo
	}
	f.reply(w, map[string]any{"clusterOperationInfo": info})
}

func (f *fakeMSK) reply(w http.ResponseWriter, v any) { f.write(w, http.StatusOK, v) }

func (f *fakeMSK) write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RequestId", "5c1f0d1e-7a39-4b8e-9a52-000000000001")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		f.t.Errorf("encoding an answer: %v", err)
	}
}

// refuse answers an error as MSK does: x-amzn-ErrorType names it (with
// MSK's suffix), the body has message and, for a bad parameter,
// invalidParameter.
func (f *fakeMSK) refuse(w http.ResponseWriter, status int, errType, message, param string) {
	f.answerError(w, fakeAnswer{status: status, errType: errType + coralSuffix, message: message}, param)
}

func (f *fakeMSK) answerError(w http.ResponseWriter, a fakeAnswer, param string) {
	body := map[string]any{"message": a.message}
	if param != "" {
		body["invalidParameter"] = param
	}
	if a.errType != "" {
		w.Header().Set("x-amzn-ErrorType", a.errType)
	}
	f.write(w, a.status, body)
}

// complete ends the cluster's operation successfully.
func (f *fakeMSK) complete(arn string) { f.finish(arn, "UPDATE_COMPLETE", nil) }

// fail ends the cluster's operation with MSK's errorInfo.
func (f *fakeMSK) fail(arn, code, message string) {
	f.finish(arn, "UPDATE_FAILED", map[string]any{"errorCode": code, "errorString": message})
}

func (f *fakeMSK) finish(arn, state string, errorInfo map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	op := f.ops[arn]
	if op == nil || f.activeOp != arn {
		f.t.Fatalf("finishing %s: not the cluster's operation (%s)", arn, f.activeOp)
	}
	op.state, op.errorInfo = state, errorInfo
	if errorInfo == nil {
		op.apply()
	}
	f.state, f.activeOp = "ACTIVE", ""
	f.version++
}

// setBrokers grows with new ids or drops the highest ones, under mu.
func (f *fakeMSK) setBrokers(n int) {
	for len(f.ids) < n {
		f.ids = append(f.ids, slices.Max(f.ids)+1)
	}
	f.ids = f.ids[:n]
}

// changeBehindOurBack is another client's update: a new version.
func (f *fakeMSK) changeBehindOurBack() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
}

// startElsewhere is another client's update, still running.
func (f *fakeMSK) startElsewhere() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.begin(httptest.NewRecorder(), "UPDATE_CLUSTER_CONFIGURATION", func() {})
}

func (f *fakeMSK) injectNext(a fakeAnswer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inject = append(f.inject, a)
}

// takeRequests returns the requests since the last call.
func (f *fakeMSK) takeRequests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = nil
	return out
}

// checkSignature checks the request's SigV4 Authorization: the credential
// scope (access key, date, region, kafka), the signed headers, and the
// signature itself, computed again with the SDK's signer from the request
// as it arrived (method, escaped path, query, signed headers, body).
func (f *fakeMSK) checkSignature(r *http.Request, body []byte) {
	what := r.Method + " " + r.URL.EscapedPath()
	auth := r.Header.Get("Authorization")
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		f.t.Errorf("%s: X-Amz-Date %q: %v", what, r.Header.Get("X-Amz-Date"), err)
		return
	}
	scope := fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s/%s/kafka/aws4_request, SignedHeaders=",
		f.creds.AccessKeyID, at.Format("20060102"), f.region)
	if !strings.HasPrefix(auth, scope) {
		f.t.Errorf("%s: Authorization %q does not start with %q", what, auth, scope)
		return
	}
	signed := strings.Split(strings.SplitN(strings.TrimPrefix(auth, scope), ",", 2)[0], ";")
	if !slices.Contains(signed, "host") || !slices.Contains(signed, "x-amz-date") {
		f.t.Errorf("%s: SignedHeaders %v lack host or x-amz-date", what, signed)
	}
	if again := f.sign(r, body, signed, at); again != auth {
		f.t.Errorf("%s: signature does not verify:\n got %s\nwant %s", what, auth, again)
	}
}

func (f *fakeMSK) sign(r *http.Request, body []byte, signed []string, at time.Time) string {
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.RequestURI, bytes.NewReader(body))
	if err != nil {
		f.t.Errorf("rebuilding %s: %v", r.RequestURI, err)
		return ""
	}
	again.ContentLength = r.ContentLength
	for _, h := range signed {
		if h != "host" && h != "content-length" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	err = v4.NewSigner().SignHTTP(context.Background(), f.creds, again, hex.EncodeToString(sum[:]), "kafka", f.region, at)
	if err != nil {
		f.t.Errorf("signing %s again: %v", r.RequestURI, err)
	}
	return again.Header.Get("Authorization")
}

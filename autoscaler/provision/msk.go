package provision

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kafka"
	"github.com/aws/aws-sdk-go-v2/service/kafka/types"

	"github.com/weirhq/weir/autoscaler/policy"
)

// MSK's limits and words.
const (
	// MaxVolumeGiB is MSK's largest EBS volume per broker (16 TiB).
	MaxVolumeGiB = 16384
	// AllBrokers is the KafkaBrokerNodeId of a storage update that applies
	// to every broker, the only one MSK accepts (its API reference: "The
	// broker identifier must be set to the keyword ALL"; its developer
	// guide and CLI examples spell it "All").
	AllBrokers = "All"

	gib = 1 << 30
)

// MSKConfig configures the MSK provisioner.
type MSKConfig struct {
	// ClusterARN names the cluster (required):
	// arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>.
	ClusterARN string
	// Region is the ARN's when empty; another region is refused, since a
	// cluster is managed only through its own region's endpoint.
	Region string
	// Endpoint replaces the SDK's (AWS_ENDPOINT_URL_KAFKA,
	// AWS_ENDPOINT_URL, then https://kafka.<region>.amazonaws.com): an
	// interface VPC endpoint, or a test server.
	Endpoint string
	// AWS is the SDK configuration to start from. Nil loads it the
	// standard way (config.LoadDefaultConfig: environment, shared config
	// and credentials files and profiles, SSO, web identity, ECS and EC2
	// instance roles), as the AWS CLI does.
	AWS *aws.Config
	// Credentials, when set, replace those of AWS or of the default chain.
	Credentials aws.CredentialsProvider
}

// MSK is the Provisioner of an Amazon MSK provisioned cluster with
// Standard brokers, through aws-sdk-go-v2's kafka client. Each method is
// one or two MSK API calls, so the IAM actions it needs are exactly:
//
//	Describe             kafka:DescribeClusterV2, kafka:ListNodes
//	UpdateBrokerStorage  kafka:UpdateBrokerStorage
//	UpdateBrokerCount    kafka:UpdateBrokerCount
//	Operation            kafka:DescribeClusterOperationV2
//
// (an update MSK refuses with BadRequestException is followed by a
// Describe, below).
//
// Every update names the CurrentVersion of the last Describe, MSK's
// optimistic concurrency: a decision made on a cluster that has changed
// since is refused, and taken again on the next evaluation. An update
// without a Describe before it describes first.
//
// Storage: MSK gives every broker the same EBS volume, sized in GiB.
// UpdateBrokerStorage rounds the size up to a whole GiB, refuses more than
// MaxVolumeGiB and a size that does not grow the volumes, and updates
// KafkaBrokerNodeId AllBrokers; it refuses a list that is not every
// broker, since MSK grows no single broker (a per_broker policy cannot
// run on MSK). MSK then optimizes the volumes for hours and refuses
// another storage update for six: keep the policy's cooldown at 6h.
// Express brokers have no EBS volume: Describe reports no provisioned
// storage and storage updates are refused.
//
// Broker count: MSK keeps the same number of brokers in each availability
// zone, so the count must be a multiple of the number of zones (the
// cluster's client subnets); UpdateBrokerCount refuses any other. MSK does
// not move partitions when the count changes: new brokers start empty,
// and MSK removes only brokers that hold no partitions (one per zone per
// operation). Unlike the local control plane, it runs no rebalance: the
// autoscaler process must have Weir's collector, pointed at the MSK
// cluster, run add-broker after a scale-out completes and remove-broker
// on the brokers to go before a scale-in. (Express brokers with MSK's
// intelligent rebalancing are the exception; this provisioner is for
// Standard brokers.)
//
// Busy: MSK answers 409 ConflictException, or 400 BadRequestException,
// when the cluster is not ACTIVE or already runs an operation; but it
// answers BadRequestException for an invalid request too (a size that
// does not grow, volumes still optimizing) and for a stale CurrentVersion.
// A 409 wraps ErrBusy; after a 400 the provisioner describes the cluster
// and wraps ErrBusy when the cluster is not ACTIVE, runs an operation or
// has moved past the version the update named (another client changed
// it), and returns a plain error otherwise. Either way the error keeps the SDK's (MSK's exception type,
// message and request id) and names the operation.
type MSK struct {
	arn    string
	client *kafka.Client

	// mu guards last, what the last Describe saw.
	mu   sync.Mutex
	last mskCluster
}

var _ Provisioner = (*MSK)(nil)

// mskCluster is what a Describe learns and the updates depend on.
type mskCluster struct {
	state     string
	operation string  // ActiveOperationArn, "" if none
	version   string  // CurrentVersion, named by every update
	count     int     // NumberOfBrokerNodes
	brokers   []int32 // Kafka broker ids, sorted
	volumeGiB int32   // every broker's EBS volume; 0 without one
	zones     int     // client subnets, one per availability zone
}

// NewMSK checks the configuration and builds the SDK client. It calls no
// AWS API: missing credentials fail the first call, not the start.
func NewMSK(cfg MSKConfig) (*MSK, error) {
	region, err := clusterRegion(cfg.ClusterARN, cfg.Region)
	if err != nil {
		return nil, err
	}
	if err := checkEndpoint(cfg.Endpoint); err != nil {
		return nil, err
	}
	base, err := loadAWS(cfg.AWS, region)
	if err != nil {
		return nil, err
	}
	client := kafka.NewFromConfig(base, func(o *kafka.Options) {
		o.Region = region
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		if cfg.Credentials != nil {
			o.Credentials = aws.NewCredentialsCache(cfg.Credentials)
		}
	})
	return &MSK{arn: cfg.ClusterARN, client: client}, nil
}

// clusterRegion checks an MSK cluster ARN and returns the region to call.
func clusterRegion(clusterARN, region string) (string, error) {
	a, err := arn.Parse(clusterARN)
	if err == nil {
		err = checkClusterARN(a)
	}
	if err != nil {
		return "", fmt.Errorf("MSK cluster ARN %q: %w (want arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)", clusterARN, err)
	}
	if region != "" && region != a.Region {
		return "", fmt.Errorf("region %s: the cluster %s is in %s", region, clusterARN, a.Region)
	}
	return a.Region, nil
}

func checkClusterARN(a arn.ARN) error {
	parts := strings.Split(a.Resource, "/")
	switch {
	case a.Service != "kafka":
		return fmt.Errorf("service %q is not kafka", a.Service)
	case a.Region == "":
		return errors.New("no region")
	case len(a.AccountID) != 12 || strings.Trim(a.AccountID, "0123456789") != "":
		return fmt.Errorf("account %q is not 12 digits", a.AccountID)
	case parts[0] != "cluster":
		return fmt.Errorf("resource %q is not a cluster", a.Resource)
	case len(parts) != 3 || parts[1] == "" || parts[2] == "":
		return fmt.Errorf("resource %q is not cluster/<name>/<uuid>", a.Resource)
	}
	return nil
}

func checkEndpoint(endpoint string) error {
	if endpoint == "" {
		return nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("MSK endpoint %q: want an http(s) URL such as https://kafka.us-east-1.amazonaws.com", endpoint)
	}
	return nil
}

func loadAWS(given *aws.Config, region string) (aws.Config, error) {
	if given != nil {
		return given.Copy(), nil
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(region))
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	return cfg, nil
}

// Name implements Provisioner.
func (m *MSK) Name() string { return "msk" }

// Describe implements Provisioner: DescribeClusterV2 for the state, the
// operation in progress, the broker count and the volume size, ListNodes
// for the broker ids (MSK's are not always 1..N), each given the
// cluster's volume.
func (m *MSK) Describe(ctx context.Context) (policy.Cluster, error) {
	c, err := m.refresh(ctx)
	if err != nil {
		return policy.Cluster{}, err
	}
	return c.policy(), nil
}

// refresh describes the cluster and keeps what it saw for the updates.
func (m *MSK) refresh(ctx context.Context) (mskCluster, error) {
	out, err := m.client.DescribeClusterV2(ctx, &kafka.DescribeClusterV2Input{ClusterArn: &m.arn})
	if err != nil {
		return mskCluster{}, fmt.Errorf("DescribeClusterV2: %w", err)
	}
	c, err := fromClusterV2(out.ClusterInfo)
	if err != nil {
		return mskCluster{}, fmt.Errorf("DescribeClusterV2 %s: %w", m.arn, err)
	}
	if c.brokers, err = m.brokerIDs(ctx); err != nil {
		return mskCluster{}, err
	}
	m.mu.Lock()
	m.last = c
	m.mu.Unlock()
	return c, nil
}

func fromClusterV2(info *types.Cluster) (mskCluster, error) {
	if info == nil {
		return mskCluster{}, errors.New("no clusterInfo in the answer")
	}
	p := info.Provisioned
	if info.ClusterType == types.ClusterTypeServerless || p == nil {
		return mskCluster{}, fmt.Errorf("a %s cluster has no brokers to scale (want PROVISIONED)", info.ClusterType)
	}
	c := mskCluster{
		state:     string(info.State),
		operation: aws.ToString(info.ActiveOperationArn),
		version:   aws.ToString(info.CurrentVersion),
		count:     int(aws.ToInt32(p.NumberOfBrokerNodes)),
	}
	if g := p.BrokerNodeGroupInfo; g != nil {
		c.zones = len(g.ClientSubnets)
		if g.StorageInfo != nil && g.StorageInfo.EbsStorageInfo != nil {
			c.volumeGiB = aws.ToInt32(g.StorageInfo.EbsStorageInfo.VolumeSize)
		}
	}
	return c, nil
}

// brokerIDs lists the cluster's broker ids, every page of ListNodes.
func (m *MSK) brokerIDs(ctx context.Context) ([]int32, error) {
	var ids []int32
	pages := kafka.NewListNodesPaginator(m.client, &kafka.ListNodesInput{ClusterArn: &m.arn})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListNodes: %w", err)
		}
		for _, n := range page.NodeInfoList {
			if n.BrokerNodeInfo == nil || n.BrokerNodeInfo.BrokerId == nil {
				continue // a controller or ZooKeeper node
			}
			id := *n.BrokerNodeInfo.BrokerId // a double in MSK's API
			if id != math.Trunc(id) || id < 0 || id > math.MaxInt32 {
				return nil, fmt.Errorf("ListNodes: broker id %v is not a Kafka broker id", id)
			}
			ids = append(ids, int32(id))
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (c mskCluster) policy() policy.Cluster {
	out := policy.Cluster{State: c.state, Brokers: c.count, Operation: c.operation}
	if c.volumeGiB > 0 {
		out.Provisioned = make(map[int32]int64, len(c.brokers))
		for _, id := range c.brokers {
			out.Provisioned[id] = int64(c.volumeGiB) * gib
		}
	}
	return out
}

// current is the last Describe's view, describing first if there was none.
func (m *MSK) current(ctx context.Context) (mskCluster, error) {
	m.mu.Lock()
	c := m.last
	m.mu.Unlock()
	if c.version != "" {
		return c, nil
	}
	return m.refresh(ctx)
}

// VolumeGiB is bytes as an MSK volume size: rounded up to a whole GiB, at
// least 1, at most MaxVolumeGiB.
func VolumeGiB(bytes int64) (int32, error) {
	if bytes <= 0 {
		return 0, fmt.Errorf("volume size %d bytes: want more than 0", bytes)
	}
	size := (bytes-1)/gib + 1
	if size > MaxVolumeGiB {
		return 0, fmt.Errorf("volume size %s rounds up to %d GiB, above MSK's per-broker maximum of %d GiB (16 TiB)",
			policy.FormatBytes(bytes), size, MaxVolumeGiB)
	}
	return int32(size), nil
}

// UpdateBrokerStorage implements Provisioner with MSK's
// UpdateBrokerStorage: every broker to bytes rounded up to a GiB.
func (m *MSK) UpdateBrokerStorage(ctx context.Context, brokers []int32, bytes int64) (string, error) {
	size, err := VolumeGiB(bytes)
	if err != nil {
		return "", fmt.Errorf("UpdateBrokerStorage: %w", err)
	}
	c, err := m.current(ctx)
	if err != nil {
		return "", err
	}
	if err := c.checkStorage(brokers, size); err != nil {
		return "", fmt.Errorf("UpdateBrokerStorage: %w", err)
	}
	out, err := m.client.UpdateBrokerStorage(ctx, &kafka.UpdateBrokerStorageInput{
		ClusterArn:     &m.arn,
		CurrentVersion: &c.version,
		TargetBrokerEBSVolumeInfo: []types.BrokerEBSVolumeInfo{
			{KafkaBrokerNodeId: aws.String(AllBrokers), VolumeSizeGB: &size},
		},
	})
	what := fmt.Sprintf("UpdateBrokerStorage to %d GiB", size)
	if err != nil {
		return "", m.refused(ctx, what, c.version, err)
	}
	return operationARN(what, out.ClusterOperationArn)
}

func (c mskCluster) checkStorage(brokers []int32, size int32) error {
	asked := slices.Compact(slices.Sorted(slices.Values(brokers)))
	switch {
	case c.volumeGiB == 0:
		return errors.New("the cluster has no EBS volumes to grow (Express brokers manage their own storage)")
	case size <= c.volumeGiB:
		return fmt.Errorf("%d GiB does not grow the brokers' %d GiB volumes (MSK only grows them)", size, c.volumeGiB)
	case !slices.Equal(asked, c.brokers):
		return fmt.Errorf("MSK grows every broker's volume together (KafkaBrokerNodeId %q): asked for broker(s) %v of %v (a per_broker policy cannot run on MSK)",
			AllBrokers, asked, c.brokers)
	}
	return nil
}

// UpdateBrokerCount implements Provisioner with MSK's UpdateBrokerCount.
// MSK moves no partitions (see MSK).
func (m *MSK) UpdateBrokerCount(ctx context.Context, count int) (string, error) {
	if count < 1 || count > math.MaxInt32 {
		return "", fmt.Errorf("UpdateBrokerCount: %d brokers: want at least 1", count)
	}
	c, err := m.current(ctx)
	if err != nil {
		return "", err
	}
	if err := c.checkCount(count); err != nil {
		return "", fmt.Errorf("UpdateBrokerCount: %w", err)
	}
	n := int32(count)
	out, err := m.client.UpdateBrokerCount(ctx, &kafka.UpdateBrokerCountInput{
		ClusterArn:                &m.arn,
		CurrentVersion:            &c.version,
		TargetNumberOfBrokerNodes: &n,
	})
	what := fmt.Sprintf("UpdateBrokerCount to %d", count)
	if err != nil {
		return "", m.refused(ctx, what, c.version, err)
	}
	return operationARN(what, out.ClusterOperationArn)
}

func (c mskCluster) checkCount(count int) error {
	switch {
	case count == c.count:
		return fmt.Errorf("the cluster already has %d brokers", count)
	case c.zones > 0 && count%c.zones != 0:
		return fmt.Errorf("%d brokers is not a multiple of the cluster's %d availability zones (MSK keeps as many brokers in each)", count, c.zones)
	}
	return nil
}

func operationARN(what string, id *string) (string, error) {
	if aws.ToString(id) == "" {
		return "", fmt.Errorf("%s: no clusterOperationArn in MSK's answer", what)
	}
	return *id, nil
}

// refused returns an update's error, wrapping ErrBusy when the cluster was
// busy: on 409 (ConflictException), and on 400 (BadRequestException) when
// a Describe shows the cluster not ACTIVE, running an operation or past
// version. It goes by the HTTP status, so an answer without MSK's
// x-amzn-ErrorType header (which the SDK reads the exception from) is
// judged the same.
func (m *MSK) refused(ctx context.Context, what, version string, err error) error {
	switch httpStatus(err) {
	case http.StatusConflict:
		return fmt.Errorf("%s: %w: %w", what, ErrBusy, err)
	case http.StatusBadRequest:
		now, derr := m.refresh(ctx)
		if derr != nil {
			return fmt.Errorf("%s: %w (describing the cluster to tell whether it was busy: %v)", what, err, derr)
		}
		if why := now.busy(version); why != "" {
			return fmt.Errorf("%s: %w (%s): %w", what, ErrBusy, why, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func httpStatus(err error) int {
	var r interface{ HTTPStatusCode() int }
	if errors.As(err, &r) {
		return r.HTTPStatusCode()
	}
	return 0
}

// busy says why the cluster cannot take an update made from version, or "".
func (c mskCluster) busy(version string) string {
	switch {
	case c.state != policy.Active:
		return "state " + c.state
	case c.operation != "":
		return "operation " + c.operation + " in progress"
	case c.version != version:
		return fmt.Sprintf("changed since it was described: version %s, now %s", version, c.version)
	}
	return ""
}

// Operation implements Provisioner with DescribeClusterOperationV2.
func (m *MSK) Operation(ctx context.Context, id string) (Operation, error) {
	out, err := m.client.DescribeClusterOperationV2(ctx, &kafka.DescribeClusterOperationV2Input{ClusterOperationArn: &id})
	if err != nil {
		return Operation{}, fmt.Errorf("DescribeClusterOperationV2 %s: %w", id, err)
	}
	info := out.ClusterOperationInfo
	if info == nil {
		return Operation{}, fmt.Errorf("DescribeClusterOperationV2 %s: no clusterOperationInfo in the answer", id)
	}
	return Operation{
		ID:    id,
		Type:  aws.ToString(info.OperationType),
		State: aws.ToString(info.OperationState),
		Error: errorInfo(info.ErrorInfo),
	}, nil
}

func errorInfo(e *types.ErrorInfo) string {
	if e == nil {
		return ""
	}
	code, msg := aws.ToString(e.ErrorCode), aws.ToString(e.ErrorString)
	switch {
	case code == "":
		return msg
	case msg == "":
		return code
	}
	return code + ": " + msg
}

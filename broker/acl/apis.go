package acl

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Scope says what a failed check costs a request.
type Scope int8

const (
	// Whole: the whole request fails with the check's error.
	Whole Scope = iota
	// Each: the check applies to each resource the request names; each
	// one refused gets the error, the others proceed.
	Each
	// Filtered: the check applies to each resource of a listing; the
	// refused ones are left out silently, so their names do not leak.
	Filtered
)

func (s Scope) String() string { return [...]string{"whole request", "each", "filtered"}[s] }

// Need is one permission: op on a resource of type Resource. The name is
// the cluster's for CLUSTER, else the one the request names. ByType
// means "on at least one resource of the type"
// (Authorizer.AuthorizeByResourceType).
type Need struct {
	Resource ResourceType
	Op       Operation
	ByType   bool
}

func (n Need) String() string {
	s := n.Resource.String() + " " + n.Op.String()
	if n.ByType {
		s += " (any " + strings.ToLower(n.Resource.String()) + ")"
	}
	return s
}

// Check is one authorization Kafka performs for a request: any one of
// AnyOf suffices.
type Check struct {
	AnyOf []Need
	Scope Scope
	// Err is the code a refusal gets (nil for Filtered).
	Err *kerr.Error
	// When limits the check to some requests ("" for all).
	When string
}

// API is the authorization of one request type, as Kafka's KafkaApis,
// ControllerApis, AclApis and ConfigHelper perform it.
type API struct {
	Key    int16
	Name   string
	Checks []Check
	// Notes are the rules the table cannot say (what is hidden, what
	// comes back in place of an error).
	Notes []string
}

func need(t ResourceType, op Operation) Need { return Need{Resource: t, Op: op} }

func one(t ResourceType, op Operation, scope Scope, err *kerr.Error) Check {
	return Check{AnyOf: []Need{need(t, op)}, Scope: scope, Err: err}
}

func (c Check) when(s string) Check { c.When = s; return c }

var (
	topicFailed   = kerr.TopicAuthorizationFailed
	groupFailed   = kerr.GroupAuthorizationFailed
	clusterFailed = kerr.ClusterAuthorizationFailed
	txnFailed     = kerr.TransactionalIDAuthorizationFailed
)

// APIs is the permission matrix: for each API the broker serves or will
// serve, the checks Kafka makes. The ACL enforcement and its test walk
// this table.
var APIs = []API{
	{Key: 0, Name: "Produce", Checks: []Check{
		one(ResourceTransactionalID, OpWrite, Whole, txnFailed).when("transactional records (a partition's first batch): refused too without a transactional id"),
		one(ResourceTopic, OpWrite, Each, topicFailed),
	}, Notes: []string{"a topic that is authorized but missing is UNKNOWN_TOPIC_OR_PARTITION"}},
	{Key: 1, Name: "Fetch", Checks: []Check{
		one(ResourceCluster, OpClusterAction, Whole, topicFailed).when("from a follower (replica id >= 0): every partition gets the error"),
		one(ResourceTopic, OpRead, Each, topicFailed).when("from a consumer"),
	}},
	{Key: 2, Name: "ListOffsets", Checks: []Check{one(ResourceTopic, OpDescribe, Each, topicFailed)}},
	{Key: 3, Name: "Metadata", Checks: []Check{
		one(ResourceTopic, OpDescribe, Filtered, nil).when("all topics (null list, or v0 empty list)"),
		one(ResourceTopic, OpDescribe, Each, topicFailed).when("named topics"),
		{AnyOf: []Need{need(ResourceCluster, OpCreate), need(ResourceTopic, OpCreate)}, Scope: Each, Err: topicFailed,
			When: "auto-creating a missing topic"},
	}, Notes: []string{
		"a named topic refused DESCRIBE is answered TOPIC_AUTHORIZATION_FAILED with the zero topic id and is_internal false, whether or not it exists",
		"topic ids are not secret: a topic asked for by id and refused gets its id back",
		"topic_authorized_operations and cluster_authorized_operations (v8+) are AuthorizedOperations; the cluster's only with CLUSTER DESCRIBE",
	}},
	{Key: 8, Name: "OffsetCommit", Checks: []Check{
		one(ResourceGroup, OpRead, Whole, groupFailed),
		one(ResourceTopic, OpRead, Each, topicFailed),
	}},
	{Key: 9, Name: "OffsetFetch", Checks: []Check{
		one(ResourceGroup, OpDescribe, Each, groupFailed),
		one(ResourceTopic, OpDescribe, Each, topicFailed).when("named topics"),
		one(ResourceTopic, OpDescribe, Filtered, nil).when("all topics (null list)"),
	}, Notes: []string{"v8+ names several groups, each checked on its own"}},
	{Key: 10, Name: "FindCoordinator", Checks: []Check{
		one(ResourceGroup, OpDescribe, Each, groupFailed).when("key type GROUP"),
		one(ResourceTransactionalID, OpDescribe, Each, txnFailed).when("key type TRANSACTION"),
	}},
	{Key: 11, Name: "JoinGroup", Checks: []Check{one(ResourceGroup, OpRead, Whole, groupFailed)}},
	{Key: 12, Name: "Heartbeat", Checks: []Check{one(ResourceGroup, OpRead, Whole, groupFailed)}},
	{Key: 13, Name: "LeaveGroup", Checks: []Check{one(ResourceGroup, OpRead, Whole, groupFailed)}},
	{Key: 14, Name: "SyncGroup", Checks: []Check{one(ResourceGroup, OpRead, Whole, groupFailed)}},
	{Key: 15, Name: "DescribeGroups", Checks: []Check{one(ResourceGroup, OpDescribe, Each, groupFailed)},
		Notes: []string{"authorized_operations (v3+) is AuthorizedOperations of the group"}},
	{Key: 16, Name: "ListGroups", Checks: []Check{
		{AnyOf: []Need{need(ResourceCluster, OpDescribe), need(ResourceGroup, OpDescribe)}, Scope: Filtered},
	}, Notes: []string{"CLUSTER DESCRIBE lists every group; without it, the groups the principal may DESCRIBE"}},
	{Key: 17, Name: "SaslHandshake", Notes: []string{"before authentication; after it, ILLEGAL_SASL_STATE unless re-authenticating"}},
	{Key: 18, Name: "ApiVersions", Notes: []string{"always allowed, before authentication too"}},
	{Key: 19, Name: "CreateTopics", Checks: []Check{
		{AnyOf: []Need{need(ResourceCluster, OpCreate), need(ResourceTopic, OpCreate)}, Scope: Each, Err: topicFailed},
		one(ResourceTopic, OpDescribeConfigs, Each, topicFailed).when("returning the new topic's configs (v5+): the refusal goes in topic_config_error_code, the topic is still created"),
	}},
	{Key: 20, Name: "DeleteTopics", Checks: []Check{
		one(ResourceTopic, OpDescribe, Each, topicFailed).when("named by id: the name is withheld"),
		one(ResourceTopic, OpDelete, Each, topicFailed),
	}, Notes: []string{"an id that names no topic is UNKNOWN_TOPIC_ID; a name refused DELETE is TOPIC_AUTHORIZATION_FAILED whether or not it exists"}},
	{Key: 21, Name: "DeleteRecords", Checks: []Check{one(ResourceTopic, OpDelete, Each, topicFailed)}},
	{Key: 22, Name: "InitProducerId", Checks: []Check{
		one(ResourceTransactionalID, OpWrite, Whole, txnFailed).when("with a transactional id"),
		{AnyOf: []Need{need(ResourceCluster, OpIdempotentWrite), {Resource: ResourceTopic, Op: OpWrite, ByType: true}},
			Scope: Whole, Err: clusterFailed, When: "without a transactional id (KIP-679)"},
	}},
	{Key: 23, Name: "OffsetForLeaderEpoch", Checks: []Check{
		{AnyOf: []Need{need(ResourceCluster, OpClusterAction), need(ResourceTopic, OpDescribe)}, Scope: Each, Err: topicFailed},
	}},
	{Key: 24, Name: "AddPartitionsToTxn", Checks: []Check{
		one(ResourceTransactionalID, OpWrite, Whole, txnFailed).when("v0-3"),
		one(ResourceTopic, OpWrite, Each, topicFailed).when("v0-3, internal topics never; the other partitions get OPERATION_NOT_ATTEMPTED (or UNKNOWN_TOPIC_OR_PARTITION) and nothing is added"),
		one(ResourceCluster, OpClusterAction, Whole, clusterFailed).when("v4+ (broker to broker)"),
	}},
	{Key: 25, Name: "AddOffsetsToTxn", Checks: []Check{
		one(ResourceTransactionalID, OpWrite, Whole, txnFailed),
		one(ResourceGroup, OpRead, Whole, groupFailed),
	}},
	{Key: 26, Name: "EndTxn", Checks: []Check{one(ResourceTransactionalID, OpWrite, Whole, txnFailed)}},
	{Key: 27, Name: "WriteTxnMarkers", Checks: []Check{
		{AnyOf: []Need{need(ResourceCluster, OpAlter), need(ResourceCluster, OpClusterAction)}, Scope: Whole, Err: clusterFailed},
	}, Notes: []string{"refused: every partition gets the error (Kafka 3.9 checks ALTER first, then CLUSTER_ACTION)"}},
	{Key: 28, Name: "TxnOffsetCommit", Checks: []Check{
		one(ResourceTransactionalID, OpWrite, Whole, txnFailed),
		one(ResourceGroup, OpRead, Whole, groupFailed),
		one(ResourceTopic, OpRead, Each, topicFailed),
	}},
	{Key: 29, Name: "DescribeAcls", Checks: []Check{one(ResourceCluster, OpDescribe, Whole, clusterFailed)},
		Notes: []string{"SECURITY_DISABLED when no authorizer is configured"}},
	{Key: 30, Name: "CreateAcls", Checks: []Check{one(ResourceCluster, OpAlter, Whole, clusterFailed)},
		Notes: []string{"SECURITY_DISABLED when no authorizer is configured"}},
	{Key: 31, Name: "DeleteAcls", Checks: []Check{one(ResourceCluster, OpAlter, Whole, clusterFailed)},
		Notes: []string{"SECURITY_DISABLED when no authorizer is configured"}},
	{Key: 32, Name: "DescribeConfigs", Checks: []Check{
		one(ResourceCluster, OpDescribeConfigs, Each, clusterFailed).when("BROKER and BROKER_LOGGER resources"),
		one(ResourceTopic, OpDescribeConfigs, Each, topicFailed).when("TOPIC resources"),
		one(ResourceGroup, OpDescribeConfigs, Each, groupFailed).when("GROUP resources"),
	}},
	{Key: 33, Name: "AlterConfigs", Checks: []Check{
		one(ResourceCluster, OpAlterConfigs, Each, clusterFailed).when("BROKER and BROKER_LOGGER resources"),
		one(ResourceTopic, OpAlterConfigs, Each, topicFailed).when("TOPIC resources"),
	}},
	{Key: 34, Name: "AlterReplicaLogDirs", Checks: []Check{one(ResourceCluster, OpAlter, Whole, clusterFailed)},
		Notes: []string{"refused: every partition gets the error"}},
	{Key: 35, Name: "DescribeLogDirs", Checks: []Check{one(ResourceCluster, OpDescribe, Whole, clusterFailed)}},
	{Key: 36, Name: "SaslAuthenticate", Notes: []string{"during authentication; after it, ILLEGAL_SASL_STATE"}},
	{Key: 37, Name: "CreatePartitions", Checks: []Check{one(ResourceTopic, OpAlter, Each, topicFailed)}},
	{Key: 42, Name: "DeleteGroups", Checks: []Check{one(ResourceGroup, OpDelete, Each, groupFailed)}},
	{Key: 43, Name: "ElectLeaders", Checks: []Check{one(ResourceCluster, OpAlter, Whole, clusterFailed)},
		Notes: []string{"refused: the top-level error and every partition's"}},
	{Key: 44, Name: "IncrementalAlterConfigs", Checks: []Check{
		one(ResourceCluster, OpAlterConfigs, Each, clusterFailed).when("BROKER and BROKER_LOGGER resources"),
		one(ResourceTopic, OpAlterConfigs, Each, topicFailed).when("TOPIC resources"),
		one(ResourceGroup, OpAlterConfigs, Each, groupFailed).when("GROUP resources"),
	}},
	{Key: 45, Name: "AlterPartitionReassignments", Checks: []Check{one(ResourceCluster, OpAlter, Whole, clusterFailed)}},
	{Key: 46, Name: "ListPartitionReassignments", Checks: []Check{one(ResourceCluster, OpDescribe, Whole, clusterFailed)}},
	{Key: 47, Name: "OffsetDelete", Checks: []Check{
		one(ResourceGroup, OpDelete, Whole, groupFailed),
		one(ResourceTopic, OpRead, Each, topicFailed),
	}},
	{Key: 50, Name: "DescribeUserScramCredentials", Checks: []Check{one(ResourceCluster, OpDescribe, Whole, clusterFailed)}},
	{Key: 51, Name: "AlterUserScramCredentials", Checks: []Check{one(ResourceCluster, OpAlter, Whole, clusterFailed)},
		Notes: []string{"refused: every user's result gets the error"}},
	{Key: 56, Name: "AlterPartition", Checks: []Check{one(ResourceCluster, OpClusterAction, Whole, clusterFailed)}},
	{Key: 57, Name: "UpdateFeatures", Checks: []Check{one(ResourceCluster, OpAlter, Whole, clusterFailed)},
		Notes: []string{"refused: the top-level error"}},
	{Key: 60, Name: "DescribeCluster", Notes: []string{"no check; cluster_authorized_operations only with CLUSTER DESCRIBE"}},
	{Key: 61, Name: "DescribeProducers", Checks: []Check{one(ResourceTopic, OpRead, Each, topicFailed)}},
	{Key: 62, Name: "BrokerRegistration", Checks: []Check{one(ResourceCluster, OpClusterAction, Whole, clusterFailed)}},
	{Key: 63, Name: "BrokerHeartbeat", Checks: []Check{one(ResourceCluster, OpClusterAction, Whole, clusterFailed)}},
	{Key: 64, Name: "UnregisterBroker", Checks: []Check{one(ResourceCluster, OpAlter, Whole, clusterFailed)}},
	{Key: 65, Name: "DescribeTransactions", Checks: []Check{
		one(ResourceTransactionalID, OpDescribe, Each, txnFailed),
		one(ResourceTopic, OpDescribe, Filtered, nil).when("a described transaction's partitions"),
	}},
	{Key: 66, Name: "ListTransactions", Checks: []Check{one(ResourceTransactionalID, OpDescribe, Filtered, nil)}},
	{Key: 67, Name: "AllocateProducerIds", Checks: []Check{one(ResourceCluster, OpClusterAction, Whole, clusterFailed)}},
	{Key: 68, Name: "ConsumerGroupHeartbeat", Checks: []Check{one(ResourceGroup, OpRead, Whole, groupFailed)}},
	{Key: 69, Name: "ConsumerGroupDescribe", Checks: []Check{one(ResourceGroup, OpDescribe, Each, groupFailed)},
		Notes: []string{"authorized_operations is AuthorizedOperations of the group"}},
}

// ForKey returns the authorization of an API key.
func ForKey(key int16) (API, bool) {
	for _, a := range APIs {
		if a.Key == key {
			return a, true
		}
	}
	return API{}, false
}

func (a API) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", a.Key, a.Name)
	if len(a.Checks) == 0 {
		b.WriteString(": no ACL check")
	}
	b.WriteString("\n")
	for _, c := range a.Checks {
		needs := make([]string, len(c.AnyOf))
		for i, n := range c.AnyOf {
			needs[i] = n.String()
		}
		fmt.Fprintf(&b, "  %s: %s", strings.Join(needs, " or "), c.Scope)
		if c.Err != nil {
			fmt.Fprintf(&b, " %s", c.Err.Message)
		}
		if c.When != "" {
			fmt.Fprintf(&b, ", when %s", c.When)
		}
		b.WriteString("\n")
	}
	for _, n := range a.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	return b.String()
}

// SupportedOperations are the operations that mean something on a
// resource type (Kafka's AclEntry.supportedOperations), the ones
// AuthorizedOperations reports on.
func SupportedOperations(t ResourceType) []Operation {
	switch t {
	case ResourceTopic:
		return []Operation{OpRead, OpWrite, OpCreate, OpDescribe, OpDelete, OpAlter, OpDescribeConfigs, OpAlterConfigs}
	case ResourceGroup:
		return []Operation{OpRead, OpDescribe, OpDelete, OpDescribeConfigs, OpAlterConfigs}
	case ResourceCluster:
		return []Operation{OpCreate, OpClusterAction, OpDescribeConfigs, OpAlterConfigs, OpIdempotentWrite, OpAlter, OpDescribe}
	case ResourceTransactionalID:
		return []Operation{OpDescribe, OpWrite}
	case ResourceDelegationToken:
		return []Operation{OpDescribe}
	case ResourceUser:
		return []Operation{OpCreateTokens, OpDescribeTokens}
	}
	return nil
}

// AuthorizedOperations is KIP-430's bit field for a resource: bit op set
// for each supported operation principal may perform on it (Metadata's
// topic and cluster authorized operations, DescribeGroups',
// ConsumerGroupDescribe's, DescribeCluster's).
func (a *Authorizer) AuthorizedOperations(principal, host string, t ResourceType, name string) int32 {
	var bits int32
	for _, op := range SupportedOperations(t) {
		if a.Allowed(principal, host, op, t, name) {
			bits |= 1 << op
		}
	}
	return bits
}

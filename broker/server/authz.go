package server

import (
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/acl"
	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/protocol"
	"github.com/weirhq/weir/broker/quorum"
)

// handleSecurity serves the security APIs (SASL on a listener without
// it, the ACL and SCRAM admin APIs) and, when an authorizer is
// configured, authorizes every other request before its handler runs.
// ok=false: dispatch as usual.
func (b *Broker) handleSecurity(s *session, req protocol.Request) (resp kmsg.Response, closeErr error, ok bool) {
	if b.authz != nil {
		if resp, closeErr, ok := b.authorize(s, req); ok {
			return resp, closeErr, true
		}
	}
	switch body := req.Body.(type) {
	case *kmsg.SASLHandshakeRequest, *kmsg.SASLAuthenticateRequest:
		return handleSaslOffListener(req), nil, true
	case *kmsg.DescribeACLsRequest:
		return b.handleDescribeACLs(body), nil, true
	case *kmsg.CreateACLsRequest:
		return b.handleCreateACLs(body), nil, true
	case *kmsg.DeleteACLsRequest:
		return b.handleDeleteACLs(body), nil, true
	case *kmsg.DescribeUserSCRAMCredentialsRequest:
		return b.handleDescribeUserSCRAMCredentials(body), nil, true
	case *kmsg.AlterUserSCRAMCredentialsRequest:
		return b.handleAlterUserSCRAMCredentials(body), nil, true
	}
	return nil, nil, false
}

// The authorization of each request, as acl.APIs lists Kafka's checks.
// A refusal of the whole request is answered with the API's error in its
// response; a refusal of some resources takes them out of the request
// before the handler runs and adds them to its response with the error
// (so the handlers never see what the principal may not touch); listings
// are filtered afterwards. A topic the principal may not DESCRIBE is
// TOPIC_AUTHORIZATION_FAILED whether or not it exists: names do not leak.
// The transaction APIs are in authz_txn.go.

// authz is one request's authorization context.
type authz struct {
	b   *Broker
	a   *acl.Authorizer
	s   *session
	img *quorum.Image
}

func (z authz) ok(op acl.Operation, t acl.ResourceType, name string) bool {
	return z.a.Allowed(z.s.principal, z.s.host, op, t, name)
}
func (z authz) topic(op acl.Operation, name string) bool { return z.ok(op, acl.ResourceTopic, name) }
func (z authz) group(op acl.Operation, name string) bool { return z.ok(op, acl.ResourceGroup, name) }
func (z authz) txnID(op acl.Operation, id string) bool {
	return z.ok(op, acl.ResourceTransactionalID, id)
}
func (z authz) cluster(op acl.Operation) bool {
	return z.ok(op, acl.ResourceCluster, acl.ClusterName)
}
func (z authz) ops(t acl.ResourceType, name string) int32 {
	return z.a.AuthorizedOperations(z.s.principal, z.s.host, t, name)
}

// topicName resolves a topic named by id ("" when no topic has it).
func (z authz) topicName(name *string, id [16]byte) string {
	if name != nil && *name != "" {
		return *name
	}
	if t, ok := z.img.TopicByID(quorum.TopicID(id)); ok {
		return t.Name
	}
	return ""
}

// unauthorizedOps is KIP-430's "not requested" value.
const unauthorizedOps = math.MinInt32

var (
	topicDenied   = kerr.TopicAuthorizationFailed.Code
	groupDenied   = kerr.GroupAuthorizationFailed.Code
	clusterDenied = kerr.ClusterAuthorizationFailed.Code
	txnDenied     = kerr.TransactionalIDAuthorizationFailed.Code
)

// pass lets a request be dispatched as usual.
func pass() (kmsg.Response, error, bool) { return nil, nil, false }

// split divides items into those allowed and those refused, in order
// (kept is non-nil when items is: a nil list means "all" to some APIs).
func split[T any](items []T, allowed func(T) bool) (kept, refused []T) {
	kept = items[:0:0]
	for _, it := range items {
		if allowed(it) {
			kept = append(kept, it)
		} else {
			refused = append(refused, it)
		}
	}
	return kept, refused
}

// serveRest is the per-resource refusal: the items of *items not allowed
// are taken out of the request, handle answers the rest, and each refused
// item's answer (refusal) is appended to the response's list (out).
// Nothing refused: dispatch as usual.
func serveRest[T, A any, R kmsg.Response](items *[]T, allowed func(T) bool, handle func() kmsg.Response,
	out func(R) *[]A, refusal func(T) A) (kmsg.Response, error, bool) {
	kept, refused := split(*items, allowed)
	if len(refused) == 0 {
		return pass()
	}
	*items = kept
	resp := handle().(R)
	list := out(resp)
	for _, it := range refused {
		*list = append(*list, refusal(it))
	}
	return resp, nil, true
}

// each maps a request's list to its answer's.
func each[T, A any](items []T, answer func(T) A) []A {
	out := make([]A, 0, len(items))
	for _, it := range items {
		out = append(out, answer(it))
	}
	return out
}

// clusterChecks are the requests refused whole without the one cluster
// operation each needs.
var clusterChecks = map[int16]acl.Operation{
	35: acl.OpDescribe, 46: acl.OpDescribe, 29: acl.OpDescribe, 50: acl.OpDescribe,
	43: acl.OpAlter, 45: acl.OpAlter, 57: acl.OpAlter, 64: acl.OpAlter, 30: acl.OpAlter, 31: acl.OpAlter, 51: acl.OpAlter,
	56: acl.OpClusterAction, 62: acl.OpClusterAction, 63: acl.OpClusterAction, 67: acl.OpClusterAction,
}

// groupChecks are the requests refused whole without READ on their
// group (the coordinator's membership APIs).
var groupChecks = map[int16]func(kmsg.Request) string{
	11: func(r kmsg.Request) string { return r.(*kmsg.JoinGroupRequest).Group },
	12: func(r kmsg.Request) string { return r.(*kmsg.HeartbeatRequest).Group },
	13: func(r kmsg.Request) string { return r.(*kmsg.LeaveGroupRequest).Group },
	14: func(r kmsg.Request) string { return r.(*kmsg.SyncGroupRequest).Group },
	68: func(r kmsg.Request) string { return r.(*kmsg.ConsumerGroupHeartbeatRequest).Group },
}

// authorize answers req itself when authorization changes its answer
// (ok=true), else lets it be dispatched as usual.
func (b *Broker) authorize(s *session, req protocol.Request) (kmsg.Response, error, bool) {
	img := b.node.Image()
	b.authz.Follow(img.ACLs)
	z := authz{b: b, a: b.authz, s: s, img: img}
	if op, ok := clusterChecks[req.Key]; ok {
		return z.whole(req.Body, z.cluster(op), clusterDenied)
	}
	if group, ok := groupChecks[req.Key]; ok {
		return z.whole(req.Body, z.group(acl.OpRead, group(req.Body)), groupDenied)
	}
	switch r := req.Body.(type) {
	case *kmsg.ApiVersionsRequest, *kmsg.SASLHandshakeRequest, *kmsg.SASLAuthenticateRequest:
		return pass()
	case *kmsg.ProduceRequest:
		return z.produce(r)
	case *kmsg.FetchRequest:
		return z.fetch(r)
	case *kmsg.ListOffsetsRequest:
		return z.listOffsets(r)
	case *kmsg.DescribeProducersRequest:
		return z.describeProducers(r)
	case *kmsg.MetadataRequest:
		return z.metadata(r)
	case *kmsg.OffsetCommitRequest:
		if !z.group(acl.OpRead, r.Group) {
			return z.refuse(r, groupDenied)
		}
		return z.offsetCommit(r)
	case *kmsg.OffsetFetchRequest:
		return z.offsetFetch(r)
	case *kmsg.FindCoordinatorRequest:
		return z.findCoordinator(r)
	case *kmsg.DescribeGroupsRequest:
		return z.describeGroups(r)
	case *kmsg.ConsumerGroupDescribeRequest:
		return z.consumerGroupDescribe(r)
	case *kmsg.ListGroupsRequest:
		resp := b.dispatch(req).(*kmsg.ListGroupsResponse)
		if !z.cluster(acl.OpDescribe) {
			resp.Groups, _ = split(resp.Groups, func(g kmsg.ListGroupsResponseGroup) bool { return z.group(acl.OpDescribe, g.Group) })
		}
		return resp, nil, true
	case *kmsg.DeleteGroupsRequest:
		return z.deleteGroups(r)
	case *kmsg.OffsetDeleteRequest:
		if !z.group(acl.OpDelete, r.Group) {
			return z.refuse(r, groupDenied)
		}
		return z.offsetDelete(r)
	case *kmsg.CreateTopicsRequest:
		return z.createTopics(r)
	case *kmsg.DeleteTopicsRequest:
		return z.deleteTopics(r)
	case *kmsg.DeleteRecordsRequest:
		return z.deleteRecords(r)
	case *kmsg.CreatePartitionsRequest:
		return z.createPartitions(r)
	case *kmsg.OffsetForLeaderEpochRequest:
		return z.offsetForLeaderEpoch(r)
	case *kmsg.DescribeConfigsRequest:
		return z.describeConfigs(r)
	case *kmsg.AlterConfigsRequest:
		return z.alterConfigs(r)
	case *kmsg.IncrementalAlterConfigsRequest:
		return z.incrementalAlterConfigs(r)
	case *kmsg.InitProducerIDRequest:
		return z.initProducerID(r)
	case *kmsg.AddPartitionsToTxnRequest:
		return z.addPartitionsToTxn(r)
	case *kmsg.AddOffsetsToTxnRequest:
		return z.addOffsetsToTxn(r)
	case *kmsg.EndTxnRequest:
		return z.whole(r, z.txnID(acl.OpWrite, r.TransactionalID), txnDenied)
	case *kmsg.WriteTxnMarkersRequest:
		return z.whole(r, z.cluster(acl.OpAlter) || z.cluster(acl.OpClusterAction), clusterDenied)
	case *kmsg.TxnOffsetCommitRequest:
		return z.txnOffsetCommit(r)
	case *kmsg.DescribeTransactionsRequest:
		return z.describeTransactions(r)
	case *kmsg.ListTransactionsRequest:
		return z.listTransactions(r)
	case *kmsg.DescribeClusterRequest:
		resp := b.dispatch(req).(*kmsg.DescribeClusterResponse)
		b.localizeEndpoints(s, resp)
		if r.IncludeClusterAuthorizedOperations && z.cluster(acl.OpDescribe) {
			resp.ClusterAuthorizedOperations = z.ops(acl.ResourceCluster, acl.ClusterName)
		}
		return resp, nil, true
	}
	// An API with no authorization here: super users only, the
	// connection closed for others (acl.APIs and the permission-matrix
	// test keep this unreachable for the APIs the broker serves).
	if z.a.IsSuperUser(s.principal) {
		return pass()
	}
	return nil, fmt.Errorf("%s is not authorized for %s (no ACL check is wired for it)", s.principal, kmsg.NameForKey(req.Key)), true
}

// whole refuses the whole request with code unless allowed.
func (z authz) whole(r kmsg.Request, allowed bool, code int16) (kmsg.Response, error, bool) {
	if allowed {
		return pass()
	}
	return z.refuse(r, code)
}

// refuse answers the whole request with code, as Kafka's
// getErrorResponse does: the top-level error where the response has
// one, else every resource the request names.
func (z authz) refuse(req kmsg.Request, code int16) (kmsg.Response, error, bool) {
	if resp := errorResponse(req, code); resp != nil {
		return resp, nil, true
	}
	return nil, fmt.Errorf("refused %s: %s", kmsg.NameForKey(req.Key()), kerr.ErrorForCode(code)), true
}

// hasTransactionalRecords is Kafka's RequestUtils.hasTransactionalRecords:
// the first batch of some partition is transactional.
func hasTransactionalRecords(r *kmsg.ProduceRequest) bool {
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			if h, err := wlog.ParseBatchHeader(p.Records); err == nil && h.Magic == 2 && h.Transactional() {
				return true
			}
		}
	}
	return false
}

// produce: transactional records need WRITE on the transactional id
// (the whole request), then each topic WRITE.
func (z authz) produce(r *kmsg.ProduceRequest) (kmsg.Response, error, bool) {
	if hasTransactionalRecords(r) && (r.TransactionID == nil || !z.txnID(acl.OpWrite, *r.TransactionID)) {
		if r.Acks == 0 {
			return nil, fmt.Errorf("acks=0 produce refused: %s", kerr.TransactionalIDAuthorizationFailed), true
		}
		return z.refuse(r, txnDenied)
	}
	kept, refused := split(r.Topics, func(t kmsg.ProduceRequestTopic) bool { return z.topic(acl.OpWrite, t.Topic) })
	if len(refused) == 0 {
		return pass()
	}
	if r.Acks == 0 {
		// No response to carry the error: Kafka closes the connection.
		return nil, fmt.Errorf("acks=0 produce refused: %s", kerr.TopicAuthorizationFailed), true
	}
	r.Topics = kept
	var resp *kmsg.ProduceResponse
	if len(kept) > 0 {
		out, err := z.b.handleProduce(r)
		if err != nil || out == nil {
			return out, err, true
		}
		resp = out.(*kmsg.ProduceResponse)
	} else {
		resp = r.ResponseKind().(*kmsg.ProduceResponse)
	}
	for _, t := range refused {
		resp.Topics = append(resp.Topics, produceRefused(topicDenied)(t))
	}
	return resp, nil, true
}

func (z authz) fetch(r *kmsg.FetchRequest) (kmsg.Response, error, bool) {
	if replicaID(r) >= 0 {
		return z.whole(r, z.cluster(acl.OpClusterAction), topicDenied)
	}
	return serveRest(&r.Topics, func(t kmsg.FetchRequestTopic) bool {
		name := t.Topic
		if r.Version >= 13 {
			name = z.topicName(nil, t.TopicID)
		}
		return name == "" || z.topic(acl.OpRead, name)
	}, func() kmsg.Response { return z.b.handleFetch(r, z.s.files) },
		func(p *kmsg.FetchResponse) *[]kmsg.FetchResponseTopic { return &p.Topics },
		fetchRefused(topicDenied))
}

func (z authz) listOffsets(r *kmsg.ListOffsetsRequest) (kmsg.Response, error, bool) {
	return serveRest(&r.Topics, func(t kmsg.ListOffsetsRequestTopic) bool { return z.topic(acl.OpDescribe, t.Topic) },
		func() kmsg.Response { return z.b.handleListOffsets(r) },
		func(p *kmsg.ListOffsetsResponse) *[]kmsg.ListOffsetsResponseTopic { return &p.Topics },
		listOffsetsRefused(topicDenied))
}

// describeProducers needs READ on each topic, as Kafka's
// handleDescribeProducersRequest: refused topics answer
// TOPIC_AUTHORIZATION_FAILED on every partition named.
func (z authz) describeProducers(r *kmsg.DescribeProducersRequest) (kmsg.Response, error, bool) {
	return serveRest(&r.Topics, func(t kmsg.DescribeProducersRequestTopic) bool { return z.topic(acl.OpRead, t.Topic) },
		func() kmsg.Response { return z.b.handleDescribeProducers(r) },
		func(p *kmsg.DescribeProducersResponse) *[]kmsg.DescribeProducersResponseTopic { return &p.Topics },
		describeProducersRefused(topicDenied))
}

func (z authz) offsetCommit(r *kmsg.OffsetCommitRequest) (kmsg.Response, error, bool) {
	return serveRest(&r.Topics, func(t kmsg.OffsetCommitRequestTopic) bool { return z.topic(acl.OpRead, t.Topic) },
		func() kmsg.Response { return z.b.handleOffsetCommit(r) },
		func(p *kmsg.OffsetCommitResponse) *[]kmsg.OffsetCommitResponseTopic { return &p.Topics },
		offsetCommitRefused(topicDenied))
}

func (z authz) findCoordinator(r *kmsg.FindCoordinatorRequest) (kmsg.Response, error, bool) {
	rt, code := acl.ResourceGroup, groupDenied
	if r.CoordinatorType == 1 {
		rt, code = acl.ResourceTransactionalID, txnDenied
	}
	if r.Version < 4 {
		return z.whole(r, z.ok(acl.OpDescribe, rt, r.CoordinatorKey), code)
	}
	resp, closeErr, ok := serveRest(&r.CoordinatorKeys, func(k string) bool { return z.ok(acl.OpDescribe, rt, k) },
		func() kmsg.Response { return z.b.handleFindCoordinator(r) },
		func(p *kmsg.FindCoordinatorResponse) *[]kmsg.FindCoordinatorResponseCoordinator {
			return &p.Coordinators
		},
		coordinatorRefused(code))
	if ok {
		z.b.localizeEndpoints(z.s, resp)
	}
	return resp, closeErr, ok
}

// describeGroups and consumerGroupDescribe always answer here: the
// authorized operations are filled in whether or not a group is refused.
func (z authz) describeGroups(r *kmsg.DescribeGroupsRequest) (kmsg.Response, error, bool) {
	kept, refused := split(r.Groups, func(g string) bool { return z.group(acl.OpDescribe, g) })
	r.Groups = kept
	resp := z.b.handleDescribeGroups(r).(*kmsg.DescribeGroupsResponse)
	if r.IncludeAuthorizedOperations {
		for i := range resp.Groups {
			resp.Groups[i].AuthorizedOperations = z.ops(acl.ResourceGroup, resp.Groups[i].Group)
		}
	}
	resp.Groups = append(resp.Groups, each(refused, describeGroupRefused(groupDenied))...)
	return resp, nil, true
}

func (z authz) consumerGroupDescribe(r *kmsg.ConsumerGroupDescribeRequest) (kmsg.Response, error, bool) {
	kept, refused := split(r.Groups, func(g string) bool { return z.group(acl.OpDescribe, g) })
	r.Groups = kept
	resp := z.b.handleConsumerGroupDescribe(r).(*kmsg.ConsumerGroupDescribeResponse)
	if r.IncludeAuthorizedOperations {
		for i := range resp.Groups {
			resp.Groups[i].AuthorizedOperations = z.ops(acl.ResourceGroup, resp.Groups[i].Group)
		}
	}
	resp.Groups = append(resp.Groups, each(refused, consumerGroupDescribeRefused(groupDenied))...)
	return resp, nil, true
}

func (z authz) deleteGroups(r *kmsg.DeleteGroupsRequest) (kmsg.Response, error, bool) {
	return serveRest(&r.Groups, func(g string) bool { return z.group(acl.OpDelete, g) },
		func() kmsg.Response { return z.b.handleDeleteGroups(r) },
		func(p *kmsg.DeleteGroupsResponse) *[]kmsg.DeleteGroupsResponseGroup { return &p.Groups },
		deleteGroupRefused(groupDenied))
}

func (z authz) offsetDelete(r *kmsg.OffsetDeleteRequest) (kmsg.Response, error, bool) {
	return serveRest(&r.Topics, func(t kmsg.OffsetDeleteRequestTopic) bool { return z.topic(acl.OpRead, t.Topic) },
		func() kmsg.Response { return z.b.handleOffsetDelete(r) },
		func(p *kmsg.OffsetDeleteResponse) *[]kmsg.OffsetDeleteResponseTopic { return &p.Topics },
		offsetDeleteRefused(topicDenied))
}

func (z authz) createTopics(r *kmsg.CreateTopicsRequest) (kmsg.Response, error, bool) {
	clusterCreate := z.cluster(acl.OpCreate)
	return serveRest(&r.Topics, func(t kmsg.CreateTopicsRequestTopic) bool { return clusterCreate || z.topic(acl.OpCreate, t.Topic) },
		func() kmsg.Response { return z.b.handleCreateTopics(r) },
		func(p *kmsg.CreateTopicsResponse) *[]kmsg.CreateTopicsResponseTopic { return &p.Topics },
		createTopicRefused(topicDenied))
}

func (z authz) deleteRecords(r *kmsg.DeleteRecordsRequest) (kmsg.Response, error, bool) {
	return serveRest(&r.Topics, func(t kmsg.DeleteRecordsRequestTopic) bool { return z.topic(acl.OpDelete, t.Topic) },
		func() kmsg.Response { return z.b.handleDeleteRecords(r) },
		func(p *kmsg.DeleteRecordsResponse) *[]kmsg.DeleteRecordsResponseTopic { return &p.Topics },
		deleteRecordsRefused(topicDenied))
}

func (z authz) createPartitions(r *kmsg.CreatePartitionsRequest) (kmsg.Response, error, bool) {
	return serveRest(&r.Topics, func(t kmsg.CreatePartitionsRequestTopic) bool { return z.topic(acl.OpAlter, t.Topic) },
		func() kmsg.Response { return z.b.handleCreatePartitions(r) },
		func(p *kmsg.CreatePartitionsResponse) *[]kmsg.CreatePartitionsResponseTopic { return &p.Topics },
		createPartitionsRefused(topicDenied))
}

func (z authz) offsetForLeaderEpoch(r *kmsg.OffsetForLeaderEpochRequest) (kmsg.Response, error, bool) {
	if z.cluster(acl.OpClusterAction) {
		return pass()
	}
	return serveRest(&r.Topics, func(t kmsg.OffsetForLeaderEpochRequestTopic) bool { return z.topic(acl.OpDescribe, t.Topic) },
		func() kmsg.Response { return z.b.handleOffsetForLeaderEpoch(r) },
		func(p *kmsg.OffsetForLeaderEpochResponse) *[]kmsg.OffsetForLeaderEpochResponseTopic { return &p.Topics },
		offsetForLeaderEpochRefused(topicDenied))
}

func (z authz) describeConfigs(r *kmsg.DescribeConfigsRequest) (kmsg.Response, error, bool) {
	return serveRest(&r.Resources, func(res kmsg.DescribeConfigsRequestResource) bool {
		return z.configResource(res.ResourceType, res.ResourceName, true) == 0
	}, func() kmsg.Response { return z.b.handleDescribeConfigs(r) },
		func(p *kmsg.DescribeConfigsResponse) *[]kmsg.DescribeConfigsResponseResource { return &p.Resources },
		func(res kmsg.DescribeConfigsRequestResource) kmsg.DescribeConfigsResponseResource {
			return describeConfigsRefused(res, z.configResource(res.ResourceType, res.ResourceName, true))
		})
}

func (z authz) alterConfigs(r *kmsg.AlterConfigsRequest) (kmsg.Response, error, bool) {
	return serveRest(&r.Resources, func(res kmsg.AlterConfigsRequestResource) bool {
		return z.configResource(res.ResourceType, res.ResourceName, false) == 0
	}, func() kmsg.Response { return z.b.handleAlterConfigs(r) },
		func(p *kmsg.AlterConfigsResponse) *[]kmsg.AlterConfigsResponseResource { return &p.Resources },
		func(res kmsg.AlterConfigsRequestResource) kmsg.AlterConfigsResponseResource {
			return alterConfigsRefused(res, z.configResource(res.ResourceType, res.ResourceName, false))
		})
}

func (z authz) incrementalAlterConfigs(r *kmsg.IncrementalAlterConfigsRequest) (kmsg.Response, error, bool) {
	return serveRest(&r.Resources, func(res kmsg.IncrementalAlterConfigsRequestResource) bool {
		return z.configResource(res.ResourceType, res.ResourceName, false) == 0
	}, func() kmsg.Response { return z.b.handleIncrementalAlterConfigs(r) },
		func(p *kmsg.IncrementalAlterConfigsResponse) *[]kmsg.IncrementalAlterConfigsResponseResource {
			return &p.Resources
		},
		func(res kmsg.IncrementalAlterConfigsRequestResource) kmsg.IncrementalAlterConfigsResponseResource {
			return incrementalAlterConfigsRefused(res, z.configResource(res.ResourceType, res.ResourceName, false))
		})
}

func (z authz) metadata(r *kmsg.MetadataRequest) (kmsg.Response, error, bool) {
	all := r.Topics == nil || (r.Version == 0 && len(r.Topics) == 0)
	autoCreate := z.b.cfg.AutoCreateTopics && (r.Version < 4 || r.AllowAutoTopicCreation)
	var refused []kmsg.MetadataRequestTopic
	if !all {
		kept := r.Topics[:0:0]
		for _, t := range r.Topics {
			name := z.topicName(t.Topic, t.TopicID)
			_, exists := z.img.Topic(name)
			switch {
			case name == "" && t.Topic == nil: // an unknown id: the handler answers UNKNOWN_TOPIC_ID
				kept = append(kept, t)
			case !z.topic(acl.OpDescribe, name):
				refused = append(refused, t)
			case !exists && autoCreate && !z.cluster(acl.OpCreate) && !z.topic(acl.OpCreate, name):
				refused = append(refused, t)
			default:
				kept = append(kept, t)
			}
		}
		r.Topics = kept
		if r.Version == 0 && len(kept) == 0 && len(refused) > 0 {
			r.Topics = []kmsg.MetadataRequestTopic{} // stays "named" below: every topic is dropped
		}
	}
	resp := z.b.handleMetadata(r).(*kmsg.MetadataResponse)
	z.b.localizeEndpoints(z.s, resp)
	topics := resp.Topics[:0]
	for _, t := range resp.Topics {
		name := z.topicName(t.Topic, t.TopicID)
		if name != "" && !z.topic(acl.OpDescribe, name) {
			continue
		}
		if r.IncludeTopicAuthorizedOperations && name != "" {
			t.AuthorizedOperations = z.ops(acl.ResourceTopic, name)
		}
		topics = append(topics, t)
	}
	if r.Version == 0 && len(r.Topics) == 0 && !all {
		topics = topics[:0]
	}
	for _, t := range refused {
		rt := kmsg.NewMetadataResponseTopic()
		rt.ErrorCode, rt.Topic, rt.AuthorizedOperations = topicDenied, t.Topic, unauthorizedOps
		if t.Topic == nil {
			rt.TopicID = t.TopicID // ids are not secret; the name is
		}
		rt.Partitions = []kmsg.MetadataResponseTopicPartition{}
		topics = append(topics, rt)
	}
	resp.Topics = topics
	if r.IncludeClusterAuthorizedOperations && z.cluster(acl.OpDescribe) {
		resp.AuthorizedOperations = z.ops(acl.ResourceCluster, acl.ClusterName)
	}
	return resp, nil, true
}

func (z authz) offsetFetch(r *kmsg.OffsetFetchRequest) (kmsg.Response, error, bool) {
	if r.Version < 8 {
		if !z.group(acl.OpDescribe, r.Group) {
			resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
			resp.ErrorCode = groupDenied
			return resp, nil, true
		}
		named := r.Topics != nil
		resp := z.b.handleOffsetFetch(r).(*kmsg.OffsetFetchResponse)
		kept := resp.Topics[:0]
		for _, t := range resp.Topics {
			if !z.topic(acl.OpDescribe, t.Topic) {
				if !named {
					continue
				}
				for i := range t.Partitions {
					t.Partitions[i].ErrorCode, t.Partitions[i].Offset = topicDenied, -1
				}
			}
			kept = append(kept, t)
		}
		resp.Topics = kept
		return resp, nil, true
	}
	var refused []string
	named := map[string]bool{}
	kept := r.Groups[:0:0]
	for _, g := range r.Groups {
		if z.group(acl.OpDescribe, g.Group) {
			kept = append(kept, g)
			named[g.Group] = g.Topics != nil
		} else {
			refused = append(refused, g.Group)
		}
	}
	r.Groups = kept
	resp := z.b.handleOffsetFetch(r).(*kmsg.OffsetFetchResponse)
	for gi := range resp.Groups {
		g := &resp.Groups[gi]
		topics := g.Topics[:0]
		for _, t := range g.Topics {
			if !z.topic(acl.OpDescribe, t.Topic) {
				if !named[g.Group] {
					continue
				}
				for i := range t.Partitions {
					t.Partitions[i].ErrorCode, t.Partitions[i].Offset = topicDenied, -1
				}
			}
			topics = append(topics, t)
		}
		g.Topics = topics
	}
	for _, name := range refused {
		g := kmsg.NewOffsetFetchResponseGroup()
		g.Group, g.ErrorCode = name, groupDenied
		resp.Groups = append(resp.Groups, g)
	}
	return resp, nil, true
}

func (z authz) deleteTopics(r *kmsg.DeleteTopicsRequest) (kmsg.Response, error, bool) {
	var refused []kmsg.DeleteTopicsResponseTopic
	if r.Version < 6 {
		kept := r.TopicNames[:0:0]
		for _, n := range r.TopicNames {
			if z.topic(acl.OpDelete, n) {
				kept = append(kept, n)
			} else {
				rt := kmsg.NewDeleteTopicsResponseTopic()
				rt.Topic, rt.ErrorCode = strPtr(n), topicDenied
				refused = append(refused, rt)
			}
		}
		r.TopicNames = kept
	} else {
		kept := r.Topics[:0:0]
		for _, t := range r.Topics {
			name := z.topicName(t.Topic, t.TopicID)
			switch {
			case name == "": // an unknown id: the handler answers UNKNOWN_TOPIC_ID
				kept = append(kept, t)
			case t.Topic == nil && !z.topic(acl.OpDescribe, name):
				rt := kmsg.NewDeleteTopicsResponseTopic()
				rt.TopicID, rt.ErrorCode = t.TopicID, topicDenied
				refused = append(refused, rt)
			case !z.topic(acl.OpDelete, name):
				rt := kmsg.NewDeleteTopicsResponseTopic()
				rt.Topic, rt.TopicID, rt.ErrorCode = t.Topic, t.TopicID, topicDenied
				if t.Topic == nil {
					rt.Topic = strPtr(name) // DESCRIBE allowed: the name may be told
				}
				refused = append(refused, rt)
			default:
				kept = append(kept, t)
			}
		}
		r.Topics = kept
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	resp := z.b.handleDeleteTopics(r).(*kmsg.DeleteTopicsResponse)
	resp.Topics = append(resp.Topics, refused...)
	return resp, nil, true
}

// configResource is the check of a config resource (Kafka's
// ConfigResource types: TOPIC 2, BROKER 4, BROKER_LOGGER 8, GROUP 32).
func (z authz) configResource(t kmsg.ConfigResourceType, name string, describe bool) int16 {
	op := acl.OpAlterConfigs
	if describe {
		op = acl.OpDescribeConfigs
	}
	switch t {
	case kmsg.ConfigResourceTypeTopic:
		if !z.topic(op, name) {
			return topicDenied
		}
	case kmsg.ConfigResourceTypeGroupConfig:
		if !z.group(op, name) {
			return groupDenied
		}
	default:
		if !z.cluster(op) {
			return clusterDenied
		}
	}
	return 0
}

package server

import (
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/acl"
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

// authorize answers req itself when authorization changes its answer
// (ok=true), else lets it be dispatched as usual.
func (b *Broker) authorize(s *session, req protocol.Request) (kmsg.Response, error, bool) {
	img := b.node.Image()
	b.authz.Follow(img.ACLs)
	z := authz{b: b, a: b.authz, s: s, img: img}
	whole := func(op acl.Operation, rt acl.ResourceType, name string, code int16) (kmsg.Response, error, bool) {
		if z.ok(op, rt, name) {
			return nil, nil, false
		}
		return z.refuse(req, code)
	}
	switch r := req.Body.(type) {
	case *kmsg.ApiVersionsRequest, *kmsg.SASLHandshakeRequest, *kmsg.SASLAuthenticateRequest:
		return nil, nil, false
	case *kmsg.ProduceRequest:
		return z.produce(r)
	case *kmsg.FetchRequest:
		return z.fetch(r)
	case *kmsg.ListOffsetsRequest:
		return z.listOffsets(r)
	case *kmsg.MetadataRequest:
		return z.metadata(r)
	case *kmsg.OffsetCommitRequest:
		if !z.group(acl.OpRead, r.Group) {
			return z.refuse(req, groupDenied)
		}
		return z.offsetCommit(r)
	case *kmsg.OffsetFetchRequest:
		return z.offsetFetch(r)
	case *kmsg.FindCoordinatorRequest:
		return z.findCoordinator(r)
	case *kmsg.JoinGroupRequest:
		return whole(acl.OpRead, acl.ResourceGroup, r.Group, groupDenied)
	case *kmsg.HeartbeatRequest:
		return whole(acl.OpRead, acl.ResourceGroup, r.Group, groupDenied)
	case *kmsg.LeaveGroupRequest:
		return whole(acl.OpRead, acl.ResourceGroup, r.Group, groupDenied)
	case *kmsg.SyncGroupRequest:
		return whole(acl.OpRead, acl.ResourceGroup, r.Group, groupDenied)
	case *kmsg.ConsumerGroupHeartbeatRequest:
		return whole(acl.OpRead, acl.ResourceGroup, r.Group, groupDenied)
	case *kmsg.DescribeGroupsRequest:
		return z.describeGroups(r)
	case *kmsg.ConsumerGroupDescribeRequest:
		return z.consumerGroupDescribe(r)
	case *kmsg.ListGroupsRequest:
		resp := b.dispatch(req).(*kmsg.ListGroupsResponse)
		if !z.cluster(acl.OpDescribe) {
			kept := resp.Groups[:0]
			for _, g := range resp.Groups {
				if z.group(acl.OpDescribe, g.Group) {
					kept = append(kept, g)
				}
			}
			resp.Groups = kept
		}
		return resp, nil, true
	case *kmsg.DeleteGroupsRequest:
		return z.deleteGroups(r)
	case *kmsg.OffsetDeleteRequest:
		if !z.group(acl.OpDelete, r.Group) {
			return z.refuse(req, groupDenied)
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
	case *kmsg.InitProducerIDRequest:
		if r.TransactionalID != nil {
			return whole(acl.OpWrite, acl.ResourceTransactionalID, *r.TransactionalID, txnDenied)
		}
		if z.cluster(acl.OpIdempotentWrite) || z.a.AuthorizeByResourceType(s.principal, s.host, acl.OpWrite, acl.ResourceTopic) {
			return nil, nil, false
		}
		return z.refuse(req, clusterDenied)
	case *kmsg.OffsetForLeaderEpochRequest:
		return z.offsetForLeaderEpoch(r)
	case *kmsg.DescribeConfigsRequest:
		return z.describeConfigs(r)
	case *kmsg.AlterConfigsRequest:
		return z.alterConfigs(r)
	case *kmsg.IncrementalAlterConfigsRequest:
		return z.incrementalAlterConfigs(r)
	case *kmsg.DescribeClusterRequest:
		resp := b.dispatch(req).(*kmsg.DescribeClusterResponse)
		b.localizeEndpoints(s, resp)
		if r.IncludeClusterAuthorizedOperations && z.cluster(acl.OpDescribe) {
			resp.ClusterAuthorizedOperations = z.ops(acl.ResourceCluster, acl.ClusterName)
		}
		return resp, nil, true
	case *kmsg.DescribeLogDirsRequest, *kmsg.ListPartitionReassignmentsRequest,
		*kmsg.DescribeACLsRequest, *kmsg.DescribeUserSCRAMCredentialsRequest:
		return whole(acl.OpDescribe, acl.ResourceCluster, acl.ClusterName, clusterDenied)
	case *kmsg.ElectLeadersRequest, *kmsg.AlterPartitionAssignmentsRequest, *kmsg.UnregisterBrokerRequest,
		*kmsg.CreateACLsRequest, *kmsg.DeleteACLsRequest, *kmsg.AlterUserSCRAMCredentialsRequest,
		*kmsg.UpdateFeaturesRequest:
		return whole(acl.OpAlter, acl.ResourceCluster, acl.ClusterName, clusterDenied)
	case *kmsg.AlterPartitionRequest, *kmsg.BrokerRegistrationRequest, *kmsg.BrokerHeartbeatRequest,
		*kmsg.AllocateProducerIDsRequest:
		return whole(acl.OpClusterAction, acl.ResourceCluster, acl.ClusterName, clusterDenied)
	}
	// An API whose checks are not wired here yet (the transaction APIs
	// as they land): super users only, the connection closed for others.
	if z.a.IsSuperUser(s.principal) {
		return nil, nil, false
	}
	return nil, fmt.Errorf("%s is not authorized for %s (its ACL checks are not wired yet)", s.principal, kmsg.NameForKey(req.Key)), true
}

// refuse answers the whole request with code.
func (z authz) refuse(req protocol.Request, code int16) (kmsg.Response, error, bool) {
	resp := req.Body.ResponseKind()
	resp.SetVersion(req.Version)
	msg := strPtr(kerr.ErrorForCode(code).Error())
	switch r := resp.(type) {
	case *kmsg.JoinGroupResponse:
		r.ErrorCode, r.Generation = code, -1
	case *kmsg.HeartbeatResponse:
		r.ErrorCode = code
	case *kmsg.LeaveGroupResponse:
		r.ErrorCode = code
	case *kmsg.SyncGroupResponse:
		r.ErrorCode = code
	case *kmsg.ConsumerGroupHeartbeatResponse:
		r.ErrorCode = code
	case *kmsg.InitProducerIDResponse:
		r.ErrorCode, r.ProducerID, r.ProducerEpoch = code, -1, -1
	case *kmsg.DescribeLogDirsResponse:
		r.ErrorCode = code
	case *kmsg.ListPartitionReassignmentsResponse:
		r.ErrorCode, r.ErrorMessage = code, msg
	case *kmsg.AlterPartitionAssignmentsResponse:
		r.ErrorCode, r.ErrorMessage = code, msg
	case *kmsg.ElectLeadersResponse:
		r.ErrorCode = code
		for _, t := range req.Body.(*kmsg.ElectLeadersRequest).Topics {
			rt := kmsg.NewElectLeadersResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewElectLeadersResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p, code
				rt.Partitions = append(rt.Partitions, rp)
			}
			r.Topics = append(r.Topics, rt)
		}
	case *kmsg.UnregisterBrokerResponse:
		r.ErrorCode, r.ErrorMessage = code, msg
	case *kmsg.AlterPartitionResponse:
		r.ErrorCode = code
	case *kmsg.BrokerRegistrationResponse:
		r.ErrorCode, r.BrokerEpoch = code, -1
	case *kmsg.BrokerHeartbeatResponse:
		r.ErrorCode, r.IsFenced = code, true
	case *kmsg.AllocateProducerIDsResponse:
		r.ErrorCode = code
	case *kmsg.OffsetDeleteResponse:
		r.ErrorCode = code
	case *kmsg.DescribeACLsResponse:
		r.ErrorCode, r.ErrorMessage = code, msg
	case *kmsg.CreateACLsResponse:
		for range req.Body.(*kmsg.CreateACLsRequest).Creations {
			res := kmsg.NewCreateACLsResponseResult()
			res.ErrorCode, res.ErrorMessage = code, msg
			r.Results = append(r.Results, res)
		}
	case *kmsg.DeleteACLsResponse:
		for range req.Body.(*kmsg.DeleteACLsRequest).Filters {
			res := kmsg.NewDeleteACLsResponseResult()
			res.ErrorCode, res.ErrorMessage = code, msg
			r.Results = append(r.Results, res)
		}
	case *kmsg.DescribeUserSCRAMCredentialsResponse:
		r.ErrorCode, r.ErrorMessage = code, msg
	case *kmsg.UpdateFeaturesResponse:
		r.ErrorCode, r.ErrorMessage = code, msg
	case *kmsg.AlterUserSCRAMCredentialsResponse:
		ar := req.Body.(*kmsg.AlterUserSCRAMCredentialsRequest)
		seen := map[string]bool{}
		add := func(u string) {
			if !seen[u] {
				seen[u] = true
				res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
				res.User, res.ErrorCode, res.ErrorMessage = u, code, msg
				r.Results = append(r.Results, res)
			}
		}
		for _, d := range ar.Deletions {
			add(d.Name)
		}
		for _, u := range ar.Upsertions {
			add(u.Name)
		}
	case *kmsg.OffsetCommitResponse:
		for _, t := range req.Body.(*kmsg.OffsetCommitRequest).Topics {
			rt := kmsg.NewOffsetCommitResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetCommitResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, code
				rt.Partitions = append(rt.Partitions, rp)
			}
			r.Topics = append(r.Topics, rt)
		}
	case *kmsg.FindCoordinatorResponse:
		r.ErrorCode, r.ErrorMessage, r.NodeID, r.Port = code, msg, -1, -1
	case *kmsg.OffsetFetchResponse:
		r.ErrorCode = code
	case *kmsg.FetchResponse:
		r.ErrorCode = code
		for _, t := range req.Body.(*kmsg.FetchRequest).Topics {
			rt := kmsg.NewFetchResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			for _, p := range t.Partitions {
				rt.Partitions = append(rt.Partitions, fetchRefused(p.Partition, code))
			}
			r.Topics = append(r.Topics, rt)
		}
	case *kmsg.ProduceResponse:
		for _, t := range req.Body.(*kmsg.ProduceRequest).Topics {
			r.Topics = append(r.Topics, produceRefused(t, code))
		}
	default:
		return nil, fmt.Errorf("refused %s: %s", kmsg.NameForKey(req.Key), kerr.ErrorForCode(code)), true
	}
	return resp, nil, true
}

func fetchRefused(partition int32, code int16) kmsg.FetchResponseTopicPartition {
	p := kmsg.NewFetchResponseTopicPartition()
	p.Partition, p.ErrorCode = partition, code
	p.HighWatermark, p.LastStableOffset, p.LogStartOffset = -1, -1, -1
	p.RecordBatches = []byte{}
	return p
}

func produceRefused(t kmsg.ProduceRequestTopic, code int16) kmsg.ProduceResponseTopic {
	rt := kmsg.NewProduceResponseTopic()
	rt.Topic = t.Topic
	for _, p := range t.Partitions {
		rp := kmsg.NewProduceResponseTopicPartition()
		rp.Partition, rp.ErrorCode, rp.BaseOffset, rp.LogStartOffset = p.Partition, code, -1, -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	return rt
}

func (z authz) produce(r *kmsg.ProduceRequest) (kmsg.Response, error, bool) {
	var refused []kmsg.ProduceRequestTopic
	code := topicDenied
	if r.TransactionID != nil && !z.ok(acl.OpWrite, acl.ResourceTransactionalID, *r.TransactionID) {
		refused, r.Topics, code = r.Topics, nil, txnDenied
	} else {
		kept := r.Topics[:0:0]
		for _, t := range r.Topics {
			if z.topic(acl.OpWrite, t.Topic) {
				kept = append(kept, t)
			} else {
				refused = append(refused, t)
			}
		}
		r.Topics = kept
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	if r.Acks == 0 {
		// No response to carry the error: Kafka closes the connection.
		return nil, fmt.Errorf("acks=0 produce refused: %s", kerr.ErrorForCode(code)), true
	}
	var resp *kmsg.ProduceResponse
	if len(r.Topics) > 0 {
		out, err := z.b.handleProduce(r)
		if err != nil || out == nil {
			return out, err, true
		}
		resp = out.(*kmsg.ProduceResponse)
	} else {
		resp = r.ResponseKind().(*kmsg.ProduceResponse)
	}
	for _, t := range refused {
		resp.Topics = append(resp.Topics, produceRefused(t, code))
	}
	return resp, nil, true
}

func (z authz) fetch(r *kmsg.FetchRequest) (kmsg.Response, error, bool) {
	if replicaID(r) >= 0 {
		if z.cluster(acl.OpClusterAction) {
			return nil, nil, false
		}
		return z.refuse(protocol.Request{Header: protocol.Header{Version: r.Version}, Body: r}, topicDenied)
	}
	var refused []kmsg.FetchRequestTopic
	kept := r.Topics[:0:0]
	for _, t := range r.Topics {
		name := t.Topic
		if r.Version >= 13 {
			name = z.topicName(nil, t.TopicID)
		}
		if name != "" && !z.topic(acl.OpRead, name) {
			refused = append(refused, t)
		} else {
			kept = append(kept, t)
		}
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	r.Topics = kept
	resp := z.b.handleFetch(r).(*kmsg.FetchResponse)
	for _, t := range refused {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, fetchRefused(p.Partition, topicDenied))
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil, true
}

func (z authz) listOffsets(r *kmsg.ListOffsetsRequest) (kmsg.Response, error, bool) {
	var refused []kmsg.ListOffsetsRequestTopic
	kept := r.Topics[:0:0]
	for _, t := range r.Topics {
		if z.topic(acl.OpDescribe, t.Topic) {
			kept = append(kept, t)
		} else {
			refused = append(refused, t)
		}
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	r.Topics = kept
	resp := z.b.handleListOffsets(r).(*kmsg.ListOffsetsResponse)
	for _, t := range refused {
		rt := kmsg.NewListOffsetsResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewListOffsetsResponseTopicPartition()
			rp.Partition, rp.ErrorCode, rp.Timestamp, rp.Offset = p.Partition, topicDenied, -1, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil, true
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

func (z authz) offsetCommit(r *kmsg.OffsetCommitRequest) (kmsg.Response, error, bool) {
	var refused []kmsg.OffsetCommitRequestTopic
	kept := r.Topics[:0:0]
	for _, t := range r.Topics {
		if z.topic(acl.OpRead, t.Topic) {
			kept = append(kept, t)
		} else {
			refused = append(refused, t)
		}
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	r.Topics = kept
	resp := z.b.handleOffsetCommit(r).(*kmsg.OffsetCommitResponse)
	for _, t := range refused {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, topicDenied
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
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

func (z authz) findCoordinator(r *kmsg.FindCoordinatorRequest) (kmsg.Response, error, bool) {
	rt, code := acl.ResourceGroup, groupDenied
	if r.CoordinatorType == 1 {
		rt, code = acl.ResourceTransactionalID, txnDenied
	}
	if r.Version < 4 {
		if z.ok(acl.OpDescribe, rt, r.CoordinatorKey) {
			return nil, nil, false
		}
		return z.refuse(protocol.Request{Header: protocol.Header{Version: r.Version}, Body: r}, code)
	}
	var refused []string
	kept := r.CoordinatorKeys[:0:0]
	for _, k := range r.CoordinatorKeys {
		if z.ok(acl.OpDescribe, rt, k) {
			kept = append(kept, k)
		} else {
			refused = append(refused, k)
		}
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	r.CoordinatorKeys = kept
	resp := z.b.handleFindCoordinator(r).(*kmsg.FindCoordinatorResponse)
	z.b.localizeEndpoints(z.s, resp)
	for _, k := range refused {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key, c.NodeID, c.Port, c.ErrorCode = k, -1, -1, code
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return resp, nil, true
}

func (z authz) describeGroups(r *kmsg.DescribeGroupsRequest) (kmsg.Response, error, bool) {
	var refused []string
	kept := r.Groups[:0:0]
	for _, g := range r.Groups {
		if z.group(acl.OpDescribe, g) {
			kept = append(kept, g)
		} else {
			refused = append(refused, g)
		}
	}
	r.Groups = kept
	resp := z.b.handleDescribeGroups(r).(*kmsg.DescribeGroupsResponse)
	if r.IncludeAuthorizedOperations {
		for i := range resp.Groups {
			resp.Groups[i].AuthorizedOperations = z.ops(acl.ResourceGroup, resp.Groups[i].Group)
		}
	}
	for _, g := range refused {
		rg := kmsg.NewDescribeGroupsResponseGroup()
		rg.Group, rg.ErrorCode, rg.AuthorizedOperations = g, groupDenied, unauthorizedOps
		resp.Groups = append(resp.Groups, rg)
	}
	return resp, nil, true
}

func (z authz) consumerGroupDescribe(r *kmsg.ConsumerGroupDescribeRequest) (kmsg.Response, error, bool) {
	var refused []string
	kept := r.Groups[:0:0]
	for _, g := range r.Groups {
		if z.group(acl.OpDescribe, g) {
			kept = append(kept, g)
		} else {
			refused = append(refused, g)
		}
	}
	r.Groups = kept
	resp := z.b.handleConsumerGroupDescribe(r).(*kmsg.ConsumerGroupDescribeResponse)
	if r.IncludeAuthorizedOperations {
		for i := range resp.Groups {
			resp.Groups[i].AuthorizedOperations = z.ops(acl.ResourceGroup, resp.Groups[i].Group)
		}
	}
	for _, g := range refused {
		rg := kmsg.NewConsumerGroupDescribeResponseGroup()
		rg.Group, rg.ErrorCode, rg.AuthorizedOperations = g, groupDenied, unauthorizedOps
		resp.Groups = append(resp.Groups, rg)
	}
	return resp, nil, true
}

func (z authz) deleteGroups(r *kmsg.DeleteGroupsRequest) (kmsg.Response, error, bool) {
	var refused []string
	kept := r.Groups[:0:0]
	for _, g := range r.Groups {
		if z.group(acl.OpDelete, g) {
			kept = append(kept, g)
		} else {
			refused = append(refused, g)
		}
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	r.Groups = kept
	resp := z.b.handleDeleteGroups(r).(*kmsg.DeleteGroupsResponse)
	for _, g := range refused {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group, rg.ErrorCode = g, groupDenied
		resp.Groups = append(resp.Groups, rg)
	}
	return resp, nil, true
}

func (z authz) offsetDelete(r *kmsg.OffsetDeleteRequest) (kmsg.Response, error, bool) {
	var refused []kmsg.OffsetDeleteRequestTopic
	kept := r.Topics[:0:0]
	for _, t := range r.Topics {
		if z.topic(acl.OpRead, t.Topic) {
			kept = append(kept, t)
		} else {
			refused = append(refused, t)
		}
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	r.Topics = kept
	resp := z.b.handleOffsetDelete(r).(*kmsg.OffsetDeleteResponse)
	for _, t := range refused {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, topicDenied
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil, true
}

func (z authz) createTopics(r *kmsg.CreateTopicsRequest) (kmsg.Response, error, bool) {
	clusterCreate := z.cluster(acl.OpCreate)
	var refused []string
	kept := r.Topics[:0:0]
	for _, t := range r.Topics {
		if clusterCreate || z.topic(acl.OpCreate, t.Topic) {
			kept = append(kept, t)
		} else {
			refused = append(refused, t.Topic)
		}
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	r.Topics = kept
	resp := z.b.handleCreateTopics(r).(*kmsg.CreateTopicsResponse)
	for _, name := range refused {
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic, rt.ErrorCode, rt.NumPartitions, rt.ReplicationFactor = name, topicDenied, -1, -1
		rt.ErrorMessage = strPtr(kerr.TopicAuthorizationFailed.Error())
		resp.Topics = append(resp.Topics, rt)
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

func (z authz) deleteRecords(r *kmsg.DeleteRecordsRequest) (kmsg.Response, error, bool) {
	var refused []kmsg.DeleteRecordsRequestTopic
	kept := r.Topics[:0:0]
	for _, t := range r.Topics {
		if z.topic(acl.OpDelete, t.Topic) {
			kept = append(kept, t)
		} else {
			refused = append(refused, t)
		}
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	r.Topics = kept
	resp := z.b.handleDeleteRecords(r).(*kmsg.DeleteRecordsResponse)
	for _, t := range refused {
		rt := kmsg.NewDeleteRecordsResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewDeleteRecordsResponseTopicPartition()
			rp.Partition, rp.ErrorCode, rp.LowWatermark = p.Partition, topicDenied, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil, true
}

func (z authz) createPartitions(r *kmsg.CreatePartitionsRequest) (kmsg.Response, error, bool) {
	var refused []string
	kept := r.Topics[:0:0]
	for _, t := range r.Topics {
		if z.topic(acl.OpAlter, t.Topic) {
			kept = append(kept, t)
		} else {
			refused = append(refused, t.Topic)
		}
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	r.Topics = kept
	resp := z.b.handleCreatePartitions(r).(*kmsg.CreatePartitionsResponse)
	for _, name := range refused {
		rt := kmsg.NewCreatePartitionsResponseTopic()
		rt.Topic, rt.ErrorCode = name, topicDenied
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil, true
}

func (z authz) offsetForLeaderEpoch(r *kmsg.OffsetForLeaderEpochRequest) (kmsg.Response, error, bool) {
	if z.cluster(acl.OpClusterAction) {
		return nil, nil, false
	}
	var refused []kmsg.OffsetForLeaderEpochRequestTopic
	kept := r.Topics[:0:0]
	for _, t := range r.Topics {
		if z.topic(acl.OpDescribe, t.Topic) {
			kept = append(kept, t)
		} else {
			refused = append(refused, t)
		}
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	r.Topics = kept
	resp := z.b.handleOffsetForLeaderEpoch(r).(*kmsg.OffsetForLeaderEpochResponse)
	for _, t := range refused {
		rt := kmsg.NewOffsetForLeaderEpochResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			rp.Partition, rp.ErrorCode, rp.LeaderEpoch, rp.EndOffset = p.Partition, topicDenied, -1, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
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

func (z authz) describeConfigs(r *kmsg.DescribeConfigsRequest) (kmsg.Response, error, bool) {
	var refused []kmsg.DescribeConfigsResponseResource
	kept := r.Resources[:0:0]
	for _, res := range r.Resources {
		if code := z.configResource(res.ResourceType, res.ResourceName, true); code != 0 {
			rr := kmsg.NewDescribeConfigsResponseResource()
			rr.ResourceType, rr.ResourceName, rr.ErrorCode = res.ResourceType, res.ResourceName, code
			refused = append(refused, rr)
		} else {
			kept = append(kept, res)
		}
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	r.Resources = kept
	resp := z.b.handleDescribeConfigs(r).(*kmsg.DescribeConfigsResponse)
	resp.Resources = append(resp.Resources, refused...)
	return resp, nil, true
}

func (z authz) alterConfigs(r *kmsg.AlterConfigsRequest) (kmsg.Response, error, bool) {
	var refused []kmsg.AlterConfigsResponseResource
	kept := r.Resources[:0:0]
	for _, res := range r.Resources {
		if code := z.configResource(res.ResourceType, res.ResourceName, false); code != 0 {
			rr := kmsg.NewAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName, rr.ErrorCode = res.ResourceType, res.ResourceName, code
			refused = append(refused, rr)
		} else {
			kept = append(kept, res)
		}
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	r.Resources = kept
	resp := z.b.handleAlterConfigs(r).(*kmsg.AlterConfigsResponse)
	resp.Resources = append(resp.Resources, refused...)
	return resp, nil, true
}

func (z authz) incrementalAlterConfigs(r *kmsg.IncrementalAlterConfigsRequest) (kmsg.Response, error, bool) {
	var refused []kmsg.IncrementalAlterConfigsResponseResource
	kept := r.Resources[:0:0]
	for _, res := range r.Resources {
		if code := z.configResource(res.ResourceType, res.ResourceName, false); code != 0 {
			rr := kmsg.NewIncrementalAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName, rr.ErrorCode = res.ResourceType, res.ResourceName, code
			refused = append(refused, rr)
		} else {
			kept = append(kept, res)
		}
	}
	if len(refused) == 0 {
		return nil, nil, false
	}
	r.Resources = kept
	resp := z.b.handleIncrementalAlterConfigs(r).(*kmsg.IncrementalAlterConfigsResponse)
	resp.Resources = append(resp.Resources, refused...)
	return resp, nil, true
}

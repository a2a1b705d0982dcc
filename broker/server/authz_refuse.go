package server

import (
	"reflect"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The refusals, as Kafka's AbstractRequest.getErrorResponse builds them:
// a whole request refused with one code (authz's refuse, and a request
// sent in place of SaslAuthenticate), and the per-resource answers
// serveRest appends for what it took out of a request. Each builder
// takes the code and returns the answer for one resource of the request.

// errorResponse is req's own response with code at its top level, or on
// every resource it names where it has no top-level error; nil where
// there is nowhere to put it (and for an acks=0 produce, which has no
// response).
func errorResponse(req kmsg.Request, code int16) kmsg.Response {
	if p, ok := req.(*kmsg.ProduceRequest); ok && p.Acks == 0 {
		return nil
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	msg := strPtr(kerr.ErrorForCode(code).Error())
	if refuseTopLevel(resp, code, msg) || refuseEach(req, resp, code, msg) || refuseTxnEach(req, resp, code) {
		return resp
	}
	if f := reflect.ValueOf(resp).Elem().FieldByName("ErrorCode"); f.IsValid() && f.Kind() == reflect.Int16 {
		f.SetInt(int64(code)) // the responses whose only error is the top-level one
		return resp
	}
	return nil
}

// refuseTopLevel sets the error of a response that has one for the
// whole request (with the fields Kafka resets beside it).
func refuseTopLevel(resp kmsg.Response, code int16, msg *string) bool {
	switch r := resp.(type) {
	case *kmsg.JoinGroupResponse:
		r.ErrorCode, r.Generation = code, -1
	case *kmsg.InitProducerIDResponse:
		r.ErrorCode, r.ProducerID, r.ProducerEpoch = code, -1, -1
	case *kmsg.ListPartitionReassignmentsResponse:
		r.ErrorCode, r.ErrorMessage = code, msg
	case *kmsg.AlterPartitionAssignmentsResponse:
		r.ErrorCode, r.ErrorMessage = code, msg
	case *kmsg.UnregisterBrokerResponse:
		r.ErrorCode, r.ErrorMessage = code, msg
	case *kmsg.BrokerRegistrationResponse:
		r.ErrorCode, r.BrokerEpoch = code, -1
	case *kmsg.BrokerHeartbeatResponse:
		r.ErrorCode, r.IsFenced = code, true
	case *kmsg.DescribeACLsResponse:
		r.ErrorCode, r.ErrorMessage = code, msg
	case *kmsg.DescribeUserSCRAMCredentialsResponse:
		r.ErrorCode, r.ErrorMessage = code, msg
	case *kmsg.FindCoordinatorResponse:
		if r.Version >= 4 {
			return false // one coordinator per key
		}
		r.ErrorCode, r.ErrorMessage, r.NodeID, r.Port = code, msg, -1, -1
	case *kmsg.OffsetFetchResponse:
		if r.Version >= 8 {
			return false // one answer per group
		}
		r.ErrorCode = code
	case *kmsg.EndTxnResponse:
		r.ErrorCode, r.ProducerID, r.ProducerEpoch = code, -1, -1
	case *kmsg.AddPartitionsToTxnResponse:
		if r.Version < 4 {
			return false
		}
		r.ErrorCode = code
	default:
		return false
	}
	return true
}

// refuseEach gives every resource of the request the error, for the
// responses without a top-level one.
func refuseEach(req kmsg.Request, resp kmsg.Response, code int16, msg *string) bool {
	switch r := resp.(type) {
	case *kmsg.ElectLeadersResponse:
		r.ErrorCode = code
		r.Topics = each(req.(*kmsg.ElectLeadersRequest).Topics, func(t kmsg.ElectLeadersRequestTopic) kmsg.ElectLeadersResponseTopic {
			rt := kmsg.NewElectLeadersResponseTopic()
			rt.Topic = t.Topic
			rt.Partitions = each(t.Partitions, func(p int32) kmsg.ElectLeadersResponseTopicPartition {
				rp := kmsg.NewElectLeadersResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p, code
				return rp
			})
			return rt
		})
	case *kmsg.CreateACLsResponse:
		r.Results = each(req.(*kmsg.CreateACLsRequest).Creations, func(kmsg.CreateACLsRequestCreation) kmsg.CreateACLsResponseResult {
			res := kmsg.NewCreateACLsResponseResult()
			res.ErrorCode, res.ErrorMessage = code, msg
			return res
		})
	case *kmsg.DeleteACLsResponse:
		r.Results = each(req.(*kmsg.DeleteACLsRequest).Filters, func(kmsg.DeleteACLsRequestFilter) kmsg.DeleteACLsResponseResult {
			res := kmsg.NewDeleteACLsResponseResult()
			res.ErrorCode, res.ErrorMessage = code, msg
			return res
		})
	case *kmsg.AlterUserSCRAMCredentialsResponse:
		r.Results = scramRefused(req.(*kmsg.AlterUserSCRAMCredentialsRequest), code, msg)
	case *kmsg.FindCoordinatorResponse:
		r.Coordinators = each(req.(*kmsg.FindCoordinatorRequest).CoordinatorKeys, coordinatorRefused(code))
	case *kmsg.OffsetFetchResponse:
		r.Groups = each(req.(*kmsg.OffsetFetchRequest).Groups, func(g kmsg.OffsetFetchRequestGroup) kmsg.OffsetFetchResponseGroup {
			rg := kmsg.NewOffsetFetchResponseGroup()
			rg.Group, rg.ErrorCode = g.Group, code
			return rg
		})
	case *kmsg.MetadataResponse:
		r.Topics = each(req.(*kmsg.MetadataRequest).Topics, metadataRefused(code))
	case *kmsg.DeleteTopicsResponse:
		d := req.(*kmsg.DeleteTopicsRequest)
		if d.Version < 6 {
			r.Topics = each(d.TopicNames, func(n string) kmsg.DeleteTopicsResponseTopic {
				return deleteTopicRefused(code)(kmsg.DeleteTopicsRequestTopic{Topic: &n})
			})
		} else {
			r.Topics = each(d.Topics, deleteTopicRefused(code))
		}
	default:
		return refuseListed(req, resp, code)
	}
	return true
}

// refuseListed answers each item of the requests whose refusals serveRest
// appends too.
func refuseListed(req kmsg.Request, resp kmsg.Response, code int16) bool {
	switch r := resp.(type) {
	case *kmsg.ProduceResponse:
		r.Topics = each(req.(*kmsg.ProduceRequest).Topics, produceRefused(code))
	case *kmsg.FetchResponse:
		r.ErrorCode = code
		r.Topics = each(req.(*kmsg.FetchRequest).Topics, fetchRefused(code))
	case *kmsg.ListOffsetsResponse:
		r.Topics = each(req.(*kmsg.ListOffsetsRequest).Topics, listOffsetsRefused(code))
	case *kmsg.DescribeProducersResponse:
		r.Topics = each(req.(*kmsg.DescribeProducersRequest).Topics, describeProducersRefused(code))
	case *kmsg.OffsetCommitResponse:
		r.Topics = each(req.(*kmsg.OffsetCommitRequest).Topics, offsetCommitRefused(code))
	case *kmsg.DescribeGroupsResponse:
		r.Groups = each(req.(*kmsg.DescribeGroupsRequest).Groups, describeGroupRefused(code))
	case *kmsg.ConsumerGroupDescribeResponse:
		r.Groups = each(req.(*kmsg.ConsumerGroupDescribeRequest).Groups, consumerGroupDescribeRefused(code))
	case *kmsg.DeleteGroupsResponse:
		r.Groups = each(req.(*kmsg.DeleteGroupsRequest).Groups, deleteGroupRefused(code))
	case *kmsg.OffsetDeleteResponse:
		r.ErrorCode = code
	case *kmsg.CreateTopicsResponse:
		r.Topics = each(req.(*kmsg.CreateTopicsRequest).Topics, createTopicRefused(code))
	case *kmsg.DeleteRecordsResponse:
		r.Topics = each(req.(*kmsg.DeleteRecordsRequest).Topics, deleteRecordsRefused(code))
	case *kmsg.CreatePartitionsResponse:
		r.Topics = each(req.(*kmsg.CreatePartitionsRequest).Topics, createPartitionsRefused(code))
	case *kmsg.OffsetForLeaderEpochResponse:
		r.Topics = each(req.(*kmsg.OffsetForLeaderEpochRequest).Topics, offsetForLeaderEpochRefused(code))
	case *kmsg.DescribeConfigsResponse:
		r.Resources = each(req.(*kmsg.DescribeConfigsRequest).Resources, func(res kmsg.DescribeConfigsRequestResource) kmsg.DescribeConfigsResponseResource {
			return describeConfigsRefused(res, code)
		})
	case *kmsg.AlterConfigsResponse:
		r.Resources = each(req.(*kmsg.AlterConfigsRequest).Resources, func(res kmsg.AlterConfigsRequestResource) kmsg.AlterConfigsResponseResource {
			return alterConfigsRefused(res, code)
		})
	case *kmsg.IncrementalAlterConfigsResponse:
		r.Resources = each(req.(*kmsg.IncrementalAlterConfigsRequest).Resources,
			func(res kmsg.IncrementalAlterConfigsRequestResource) kmsg.IncrementalAlterConfigsResponseResource {
				return incrementalAlterConfigsRefused(res, code)
			})
	case *kmsg.DescribeTransactionsResponse:
		r.TransactionStates = each(req.(*kmsg.DescribeTransactionsRequest).TransactionalIDs, describeTransactionRefused(code))
	default:
		return false
	}
	return true
}

// refuseTxnEach gives every partition of a transaction request the
// error, for the responses without a top-level one.
func refuseTxnEach(req kmsg.Request, resp kmsg.Response, code int16) bool {
	switch r := resp.(type) {
	case *kmsg.TxnOffsetCommitResponse:
		r.Topics = each(req.(*kmsg.TxnOffsetCommitRequest).Topics, txnOffsetCommitRefused(code))
	case *kmsg.AddPartitionsToTxnResponse: // v0–v3; v4+ has the top-level error
		r.Topics = each(req.(*kmsg.AddPartitionsToTxnRequest).Topics, func(t kmsg.AddPartitionsToTxnRequestTopic) kmsg.AddPartitionsToTxnResponseTopic {
			return addPartitionsRefused(t, func(int32) int16 { return code })
		})
	case *kmsg.WriteTxnMarkersResponse:
		r.Markers = each(req.(*kmsg.WriteTxnMarkersRequest).Markers, func(m kmsg.WriteTxnMarkersRequestMarker) kmsg.WriteTxnMarkersResponseMarker {
			rm := kmsg.NewWriteTxnMarkersResponseMarker()
			rm.ProducerID = m.ProducerID
			rm.Topics = each(m.Topics, func(t kmsg.WriteTxnMarkersRequestMarkerTopic) kmsg.WriteTxnMarkersResponseMarkerTopic {
				rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
				rt.Topic = t.Topic
				rt.Partitions = each(t.Partitions, func(p int32) kmsg.WriteTxnMarkersResponseMarkerTopicPartition {
					rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
					rp.Partition, rp.ErrorCode = p, code
					return rp
				})
				return rt
			})
			return rm
		})
	default:
		return false
	}
	return true
}

// scramRefused is an AlterUserScramCredentials answer with every user
// refused, each once.
func scramRefused(ar *kmsg.AlterUserSCRAMCredentialsRequest, code int16, msg *string) []kmsg.AlterUserSCRAMCredentialsResponseResult {
	var out []kmsg.AlterUserSCRAMCredentialsResponseResult
	seen := map[string]bool{}
	add := func(u string) {
		if !seen[u] {
			seen[u] = true
			res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
			res.User, res.ErrorCode, res.ErrorMessage = u, code, msg
			out = append(out, res)
		}
	}
	for _, d := range ar.Deletions {
		add(d.Name)
	}
	for _, u := range ar.Upsertions {
		add(u.Name)
	}
	return out
}

func fetchRefused(code int16) func(kmsg.FetchRequestTopic) kmsg.FetchResponseTopic {
	return func(t kmsg.FetchRequestTopic) kmsg.FetchResponseTopic {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		rt.Partitions = each(t.Partitions, func(rp kmsg.FetchRequestTopicPartition) kmsg.FetchResponseTopicPartition {
			p := kmsg.NewFetchResponseTopicPartition()
			p.Partition, p.ErrorCode = rp.Partition, code
			p.HighWatermark, p.LastStableOffset, p.LogStartOffset = -1, -1, -1
			p.RecordBatches = []byte{}
			return p
		})
		return rt
	}
}

func produceRefused(code int16) func(kmsg.ProduceRequestTopic) kmsg.ProduceResponseTopic {
	return func(t kmsg.ProduceRequestTopic) kmsg.ProduceResponseTopic {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = each(t.Partitions, func(p kmsg.ProduceRequestTopicPartition) kmsg.ProduceResponseTopicPartition {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition, rp.ErrorCode, rp.BaseOffset, rp.LogStartOffset = p.Partition, code, -1, -1
			return rp
		})
		return rt
	}
}

func listOffsetsRefused(code int16) func(kmsg.ListOffsetsRequestTopic) kmsg.ListOffsetsResponseTopic {
	return func(t kmsg.ListOffsetsRequestTopic) kmsg.ListOffsetsResponseTopic {
		rt := kmsg.NewListOffsetsResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = each(t.Partitions, func(p kmsg.ListOffsetsRequestTopicPartition) kmsg.ListOffsetsResponseTopicPartition {
			rp := kmsg.NewListOffsetsResponseTopicPartition()
			rp.Partition, rp.ErrorCode, rp.Timestamp, rp.Offset = p.Partition, code, -1, -1
			return rp
		})
		return rt
	}
}

func describeProducersRefused(code int16) func(kmsg.DescribeProducersRequestTopic) kmsg.DescribeProducersResponseTopic {
	return func(t kmsg.DescribeProducersRequestTopic) kmsg.DescribeProducersResponseTopic {
		rt := kmsg.NewDescribeProducersResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = each(t.Partitions, func(p int32) kmsg.DescribeProducersResponseTopicPartition {
			rp := kmsg.NewDescribeProducersResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p, code
			return rp
		})
		return rt
	}
}

func offsetCommitRefused(code int16) func(kmsg.OffsetCommitRequestTopic) kmsg.OffsetCommitResponseTopic {
	return func(t kmsg.OffsetCommitRequestTopic) kmsg.OffsetCommitResponseTopic {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = each(t.Partitions, func(p kmsg.OffsetCommitRequestTopicPartition) kmsg.OffsetCommitResponseTopicPartition {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, code
			return rp
		})
		return rt
	}
}

func txnOffsetCommitRefused(code int16) func(kmsg.TxnOffsetCommitRequestTopic) kmsg.TxnOffsetCommitResponseTopic {
	return func(t kmsg.TxnOffsetCommitRequestTopic) kmsg.TxnOffsetCommitResponseTopic {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		rt.Partitions = each(t.Partitions, func(p kmsg.TxnOffsetCommitRequestTopicPartition) kmsg.TxnOffsetCommitResponseTopicPartition {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, code
			return rp
		})
		return rt
	}
}

func offsetDeleteRefused(code int16) func(kmsg.OffsetDeleteRequestTopic) kmsg.OffsetDeleteResponseTopic {
	return func(t kmsg.OffsetDeleteRequestTopic) kmsg.OffsetDeleteResponseTopic {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = each(t.Partitions, func(p kmsg.OffsetDeleteRequestTopicPartition) kmsg.OffsetDeleteResponseTopicPartition {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, code
			return rp
		})
		return rt
	}
}

func deleteRecordsRefused(code int16) func(kmsg.DeleteRecordsRequestTopic) kmsg.DeleteRecordsResponseTopic {
	return func(t kmsg.DeleteRecordsRequestTopic) kmsg.DeleteRecordsResponseTopic {
		rt := kmsg.NewDeleteRecordsResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = each(t.Partitions, func(p kmsg.DeleteRecordsRequestTopicPartition) kmsg.DeleteRecordsResponseTopicPartition {
			rp := kmsg.NewDeleteRecordsResponseTopicPartition()
			rp.Partition, rp.ErrorCode, rp.LowWatermark = p.Partition, code, -1
			return rp
		})
		return rt
	}
}

func offsetForLeaderEpochRefused(code int16) func(kmsg.OffsetForLeaderEpochRequestTopic) kmsg.OffsetForLeaderEpochResponseTopic {
	return func(t kmsg.OffsetForLeaderEpochRequestTopic) kmsg.OffsetForLeaderEpochResponseTopic {
		rt := kmsg.NewOffsetForLeaderEpochResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = each(t.Partitions, func(p kmsg.OffsetForLeaderEpochRequestTopicPartition) kmsg.OffsetForLeaderEpochResponseTopicPartition {
			rp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			rp.Partition, rp.ErrorCode, rp.LeaderEpoch, rp.EndOffset = p.Partition, code, -1, -1
			return rp
		})
		return rt
	}
}

// addPartitionsRefused answers a v0–v3 topic, each partition with its code.
func addPartitionsRefused(t kmsg.AddPartitionsToTxnRequestTopic, code func(int32) int16) kmsg.AddPartitionsToTxnResponseTopic {
	rt := kmsg.NewAddPartitionsToTxnResponseTopic()
	rt.Topic = t.Topic
	rt.Partitions = each(t.Partitions, func(p int32) kmsg.AddPartitionsToTxnResponseTopicPartition {
		rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
		rp.Partition, rp.ErrorCode = p, code(p)
		return rp
	})
	return rt
}

func metadataRefused(code int16) func(kmsg.MetadataRequestTopic) kmsg.MetadataResponseTopic {
	return func(t kmsg.MetadataRequestTopic) kmsg.MetadataResponseTopic {
		rt := kmsg.NewMetadataResponseTopic()
		rt.Topic, rt.TopicID, rt.ErrorCode = t.Topic, t.TopicID, code
		if rt.Topic == nil {
			rt.Topic = strPtr("") // Kafka's response has no null name
		}
		rt.Partitions = []kmsg.MetadataResponseTopicPartition{}
		return rt
	}
}

func coordinatorRefused(code int16) func(string) kmsg.FindCoordinatorResponseCoordinator {
	return func(k string) kmsg.FindCoordinatorResponseCoordinator {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key, c.NodeID, c.Port, c.ErrorCode = k, -1, -1, code
		return c
	}
}

func describeGroupRefused(code int16) func(string) kmsg.DescribeGroupsResponseGroup {
	return func(g string) kmsg.DescribeGroupsResponseGroup {
		rg := kmsg.NewDescribeGroupsResponseGroup()
		rg.Group, rg.ErrorCode, rg.AuthorizedOperations = g, code, unauthorizedOps
		return rg
	}
}

func consumerGroupDescribeRefused(code int16) func(string) kmsg.ConsumerGroupDescribeResponseGroup {
	return func(g string) kmsg.ConsumerGroupDescribeResponseGroup {
		rg := kmsg.NewConsumerGroupDescribeResponseGroup()
		rg.Group, rg.ErrorCode, rg.AuthorizedOperations = g, code, unauthorizedOps
		return rg
	}
}

func deleteGroupRefused(code int16) func(string) kmsg.DeleteGroupsResponseGroup {
	return func(g string) kmsg.DeleteGroupsResponseGroup {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group, rg.ErrorCode = g, code
		return rg
	}
}

func createTopicRefused(code int16) func(kmsg.CreateTopicsRequestTopic) kmsg.CreateTopicsResponseTopic {
	return func(t kmsg.CreateTopicsRequestTopic) kmsg.CreateTopicsResponseTopic {
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic, rt.ErrorCode, rt.NumPartitions, rt.ReplicationFactor = t.Topic, code, -1, -1
		rt.ErrorMessage = strPtr(kerr.ErrorForCode(code).Error())
		return rt
	}
}

func deleteTopicRefused(code int16) func(kmsg.DeleteTopicsRequestTopic) kmsg.DeleteTopicsResponseTopic {
	return func(t kmsg.DeleteTopicsRequestTopic) kmsg.DeleteTopicsResponseTopic {
		rt := kmsg.NewDeleteTopicsResponseTopic()
		rt.Topic, rt.TopicID, rt.ErrorCode = t.Topic, t.TopicID, code
		return rt
	}
}

func createPartitionsRefused(code int16) func(kmsg.CreatePartitionsRequestTopic) kmsg.CreatePartitionsResponseTopic {
	return func(t kmsg.CreatePartitionsRequestTopic) kmsg.CreatePartitionsResponseTopic {
		rt := kmsg.NewCreatePartitionsResponseTopic()
		rt.Topic, rt.ErrorCode = t.Topic, code
		return rt
	}
}

func describeTransactionRefused(code int16) func(string) kmsg.DescribeTransactionsResponseTransactionState {
	return func(id string) kmsg.DescribeTransactionsResponseTransactionState {
		st := kmsg.NewDescribeTransactionsResponseTransactionState()
		st.TransactionalID, st.ErrorCode = id, code
		return st
	}
}

func describeConfigsRefused(res kmsg.DescribeConfigsRequestResource, code int16) kmsg.DescribeConfigsResponseResource {
	rr := kmsg.NewDescribeConfigsResponseResource()
	rr.ResourceType, rr.ResourceName, rr.ErrorCode = res.ResourceType, res.ResourceName, code
	return rr
}

func alterConfigsRefused(res kmsg.AlterConfigsRequestResource, code int16) kmsg.AlterConfigsResponseResource {
	rr := kmsg.NewAlterConfigsResponseResource()
	rr.ResourceType, rr.ResourceName, rr.ErrorCode = res.ResourceType, res.ResourceName, code
	return rr
}

func incrementalAlterConfigsRefused(res kmsg.IncrementalAlterConfigsRequestResource, code int16) kmsg.IncrementalAlterConfigsResponseResource {
	rr := kmsg.NewIncrementalAlterConfigsResponseResource()
	rr.ResourceType, rr.ResourceName, rr.ErrorCode = res.ResourceType, res.ResourceName, code
	return rr
}

package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeProducers, version 0 (KIP-664): each partition's active
// producers from its log's producer state (log.ActiveProducers): id,
// epoch, last sequence, last timestamp, the coordinator epoch of its last
// marker and the first offset of its open transaction, -1 where there is
// none. `weir txn abort --start-offset` uses it to find a hanging
// transaction's producer.
//
// As Kafka answers (KafkaApis.handleDescribeProducersRequest,
// ReplicaManager.activeProducerState): an invalid topic name is
// INVALID_TOPIC_EXCEPTION and a topic the cluster does not have
// UNKNOWN_TOPIC_OR_PARTITION for every partition asked; a partition of
// the topic not hosted here is NOT_LEADER_OR_FOLLOWER (one out of range
// UNKNOWN_TOPIC_OR_PARTITION), an offline log KAFKA_STORAGE_ERROR. Any
// replica with the log answers, a follower too (its producer state comes
// with replication); Kafka's admin client asks the leader.
func (b *Broker) handleDescribeProducers(r *kmsg.DescribeProducersRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.DescribeProducersResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewDescribeProducersResponseTopic()
		st.Topic = rt.Topic
		code := int16(0)
		if err := validTopicName(rt.Topic); err != nil {
			code = kerr.InvalidTopicException.Code
		} else if b.topic(rt.Topic) == nil {
			code = kerr.UnknownTopicOrPartition.Code
		}
		for _, part := range rt.Partitions {
			sp := kmsg.NewDescribeProducersResponseTopicPartition()
			sp.Partition, sp.ErrorCode = part, code
			if code == 0 {
				b.describeProducers(rt.Topic, &sp)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// describeProducers fills one partition's answer.
func (b *Broker) describeProducers(topic string, sp *kmsg.DescribeProducersResponseTopicPartition) {
	p := b.lookup(topic, sp.Partition)
	switch {
	case p == nil:
		sp.ErrorCode = b.notHostedCode(topic, sp.Partition)
		return
	case p.log.Failed() != nil:
		sp.ErrorCode = kerr.KafkaStorageError.Code
		return
	}
	for _, info := range p.log.ActiveProducers() {
		ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
		ap.ProducerID, ap.ProducerEpoch = info.ProducerID, int32(info.Epoch)
		ap.LastSequence, ap.LastTimestamp = info.LastSequence, info.LastTimestamp
		ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = info.CoordinatorEpoch, info.TxnStartOffset
		sp.ActiveProducers = append(sp.ActiveProducers, ap)
	}
}

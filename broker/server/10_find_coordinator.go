package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/group"
	"github.com/weirhq/weir/broker/txn"
)

// FindCoordinator, versions 0–6.
//
// v5 (KIP-890's TRANSACTION_ABORTABLE, never sent here) is v4's body; v6
// adds key type 2 (KIP-932 share groups), answered INVALID_REQUEST as an
// unknown key type: there are no share groups.
// Key type 0 (group): the leader of the group's __consumer_offsets
// partition; the topic is created on first use. Key type 1 (transaction):
// the leader of the transactional id's __transaction_state partition
// (txn.PartitionFor), the topic likewise created on first use. v4 batches
// keys (CoordinatorKeys) and answers per key; v0–v3 answer one Key.

func (b *Broker) handleFindCoordinator(r *kmsg.FindCoordinatorRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.FindCoordinatorResponse)
	if r.Version < 4 {
		c := b.findCoordinator(r.CoordinatorKey, r.CoordinatorType)
		resp.ErrorCode, resp.ErrorMessage = c.ErrorCode, c.ErrorMessage
		resp.NodeID, resp.Host, resp.Port = c.NodeID, c.Host, c.Port
		return resp
	}
	for _, key := range r.CoordinatorKeys {
		resp.Coordinators = append(resp.Coordinators, b.findCoordinator(key, r.CoordinatorType))
	}
	return resp
}

func (b *Broker) findCoordinator(key string, keyType int8) kmsg.FindCoordinatorResponseCoordinator {
	c := kmsg.NewFindCoordinatorResponseCoordinator()
	c.Key, c.NodeID, c.Port = key, -1, -1
	fail := func(e *kerr.Error, msg string) kmsg.FindCoordinatorResponseCoordinator {
		c.ErrorCode, c.ErrorMessage = e.Code, strPtr(msg)
		b.metrics.Errors.WithLabelValues("FindCoordinator", errName(e.Code)).Inc()
		return c
	}
	topic, ensure, partitionFor := offsetsTopic, b.ensureOffsetsTopic, group.PartitionFor
	switch keyType {
	case 0:
	case 1:
		if key == "" {
			return fail(kerr.InvalidRequest, "empty transactional id")
		}
		topic, ensure, partitionFor = txnTopic, b.ensureTxnTopic, txn.PartitionFor
	default:
		return fail(kerr.InvalidRequest, "unknown coordinator key type "+itoa(int(keyType)))
	}
	if err := ensure(); err != nil {
		b.logger.Debug("coordinator not available yet", "topic", topic, "err", err)
		return fail(kerr.CoordinatorNotAvailable, err.Error())
	}
	// The coordinator is the leader of the key's partition.
	img := b.node.Image()
	t, _ := img.Topic(topic)
	p := partitionFor(key, int32(len(t.Partitions)))
	leader := t.Partitions[p].Leader
	br, live := img.Broker(leader)
	if leader < 0 || !live || br.Fenced {
		return fail(kerr.CoordinatorNotAvailable, "the coordinator's partition has no leader")
	}
	c.NodeID, c.Host, c.Port = br.ID, br.Host, br.Port
	return c
}

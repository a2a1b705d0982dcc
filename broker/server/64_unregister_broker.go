package server

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/quorum"
)

// UnregisterBroker, version 0 (KIP-500/KIP-631; Kafka 2.8 to 4.x serve
// only v0), an admin request (`kafka-cluster.sh unregister`).
//
// Removes a broker's registration when it is decommissioned for good. It
// runs on the controller; other brokers forward it, as Kafka's brokers do.
// An id that is not registered answers BROKER_ID_NOT_REGISTERED. Otherwise
// one log entry fences the broker (it leaves every ISR it is not the last
// member of, its leaderships move) and forgets it: Metadata and
// DescribeCluster stop listing it, elections and placement stop
// considering it, and the controller stops tracking its heartbeats. Its
// replica assignments stay as they are, as in Kafka: empty a broker first
// (weir up's control plane unregisters only brokers the collector emptied
// and it stopped). The quorum leader then drops the broker from the raft
// configuration if it is a non-voter.
//
// Voters (controller.quorum.voters) are not refused, as Kafka does not
// refuse a combined node's broker: the registration goes, but the node
// stays a raft voter (the voter set is fixed) and registers again while
// it runs.
//
// A broker that is still running is not refused either: its next
// heartbeat gets BROKER_ID_NOT_REGISTERED and it registers again with a
// new broker epoch, fenced until it has caught up (broker/lifecycle), and
// rejoins the raft configuration. Kafka's own brokers differ: they keep
// heartbeating with the stale epoch and stay unregistered until restarted.
//
// Not authorized yet (issue 12): Kafka requires ALTER on the cluster.

func (b *Broker) handleUnregisterBroker(r *kmsg.UnregisterBrokerRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.unregisterBroker(r) })
}

func (b *Broker) unregisterBroker(r *kmsg.UnregisterBrokerRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.UnregisterBrokerResponse)
	if res, no := b.notController(); no {
		resp.ErrorCode, resp.ErrorMessage = res.code, strPtr(res.msg)
		return resp
	}
	if _, err := b.ctrl.Propose(quorum.UnregisterBroker{ID: r.BrokerID}); err != nil {
		res := fromErr(err)
		resp.ErrorCode, resp.ErrorMessage = res.code, strPtr(res.msg)
		return resp
	}
	b.ctrl.Forget(r.BrokerID)
	b.logger.Info("unregistered broker", "broker", r.BrokerID, "voter", b.isVoter(r.BrokerID))
	return resp
}

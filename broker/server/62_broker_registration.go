package server

import (
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/quorum"
)

// BrokerRegistration, versions 0–3 (KIP-631), inter-broker only.
//
// A broker registers with the active controller at start: its id, a new
// incarnation id per process, its rack and its advertised listener (whose
// address is also its raft address: raft shares the Kafka port). The
// broker is registered fenced and gets its broker epoch (the raft index of
// the registration); it is unfenced once a heartbeat shows it has caught up
// with the metadata log. A broker that is not one of the configured voters
// joins the raft group as a non-voter, so it keeps a copy of the metadata.

func (b *Broker) handleBrokerRegistration(r *kmsg.BrokerRegistrationRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.BrokerRegistrationResponse)
	resp.BrokerEpoch = -1
	if !b.node.IsLeader() {
		resp.ErrorCode = kerr.NotController.Code
		return resp
	}
	if r.ClusterID != b.clusterID() {
		resp.ErrorCode = kerr.InconsistentClusterID.Code
		return resp
	}
	if len(r.Listeners) == 0 {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp
	}
	l := r.Listeners[0]
	addr := net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port)))
	cmd := quorum.RegisterBroker{
		ID: r.BrokerID, IncarnationID: quorum.TopicID(r.IncarnationID).String(),
		Host: l.Host, Port: int32(l.Port), RaftAddr: addr,
	}
	for _, ln := range r.Listeners {
		cmd.Listeners = append(cmd.Listeners, quorum.Endpoint{Name: ln.Name, Host: ln.Host, Port: int32(ln.Port)})
	}
	if r.Rack != nil {
		cmd.Rack = *r.Rack
	}
	res, err := b.ctrl.Propose(cmd)
	if err != nil {
		resp.ErrorCode = errCode(err)
		return resp
	}
	resp.BrokerEpoch = res.(quorum.RegisterResult).Epoch
	b.ctrl.Beat(r.BrokerID, b.now()) // the quorum node adds non-voters itself
	b.logger.Info("registered broker", "broker", r.BrokerID, "addr", addr, "rack", cmd.Rack, "broker_epoch", resp.BrokerEpoch)
	return resp
}

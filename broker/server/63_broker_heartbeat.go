package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/quorum"
)

// BrokerHeartbeat, versions 0–1 (KIP-631), inter-broker only.
//
// Every broker heartbeats the active controller each
// broker.heartbeat.interval.ms with its broker epoch and how far it has
// applied the metadata log. The controller fences a broker whose
// heartbeats stop for broker.session.timeout.ms (moving its leaderships),
// and unfences a fenced one once it has caught up. A broker stopping
// cleanly asks to shut down: it is fenced at once, so its partitions get
// new leaders before it exits (controlled shutdown).

func (b *Broker) handleBrokerHeartbeat(r *kmsg.BrokerHeartbeatRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.BrokerHeartbeatResponse)
	if !b.ctrl.Beat(r.BrokerID, b.now()) {
		resp.ErrorCode = kerr.NotController.Code
		return resp
	}
	img := b.node.Image()
	br, ok := img.Broker(r.BrokerID)
	if !ok {
		resp.ErrorCode = kerr.BrokerIDNotRegistered.Code
		return resp
	}
	if br.Epoch != r.BrokerEpoch {
		resp.ErrorCode = kerr.StaleBrokerEpoch.Code
		return resp
	}
	caughtUp := r.CurrentMetadataOffset >= br.Epoch
	resp.IsCaughtUp, resp.IsFenced = caughtUp, br.Fenced
	if r.WantShutdown {
		if !br.Fenced {
			if _, err := b.ctrl.Propose(quorum.FenceBroker{ID: br.ID, Epoch: br.Epoch}); err != nil {
				resp.ErrorCode = errCode(err)
				return resp
			}
			b.logger.Info("controlled shutdown: fenced broker, its leaderships moved", "broker", br.ID)
		}
		resp.IsFenced, resp.ShouldShutdown = true, true
		return resp
	}
	cmd, err := quorum.OnHeartbeat(img, r.BrokerID, r.BrokerEpoch, caughtUp && !r.WantFence)
	if err != nil {
		resp.ErrorCode = errCode(err)
		return resp
	}
	if cmd != nil {
		if _, err := b.ctrl.Propose(cmd); err != nil {
			resp.ErrorCode = errCode(err)
			return resp
		}
		resp.IsFenced = false
		b.logger.Info("unfenced broker: it has caught up with the metadata log", "broker", r.BrokerID)
	}
	return resp
}

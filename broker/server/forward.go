package server

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// forwardToController sends a metadata-changing admin request, as the
// client sent it, to the active controller and returns its answer, as
// brokers forward such requests since KIP-590. ok=false when there is no
// controller to reach: the caller answers locally (NOT_CONTROLLER).
func (b *Broker) forwardToController(req kmsg.Request) (kmsg.Response, bool) {
	ctrl, found := b.node.LeaderID()
	if !found || ctrl == b.cfg.NodeID {
		return nil, false
	}
	addr, found := b.peerAddr(ctrl)
	if !found {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	pc, err := dialPeer(ctx, addr, "weir-forward-"+itoa(int(b.cfg.NodeID)))
	if err != nil {
		b.logger.Debug("forwarding to the controller failed", "controller", ctrl, "err", err)
		return nil, false
	}
	defer pc.Close()
	resp, err := pc.request(req, time.Now().Add(proposeTimeout+5*time.Second))
	if err != nil {
		b.logger.Debug("forwarding to the controller failed", "controller", ctrl, "err", err)
		return nil, false
	}
	return resp, true
}

// viaController answers req on the controller: here when this broker is
// it, else forwarded; local runs when forwarding is impossible too (it
// answers NOT_CONTROLLER).
func (b *Broker) viaController(req kmsg.Request, local func() kmsg.Response) kmsg.Response {
	if !b.node.IsLeader() {
		if resp, ok := b.forwardToController(req); ok {
			return resp
		}
	}
	return local()
}

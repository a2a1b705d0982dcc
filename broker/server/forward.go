package server

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/protocol"
)

// controllerRequest sends one request to the active controller (another
// broker) on a short-lived connection and returns its answer. Forwarded
// admin requests, topic auto-creation and producer-id blocks all go this
// way; the lifecycle's heartbeats and ISR changes keep their own
// connections (lifecycle.go).
func (b *Broker) controllerRequest(req kmsg.Request) (kmsg.Response, error) {
	ctrl, found := b.node.LeaderID()
	if !found || ctrl == b.cfg.NodeID {
		return nil, kerr.NotController
	}
	addr, found := b.peerAddr(ctrl)
	if !found {
		return nil, kerr.NotController
	}
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	pc, err := protocol.DialPeer(ctx, addr, "weir-broker-"+itoa(int(b.cfg.NodeID)))
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	return pc.Request(req, proposeTimeout+5*time.Second)
}

// forwardToController sends a metadata-changing admin request, as the
// client sent it, to the active controller and returns its answer, as
// brokers forward such requests since KIP-590. ok=false when there is no
// controller to reach: the caller answers locally (NOT_CONTROLLER).
func (b *Broker) forwardToController(req kmsg.Request) (kmsg.Response, bool) {
	resp, err := b.controllerRequest(req)
	if err != nil {
		b.logger.Debug("forwarding to the controller failed", "api", kmsg.NameForKey(req.Key()), "err", err)
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

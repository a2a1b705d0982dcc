package server

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// forwardToController sends a metadata-changing admin request, as the
// client sent it, to the active controller and returns its answer, as
// brokers forward such requests since KIP-590 (broker/lifecycle sends
// it). ok=false when there is no controller to reach: the caller answers
// locally (NOT_CONTROLLER).
func (b *Broker) forwardToController(req kmsg.Request) (kmsg.Response, bool) {
	resp, err := b.life.Request(req)
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

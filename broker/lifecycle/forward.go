package lifecycle

import (
	"context"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/protocol"
)

// Request sends one request to the active controller (another broker) on
// a short-lived connection and returns its answer: kerr.NotController when
// there is no other broker to ask. Forwarded admin requests (KIP-590),
// topic auto-creation and producer-id blocks all go this way; heartbeats
// and ISR changes keep their own connections (lifecycle.go).
func (l *Lifecycle) Request(req kmsg.Request) (kmsg.Response, error) {
	ctrl, found := l.o.Quorum.LeaderID()
	if !found || ctrl == l.o.NodeID {
		return nil, kerr.NotController
	}
	addr, found := l.o.PeerAddr(ctrl)
	if !found {
		return nil, kerr.NotController
	}
	ctx, cancel := context.WithTimeout(l.ctx, 5*time.Second)
	defer cancel()
	pc, err := protocol.DialPeerWith(ctx, l.o.Dial, addr, "weir-broker-"+strconv.Itoa(int(l.o.NodeID)))
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	return pc.Request(req, ProposeTimeout+5*time.Second)
}

package server

import (
	"net"
	"strings"

	"github.com/weirhq/weir/broker/config"
)

// advertised is the listener brokers reach this one on (and clients, of
// the same listener): the advertised listener named
// inter.broker.listener.name (default the first listener), else that
// listener itself, with a wildcard host replaced by "localhost" and
// an ephemeral port (0) replaced by the port actually bound.
func (b *Broker) advertised() config.Listener {
	return b.advertisedListener(b.cfg.InterBrokerListenerName)
}

// advertisedListener is the advertised form of the listener named name
// (the zero Listener if there is none).
func (b *Broker) advertisedListener(name string) config.Listener {
	var l config.Listener
	for _, c := range b.cfg.Listeners {
		if c.Name == name {
			l = c
		}
	}
	for _, a := range b.cfg.AdvertisedListeners {
		if a.Name == l.Name {
			l = a
			break
		}
	}
	if l.Host == "" || l.Host == "0.0.0.0" || l.Host == "::" {
		l.Host = "localhost"
	}
	if l.Port == 0 {
		if bl := b.listenerNamed(name); bl != nil && bl.ln != nil {
			ta, _ := bl.ln.Addr().(*net.TCPAddr)
			l.Port = ta.Port
		}
	}
	return l
}

// otherAdvertised are the advertised forms of every listener but the
// inter-broker one, registered so that clients of each listener are told
// its addresses (Metadata, FindCoordinator, DescribeCluster).
func (b *Broker) otherAdvertised() []config.Listener {
	var out []config.Listener
	for _, l := range b.cfg.Listeners {
		if l.Name == b.cfg.InterBrokerListenerName || b.isControllerListener(l.Name) {
			continue
		}
		out = append(out, b.advertisedListener(l.Name))
	}
	return out
}

func (b *Broker) isControllerListener(name string) bool {
	v, _ := b.cfg.Value("controller.listener.names")
	for _, n := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(n), name) {
			return true
		}
	}
	return false
}

package server

import (
	"net"

	"github.com/weirhq/weir/broker/config"
)

// advertised is the listener clients are told to connect to: the
// advertised listener with the same name as the first listener, else the
// first listener itself, with a wildcard host replaced by "localhost" and
// an ephemeral port (0) replaced by the port actually bound.
func (b *Broker) advertised() config.Listener {
	l := b.cfg.Listeners[0]
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
		if ta, ok := b.ln.Addr().(*net.TCPAddr); ok {
			l.Port = ta.Port
		}
	}
	return l
}

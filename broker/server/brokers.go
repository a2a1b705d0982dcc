package server

import (
	"net"
	"strconv"
)

// brokerAddr is a broker's advertised Kafka address, from metadata.
func (b *Broker) brokerAddr(id int32) (string, bool) {
	if id != b.cfg.NodeID {
		return "", false
	}
	adv := b.advertised()
	return net.JoinHostPort(adv.Host, strconv.Itoa(adv.Port)), true
}

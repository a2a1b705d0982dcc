package brokertest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
)

// Ports for test processes come from below the kernel's ephemeral range
// (32768-60999 by default): a port picked from that range by listening on
// :0 and closing is free only until some outgoing connection's source port
// takes it, which with many brokers and clients in parallel tests happens
// (bind: address already in use). Ports handed out in this test binary are
// never handed out twice.
const (
	portLow  = 20000
	portHigh = 32000
)

var handedOut struct {
	sync.Mutex
	ports map[int]bool
}

// FreeRange returns the first of n consecutive loopback ports that are
// free now, below the ephemeral range, and not handed out before in this
// test binary.
func FreeRange(t testing.TB, n int) int {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
	for range 1000 {
		base := portLow + rand.IntN(portHigh-portLow-n)
		if rangeFree(base, n) {
			for p := base; p < base+n; p++ {
				handedOut.ports[p] = true
			}
			return base
		}
	}
	t.Fatalf("brokertest: no %d consecutive free ports between %d and %d", n, portLow, portHigh)
	return 0
}

// rangeFree reports whether every port of the range is bindable and not
// handed out; handedOut is held.
func rangeFree(base, n int) bool {
	for p := base; p < base+n; p++ {
		if handedOut.ports[p] {
			return false
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

package server

import (
	"testing"

	"github.com/weirhq/weir/broker/brokertest"
)

// TestMain fails the package when a test leaves a goroutine running
// (brokertest.Main: goleak after the tests, and the weir binary the
// permission-matrix test built removed).
func TestMain(m *testing.M) { brokertest.Main(m) }

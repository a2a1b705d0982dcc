package console

import (
	"testing"

	"github.com/weirhq/weir/broker/brokertest"
)

// TestMain fails the package when a test leaves a goroutine running, and
// removes the weir binary the live benchmark builds (brokertest.Main).
func TestMain(m *testing.M) { brokertest.Main(m) }

package brokertest

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// Main is a TestMain for packages that use brokertest:
//
//	func TestMain(m *testing.M) { brokertest.Main(m) }
//
// It runs the tests, removes the binary that Binary built, and fails the
// package if goroutines are left running after all tests passed (clients not
// closed, watchers not stopped).
func Main(m *testing.M) {
	code := m.Run()
	RemoveBinary()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "brokertest: goroutines leaked by the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Package ddtest is the shared part of Weir's scripted tests
// (github.com/cockroachdb/datadriven): running every testdata/*.txt with a
// fresh script state, reading times as offsets on a fake clock, and the
// small parsers the scripts' arguments and input lines need.
//
// A script is a text file of commands, each followed by "----" and the
// output it must produce. `go test ./pkg -rewrite` (datadriven's own flag)
// regenerates the expected outputs; review the diff before committing.
package ddtest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// Handler runs one command of a script and returns its output.
type Handler func(t *testing.T, d *datadriven.TestData) string

// Walk runs every script under dir, each with the handler newScript
// returns, so no state carries from one file to the next.
func Walk(t *testing.T, dir string, newScript func(t *testing.T) Handler) {
	datadriven.Walk(t, dir, func(t *testing.T, path string) {
		h := newScript(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return h(t, d)
		})
	})
}

// Unknown fails the test on a command the script's handler does not know.
func Unknown(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	return ""
}

// Clock reads the scripts' times: an argument such as t=1m30s is that long
// after Epoch.
type Clock struct{ Epoch time.Time }

// At is the time in the argument key, which must be present.
func (c Clock) At(t *testing.T, d *datadriven.TestData, key string) time.Time {
	t.Helper()
	var dur time.Duration
	d.ScanArgs(t, key, &dur)
	return c.Epoch.Add(dur)
}

// MaybeAt is the time in the argument key, or def when it is absent.
func (c Clock) MaybeAt(t *testing.T, d *datadriven.TestData, key string, def time.Time) time.Time {
	t.Helper()
	var dur time.Duration
	if !d.MaybeScanArgs(t, key, &dur) {
		return def
	}
	return c.Epoch.Add(dur)
}

// Since renders a time as the script writes it: the offset from Epoch.
func (c Clock) Since(at time.Time) time.Duration { return at.Sub(c.Epoch) }

// Lines is the input's non-blank lines, trimmed.
func Lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Atoi parses a whole number or fails the test.
func Atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Int32s parses a list of ids, as in replicas=(1,2,3).
func Int32s(t *testing.T, vals []string) []int32 {
	t.Helper()
	out := make([]int32, 0, len(vals))
	for _, v := range vals {
		out = append(out, int32(Atoi(t, v)))
	}
	return out
}

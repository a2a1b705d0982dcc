package e2e

import (
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestKcatRoundTrip produces keyed lines with kcat (librdkafka) with each
// compression codec and reads them back with kcat: every line comes back
// once, and each partition holds its lines in the order they were produced.
func TestKcatRoundTrip(t *testing.T) {
	t.Parallel()
	kcat := lookTool(t, "kcat")
	b := startBroker(t, nil)
	adm := admin(t, b)

	const lines = 1000
	for _, c := range []struct {
		name, codec string
		extra       []string
	}{
		{"none", "none", nil},
		{"lz4", "lz4", nil},
		{"zstd", "zstd", nil},
		{"snappy", "snappy", nil},
		{"gzip", "gzip", nil},
		{"idempotent-lz4", "lz4", []string{"-X", "enable.idempotence=true"}},
	} {
		codec := c.codec
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			topic := "kcat-" + c.name
			createTopic(t, adm, topic, 3, nil)
			var in bytes.Buffer
			for i := range lines {
				fmt.Fprintf(&in, "key-%d:%s-%d\n", i, codec, i)
			}
			args := []string{"-P", "-b", b.Addr, "-t", topic, "-K:", "-X", "acks=all"}
			if codec != "none" {
				args = append(args, "-z", codec)
			}
			args = append(args, c.extra...)
			runKcat(t, kcat, &in, args...)

			out := runKcat(t, kcat, nil, "-C", "-b", b.Addr, "-t", topic, "-o", "beginning", "-e",
				"-f", "%p %o %k:%s\n")
			checkKcatLines(t, codec, lines, out)
		})
	}

	t.Run("metadata", func(t *testing.T) {
		createTopic(t, adm, "kcat-metadata", 3, nil)
		out := runKcat(t, kcat, nil, "-L", "-b", b.Addr, "-t", "kcat-metadata")
		for _, want := range []string{
			`topic "kcat-metadata" with 3 partitions`,
			fmt.Sprintf("broker %d at %s", b.NodeID, b.Addr),
		} {
			if !strings.Contains(out, want) {
				t.Errorf("kcat -L output lacks %q:\n%s", want, out)
			}
		}
	})
}

// checkKcatLines checks "partition offset key:value" lines against the
// produced key-i:codec-i lines.
func checkKcatLines(t *testing.T, codec string, n int, out string) {
	t.Helper()
	seen := map[int]bool{}
	lastByPart := map[int]int{}
	lastOffset := map[int]int64{}
	partsUsed := map[int]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var p int
		var off int64
		var kv string
		if _, err := fmt.Sscanf(line, "%d %d %s", &p, &off, &kv); err != nil {
			t.Fatalf("unparsable kcat line %q: %v", line, err)
		}
		i, ok := parseKcatKV(kv, codec)
		if !ok {
			t.Fatalf("unexpected record %q in partition %d", kv, p)
		}
		if seen[i] {
			t.Errorf("record %d consumed twice (partition %d offset %d)", i, p, off)
		}
		seen[i] = true
		partsUsed[p] = true
		if prev, ok := lastByPart[p]; ok && i < prev {
			t.Errorf("partition %d: record %d at offset %d comes after record %d", p, i, off, prev)
		}
		if prev, ok := lastOffset[p]; ok && off != prev+1 {
			t.Errorf("partition %d: offset %d follows %d", p, off, prev)
		}
		lastByPart[p], lastOffset[p] = i, off
	}
	if len(seen) != n {
		t.Errorf("consumed %d distinct records, produced %d", len(seen), n)
	}
	if len(partsUsed) != 3 {
		t.Errorf("records landed in partitions %v, want all 3 (keys hash across partitions)", partsUsed)
	}
}

func parseKcatKV(kv, codec string) (int, bool) {
	k, v, ok := strings.Cut(kv, ":")
	if !ok || !strings.HasPrefix(k, "key-") || !strings.HasPrefix(v, codec+"-") {
		return 0, false
	}
	i, err := strconv.Atoi(strings.TrimPrefix(k, "key-"))
	if err != nil || v != fmt.Sprintf("%s-%d", codec, i) {
		return 0, false
	}
	return i, true
}

// runKcat runs kcat with a deadline and returns its stdout, failing the test
// with its stderr if it fails.
func runKcat(t *testing.T, kcat string, stdin *bytes.Buffer, args ...string) string {
	t.Helper()
	ctx := testContext(t, 30*time.Second)
	cmd := exec.CommandContext(ctx, kcat, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %s: %v (ctx: %v) after printing %d lines\nstderr:\n%s",
			strings.Join(args, " "), err, ctx.Err(), strings.Count(stdout.String(), "\n"), tail(stderr.String(), 2000))
	}
	if errs := kcatErrors(stderr.String()); errs != "" {
		t.Errorf("kcat %s reported errors:\n%s", strings.Join(args, " "), errs)
	}
	return stdout.String()
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// kcatErrors picks kcat's and librdkafka's error lines out of its stderr:
// librdkafka logs at syslog levels ("%3|..." is an error), kcat says
// "% ERROR" and "% Delivery failed".
func kcatErrors(stderr string) string {
	var out []string
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "%0|") || strings.HasPrefix(line, "%1|") || strings.HasPrefix(line, "%2|") ||
			strings.HasPrefix(line, "%3|") || strings.Contains(line, "ERROR") || strings.Contains(line, "Delivery failed") {
			out = append(out, line)
		}
	}
	return tail(strings.Join(out, "\n"), 2000)
}

// TestKcatOldProtocols runs kcat with librdkafka's ApiVersions probe off
// and an old broker.version.fallback, so it speaks that release's
// protocol: 0.9.0 (Produce and Fetch v1, message format v0, ListOffsets
// and Metadata v0, group membership with JoinGroup v0) and 0.8.2 (Produce
// and Fetch v0, no groups). (From 0.10.0 on librdkafka asks ApiVersions
// whatever api.version.request says.) Lines produced that way
// (gzip-compressed in message-set wrappers for some) come back once and in
// order; a balanced consumer's group commits its position.
func TestKcatOldProtocols(t *testing.T) {
	t.Parallel()
	kcat := lookTool(t, "kcat")
	b := startBroker(t, map[string]string{"group.initial.rebalance.delay.ms": "0"})
	adm := admin(t, b)
	const lines = 300
	t.Cleanup(func() {
		wantServed(t, b, map[string][]int{"Produce": {0, 1}, "Fetch": {0, 1}, "ListOffsets": {0}, "Metadata": {0},
			"FindCoordinator": {0}, "JoinGroup": {0}, "SyncGroup": {0}, "OffsetCommit": {2}})
	})
	for _, c := range []struct {
		fallback, codec string
		group           bool
	}{
		{"0.9.0", "gzip", true}, {"0.9.0", "none", false}, {"0.8.2", "gzip", false}, {"0.8.2", "none", false},
		{"0.9.0", "lz4", false}, // message format v0's LZ4 framing (KAFKA-3160), both ways
	} {
		name := "kcat-old-" + strings.ReplaceAll(c.fallback, ".", "") + "-" + c.codec
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			createTopic(t, adm, name, 3, nil)
			old := []string{"-b", b.Addr, "-X", "api.version.request=false", "-X", "broker.version.fallback=" + c.fallback}
			var in bytes.Buffer
			for i := range lines {
				fmt.Fprintf(&in, "key-%d:%s-%d\n", i, c.codec, i)
			}
			args := append([]string{"-P", "-t", name, "-K:", "-X", "acks=all"}, old...)
			if c.codec != "none" {
				args = append(args, "-z", c.codec)
			}
			runKcat(t, kcat, &in, args...)
			if !c.group {
				out := runKcat(t, kcat, nil, append([]string{"-C", "-t", name, "-o", "beginning", "-e", "-f", "%p %o %k:%s\n"}, old...)...)
				checkKcatLines(t, c.codec, lines, out)
				return
			}
			out := runKcat(t, kcat, nil, append([]string{"-G", name, "-o", "beginning", "-e", "-f", "%p %o %k:%s\n",
				"-X", "enable.auto.commit=true", "-X", "auto.commit.interval.ms=100"}, append(old, name)...)...)
			checkKcatLines(t, c.codec, lines, out)
			offs, err := adm.FetchOffsets(testContext(t, 10*time.Second), name)
			if err != nil {
				t.Fatal(err)
			}
			ends := endOffsets(t, adm, name)
			for p, end := range ends {
				if o, ok := offs.Lookup(name, p); !ok || o.At != end {
					t.Errorf("partition %d: group committed %+v, want the end %d", p, o, end)
				}
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/weirhq/weir/internal/topicadmin"
)

// newCluster starts an in-process kfake cluster and returns its address.
func newCluster(t *testing.T) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

// result is what one weir invocation printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// weir runs the command line args against brokers (if not empty) with
// stdin, the way main does.
func weir(t *testing.T, brokers, stdin string, args ...string) result {
	t.Helper()
	if brokers != "" {
		args = append(args, "--brokers", brokers)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &out, &errb)
	return result{out.String(), errb.String(), code}
}

// mustWeir is weir that fails the test on a non-zero exit.
func mustWeir(t *testing.T, brokers, stdin string, args ...string) result {
	t.Helper()
	r := weir(t, brokers, stdin, args...)
	if r.code != 0 {
		t.Fatalf("weir %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func TestEveryCommandHasHelp(t *testing.T) {
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Name() == "help" || c.Name() == "completion" || c.Parent() != nil && c.Parent().Name() == "completion" {
			return
		}
		path := strings.Fields(c.CommandPath())[1:]
		t.Run(strings.Join(append([]string{"weir"}, path...), "_"), func(t *testing.T) {
			if c.Short == "" || c.Long == "" {
				t.Errorf("%s: Short or Long help missing", c.CommandPath())
			}
			if !c.Hidden && c.Example == "" {
				t.Errorf("%s: no examples", c.CommandPath())
			}
			r := mustWeir(t, "", "", append(path, "--help")...)
			if !strings.Contains(r.stdout, "Usage:") {
				t.Errorf("%s --help printed no usage:\n%s", c.CommandPath(), r.stdout)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd())
}

func TestErrorsAreOneClearLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"topic", "list", "--bogus"}, "weir: topic list: unknown flag: --bogus (see 'weir topic list --help')\n"},
		{[]string{"topic", "create", "--partitions", "many", "x"}, `weir: topic create: invalid argument "many" for "--partitions" flag`},
		{[]string{"topic", "create"}, "weir: topic create: want exactly one topic NAME, got 0 arguments"},
		{[]string{"topic", "delete"}, "weir: topic delete: missing topic NAME"},
		{[]string{"topic", "list", "-o", "yaml"}, `weir: --output "yaml": want table or json`},
		{[]string{"topic", "create", "x", "--config", "novalue"}, `weir: creating topic x: --config "novalue": want key=value`},
		{[]string{"consume", "t", "--from-beginning", "--offset", "3"}, "weir: consume: --from-beginning and --offset do not go together"},
		{[]string{"bench", "produce", "--acks", "1", "--idempotent", "--records", "1"}, "idempotent writes need acks=all"},
		{[]string{"consume", "t", "--group", "g", "--partition", "0"}, "weir: consume: --group and --partition do not go together"},
		{[]string{"nope"}, `weir: unknown command "nope" for "weir"`},
		{[]string{"autoscaler"}, `required flag(s) "policy" not set`},
		{[]string{"autoscaler", "--policy", "../../autoscaler/policies/msk-storage.yaml", "--msk-cluster-arn", "arn:aws:kafka:eu-west-1:123456789012:cluster/p/u"},
			"--msk-cluster-arn needs --agent ID=URL for every broker"},
		{[]string{"autoscaler", "--policy", "../../autoscaler/policies/local-small.yaml", "--msk-cluster-arn", "arn:aws:kafka:eu-west-1:123456789012:cluster/p/u",
			"--agent", "1=http://b-1:11001/metrics"}, "storage.per_broker: MSK sets one volume size for every broker"},
		{[]string{"autoscaler", "--policy", "../../autoscaler/policies/brokers-cpu.yaml", "--msk-cluster-arn", "arn:aws:kafka:eu-west-1:123456789012:cluster/p/u",
			"--agent", "1=http://b-1:11001/metrics"}, "MSK moves no partitions when the broker count changes: give --collector"},
		{[]string{"autoscaler", "--policy", "x.yaml", "--agent", "one=http://x"}, `--agent "one=http://x": want BROKER_ID=URL`},
		{[]string{"autoscaler", "check", "../../autoscaler/policies/full.yaml", "../../README.md"}, "1 of 2 files refused"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := weir(t, "", "", tt.args...)
			if r.code != 1 {
				t.Errorf("exit code %d, want 1", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q, want it to contain %q", r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "Usage:") {
				t.Errorf("stderr has a trace or usage dump:\n%s", r.stderr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	r := mustWeir(t, "", "", "version")
	if !strings.HasPrefix(r.stdout, "weir dev (commit dev, go1.") {
		t.Errorf("version printed %q", r.stdout)
	}
}

func TestBrokersFromEnvironment(t *testing.T) {
	t.Setenv("WEIR_BROKERS", "a:1,b:2")
	got := defaultBrokers()
	if len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
		t.Errorf("defaultBrokers() = %v", got)
	}
}

func TestTopicLifecycle(t *testing.T) {
	b := newCluster(t)

	r := mustWeir(t, b, "", "topic", "create", "orders", "--partitions", "3", "--replication-factor", "1", "--config", "retention.ms=1000")
	if !strings.Contains(r.stdout, "created topic orders (3 partitions, replication factor 1)") {
		t.Errorf("create printed %q", r.stdout)
	}
	mustWeir(t, b, "", "topic", "create", "payments", "--validate-only")
	r = weir(t, b, "", "topic", "create", "orders")
	if r.code != 1 || !strings.Contains(r.stderr, "weir: creating topic orders: TOPIC_ALREADY_EXISTS") {
		t.Errorf("second create: exit %d, stderr %q", r.code, r.stderr)
	}

	r = mustWeir(t, b, "", "topic", "list")
	if !strings.Contains(r.stdout, "NAME") || !strings.Contains(r.stdout, "orders") || strings.Contains(r.stdout, "payments") {
		t.Errorf("list printed:\n%s", r.stdout)
	}
	var rows []topicRow
	r = mustWeir(t, b, "", "topic", "list", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 1 || rows[0] != (topicRow{"orders", 3, 1, false}) {
		t.Errorf("list -o json: %v %+v", err, rows)
	}

	mustWeir(t, b, "hello\nworld\n", "produce", "orders", "--partition", "1")
	r = mustWeir(t, b, "", "topic", "describe", "orders")
	for _, want := range []string{"Topic: orders", "Partitions: 3", "Configs: retention.ms=1000", "LOG-END"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("describe lacks %q:\n%s", want, r.stdout)
		}
	}
	descs := describeJSON(t, b, "orders")
	if p := descs[0].Partitions[1]; p.LogStartOffset != 0 || p.LogEndOffset != 2 || p.Leader != 0 || len(p.Replicas) != 1 {
		t.Errorf("partition 1: %+v, want offsets 0..2 led by 0", p)
	}

	r = mustWeir(t, b, "", "topic", "alter-config", "orders", "--set", "retention.ms=2000", "--set", "cleanup.policy=compact")
	if !strings.Contains(r.stdout, "altered configs of topic orders") {
		t.Errorf("alter-config printed %q", r.stdout)
	}
	if cfg := describeJSON(t, b, "orders")[0].Configs; cfg["retention.ms"] != "2000" || cfg["cleanup.policy"] != "compact" {
		t.Errorf("after --set: configs %v", cfg)
	}
	mustWeir(t, b, "", "topic", "alter-config", "orders", "--delete", "retention.ms")
	if cfg := describeJSON(t, b, "orders")[0].Configs; cfg["retention.ms"] != "" || cfg["cleanup.policy"] != "compact" {
		t.Errorf("after --delete: configs %v", cfg)
	}
	r = weir(t, b, "", "topic", "alter-config", "orders")
	if r.code != 1 || !strings.Contains(r.stderr, "nothing to change") {
		t.Errorf("alter-config without changes: %+v", r)
	}

	r = mustWeir(t, b, "", "topic", "delete", "orders")
	if !strings.Contains(r.stdout, "deleted topic orders") {
		t.Errorf("delete printed %q", r.stdout)
	}
	r = weir(t, b, "", "topic", "describe", "orders")
	if r.code != 1 || !strings.Contains(r.stderr, "weir: describing topic orders: UNKNOWN_TOPIC_OR_PARTITION") {
		t.Errorf("describe after delete: exit %d, stderr %q", r.code, r.stderr)
	}
	r = weir(t, b, "", "topic", "delete", "orders", "ghost")
	if r.code != 1 || strings.Count(r.stderr, "UNKNOWN_TOPIC_OR_PARTITION") != 2 || strings.Count(r.stderr, "weir: ") != 2 {
		t.Errorf("deleting two missing topics: exit %d, stderr %q", r.code, r.stderr)
	}
}

func describeJSON(t *testing.T, brokers string, topics ...string) []topicadmin.Description {
	t.Helper()
	r := mustWeir(t, brokers, "", append([]string{"topic", "describe", "-o", "json"}, topics...)...)
	var descs []topicadmin.Description
	if err := json.Unmarshal([]byte(r.stdout), &descs); err != nil || len(descs) != len(topics) {
		t.Fatalf("describe -o json: %v, %d descriptions:\n%s", err, len(descs), r.stdout)
	}
	return descs
}

func TestProduceConsumeRoundTrip(t *testing.T) {
	b := newCluster(t)
	mustWeir(t, b, "", "topic", "create", "events", "--partitions", "1")

	r := mustWeir(t, b, "u1:clicked\nu2:bought\nno key here\n", "produce", "events", "--key-separator", ":")
	if !strings.Contains(r.stderr, "produced 3 records") {
		t.Errorf("produce summary %q", r.stderr)
	}
	r = mustWeir(t, b, "", "consume", "events", "--from-beginning", "--max-messages", "3", "--print-key", "--key-separator", "=")
	if want := "u1=clicked\nu2=bought\n=no key here\n"; r.stdout != want {
		t.Errorf("consume printed %q, want %q", r.stdout, want)
	}
	r = mustWeir(t, b, "", "consume", "events", "--partition", "0", "--offset", "1", "--max-messages", "2")
	if want := "bought\nno key here\n"; r.stdout != want {
		t.Errorf("consume --offset 1 printed %q, want %q", r.stdout, want)
	}

	// A group picks up where its last member stopped.
	r = mustWeir(t, b, "", "consume", "events", "--group", "g", "--from-beginning", "--max-messages", "2")
	if r.stdout != "clicked\nbought\n" {
		t.Errorf("group's first read %q", r.stdout)
	}
	r = mustWeir(t, b, "", "consume", "events", "--group", "g", "--max-messages", "1")
	if r.stdout != "no key here\n" {
		t.Errorf("group's second read %q, want the third record", r.stdout)
	}
}

func TestConsumeUntilCancelled(t *testing.T) {
	b := newCluster(t)
	mustWeir(t, b, "", "topic", "create", "live", "--partitions", "1")
	mustWeir(t, b, "one\n", "produce", "live")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"consume", "live", "--from-beginning", "-b", b}, strings.NewReader(""), &out, &errb)
	if code != 0 || out.String() != "one\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and the record", code, out.String(), errb.String())
	}
}

func TestBenchProduceConsumeCommands(t *testing.T) {
	b := newCluster(t)
	r := mustWeir(t, b, "", "bench", "produce", "--topic", "load", "--records", "500", "--record-size", "64", "--partitions", "2", "--clients", "2")
	if !strings.Contains(r.stdout, "500 records") || !strings.Contains(r.stdout, "p99") {
		t.Errorf("bench produce printed %q", r.stdout)
	}
	r = mustWeir(t, b, "", "bench", "consume", "--topic", "load", "-o", "json")
	var res struct{ Records int64 }
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Records != 502 {
		t.Errorf("bench consume -o json: %v, %q", err, r.stdout)
	}
}

func TestKfakeServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var errb bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- runKfake(ctx, &errb, 0, 2) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("runKfake: %v", err)
	}
	if !strings.Contains(errb.String(), "kfake listening on 127.0.0.1:") {
		t.Errorf("kfake-server printed %q", errb.String())
	}
	if err := runKfake(context.Background(), &errb, 0, 0); err == nil {
		t.Error("runKfake with 0 brokers: no error")
	}
}

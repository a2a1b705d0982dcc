package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/internal/await"
	"github.com/weirhq/weir/internal/groupadmin"
)

// produceTo writes n records to each partition of topic, counts[p] to p.
func produceTo(t *testing.T, brokers, topic string, counts ...int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var rs []*kgo.Record
	for p, n := range counts {
		for range n {
			rs = append(rs, &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte("v")})
		}
	}
	if err := cl.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		t.Fatalf("producing: %v", err)
	}
}

// joinGroup starts a consumer in group that reads all want records of
// topic and then commits commits (partition to offset) as a member.
func joinGroup(t *testing.T, brokers, group, topic string, want int, commits map[int32]int64, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for got := 0; got < want; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", got, want, err)
		}
		got += fs.NumRecords()
	}
	offsets := map[string]map[int32]kgo.EpochOffset{topic: {}}
	for p, o := range commits {
		offsets[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	var commitErr error
	cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		commitErr = err
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if rp.ErrorCode != 0 && commitErr == nil {
					t.Errorf("commit %s/%d: error code %d", rt.Topic, rp.Partition, rp.ErrorCode)
				}
			}
		}
	})
	if commitErr != nil {
		t.Fatalf("committing: %v", commitErr)
	}
	return cl
}

func describeGroupJSON(t *testing.T, brokers, group string) groupadmin.Description {
	t.Helper()
	r := mustWeir(t, brokers, "", "group", "describe", group, "-o", "json")
	var descs []groupadmin.Description
	if err := json.Unmarshal([]byte(r.stdout), &descs); err != nil || len(descs) != 1 {
		t.Fatalf("group describe -o json: %v, %d descriptions:\n%s", err, len(descs), r.stdout)
	}
	return descs[0]
}

// waitForState polls describe until group is in state.
func waitForState(t *testing.T, brokers, group, state string) groupadmin.Description {
	t.Helper()
	var d groupadmin.Description
	await.For(t, 10*time.Second, "group "+group+" "+state, func() error {
		if d = describeGroupJSON(t, brokers, group); d.State != state {
			return fmt.Errorf("group %s still %s", group, d.State)
		}
		return nil
	})
	return d
}

// offsetsOf is the plan or description as "partition:current lag" strings
// for compact comparison.
func offsetsOf(d groupadmin.Description) []string {
	var out []string
	for _, p := range d.Partitions {
		out = append(out, strings.Join([]string{p.Topic, itoa(int64(p.Partition)), offsetOrDash(p.CurrentOffset),
			offsetOrDash(nonNegative(p.LogEndOffset)), offsetOrDash(p.Lag)}, " "))
	}
	return out
}

func itoa(n int64) string { return offsetOrDash(&n) }

func equalRows(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// resetJSON runs reset-offsets with -o json and returns the plan.
func resetJSON(t *testing.T, brokers string, args ...string) (groupadmin.Plan, result) {
	t.Helper()
	r := mustWeir(t, brokers, "", append([]string{"group", "reset-offsets", "-o", "json"}, args...)...)
	var plan groupadmin.Plan
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatalf("reset-offsets -o json: %v\n%s", err, r.stdout)
	}
	return plan, r
}

func planRows(p groupadmin.Plan) []string {
	var out []string
	for _, r := range p.Partitions {
		out = append(out, r.Topic+" "+itoa(int64(r.Partition))+" "+offsetOrDash(r.Old)+" "+itoa(r.New))
	}
	return out
}

func TestGroupLifecycle(t *testing.T) {
	b := newCluster(t)
	mustWeir(t, b, "", "topic", "create", "orders", "--partitions", "2")
	produceTo(t, b, "orders", 10, 6)
	member := joinGroup(t, b, "app", "orders", 16, map[int32]int64{0: 4})

	// An active group: both partitions assigned, only partition 0 committed.
	r := mustWeir(t, b, "", "group", "list")
	if !strings.Contains(r.stdout, "GROUP") || !hasRow(r.stdout, "app", "Stable", "consumer", "1") {
		t.Errorf("list printed:\n%s", r.stdout)
	}
	var rows []groupadmin.ListRow
	r = mustWeir(t, b, "", "group", "list", "-o", "json", "--state", "stable,empty")
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 1 || rows[0] != (groupadmin.ListRow{Group: "app", State: "Stable", ProtocolType: "consumer", Members: 1}) {
		t.Errorf("list -o json: %v %+v", err, rows)
	}
	if r = mustWeir(t, b, "", "group", "list", "--state", "Empty"); strings.Contains(r.stdout, "app") {
		t.Errorf("list --state Empty printed the Stable group:\n%s", r.stdout)
	}

	d := describeGroupJSON(t, b, "app")
	if d.State != "Stable" || d.ProtocolType != "consumer" || len(d.Members) != 1 {
		t.Fatalf("describe: %+v", d)
	}
	equalRows(t, "describe while active", offsetsOf(d), "orders 0 4 10 6", "orders 1 - 6 -")
	m := d.Members[0]
	for _, p := range d.Partitions {
		if p.ConsumerID != m.ConsumerID || p.ClientID != m.ClientID || p.Host != m.Host {
			t.Errorf("partition %d: consumer %q %q %q, want the member %+v", p.Partition, p.ConsumerID, p.Host, p.ClientID, m)
		}
	}
	r = mustWeir(t, b, "", "group", "describe", "app")
	if !strings.HasPrefix(r.stdout, "Group: app\tCoordinator: 0\tState: Stable\tProtocol: consumer/") ||
		!hasRow(r.stdout, "orders", "0", "4", "10", "6", m.ConsumerID) || !hasRow(r.stdout, "orders", "1", "-", "6", "-", m.ConsumerID) {
		t.Errorf("describe printed:\n%s", r.stdout)
	}
	r = mustWeir(t, b, "", "group", "describe", "app", "--members")
	if !hasRow(r.stdout, m.ConsumerID, "-", m.Host, m.ClientID, "2", "orders(0,1)") {
		t.Errorf("describe --members printed:\n%s", r.stdout)
	}

	// Offsets of an active group are not reset, and it is not deleted;
	// a dry run still shows the plan.
	r = weir(t, b, "", "group", "reset-offsets", "app", "--topic", "orders", "--to-earliest", "--execute")
	if r.code != 1 || !strings.Contains(r.stderr, "weir: resetting offsets of group app: the group is active (state Stable, members: 1); stop its consumers first") {
		t.Errorf("reset --execute on an active group: exit %d, stderr %q", r.code, r.stderr)
	}
	plan, r := resetJSON(t, b, "app", "--topic", "orders", "--to-earliest")
	equalRows(t, "dry run on an active group", planRows(plan), "orders 0 4 0", "orders 1 - 0")
	if plan.Executed || !strings.Contains(r.stderr, "dry run, nothing committed; group app is active") {
		t.Errorf("dry run: executed %t, stderr %q", plan.Executed, r.stderr)
	}
	r = weir(t, b, "", "group", "delete", "app")
	if r.code != 1 || !strings.Contains(r.stderr, "weir: deleting group app: NON_EMPTY_GROUP") || !strings.Contains(r.stderr, "stop its consumers first") {
		t.Errorf("delete of an active group: exit %d, stderr %q", r.code, r.stderr)
	}

	// Once the member leaves, the group is Empty and shows only what it
	// committed.
	member.Close()
	d = waitForState(t, b, "app", "Empty")
	equalRows(t, "describe when empty", offsetsOf(d), "orders 0 4 10 6")
	r = mustWeir(t, b, "", "group", "describe", "app")
	if !hasRow(r.stdout, "orders", "0", "4", "10", "6", "-", "-", "-") || strings.Contains(r.stdout, "ERROR") {
		t.Errorf("describe of the empty group printed:\n%s", r.stdout)
	}
	if p := d.Partitions[0]; p.ConsumerID != "" || p.Host != "" || p.ClientID != "" || len(d.Members) != 0 {
		t.Errorf("empty group: %+v", d)
	}

	// A dry run changes nothing; --execute commits.
	r = mustWeir(t, b, "", "group", "reset-offsets", "app", "--topic", "orders", "--to-earliest")
	if !hasRow(r.stdout, "TOPIC", "PARTITION", "OLD", "NEW") || !hasRow(r.stdout, "orders", "0", "4", "0") || !hasRow(r.stdout, "orders", "1", "-", "0") {
		t.Errorf("dry run printed:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "add --execute") {
		t.Errorf("dry run said %q", r.stderr)
	}
	equalRows(t, "after the dry run", offsetsOf(describeGroupJSON(t, b, "app")), "orders 0 4 10 6")
	r = mustWeir(t, b, "", "group", "reset-offsets", "app", "--topic", "orders", "--to-earliest", "--execute")
	if !strings.Contains(r.stderr, "committed 2 offsets for group app") {
		t.Errorf("execute said %q", r.stderr)
	}
	equalRows(t, "after --to-earliest", offsetsOf(describeGroupJSON(t, b, "app")), "orders 0 0 10 10", "orders 1 0 6 6")

	steps := []struct {
		args []string
		want []string
	}{
		{[]string{"--topic", "orders:1", "--shift-by", "3"}, []string{"orders 1 0 3"}},
		{[]string{"--topic", "orders:1", "--shift-by", "-100"}, []string{"orders 1 3 0"}},
		{[]string{"--topic", "orders:0", "--to-offset", "100"}, []string{"orders 0 0 10"}},
		{[]string{"--topic", "orders:1", "--to-offset", "2"}, []string{"orders 1 0 2"}},
		{[]string{"--topic", "orders", "--to-datetime", "2000-01-01T00:00:00Z"}, []string{"orders 0 10 0", "orders 1 2 0"}},
		{[]string{"--all-topics", "--to-datetime", "2100-01-01T00:00:00Z"}, []string{"orders 0 0 10", "orders 1 0 6"}},
		{[]string{"--all-topics", "--by-duration", "1h"}, []string{"orders 0 10 0", "orders 1 6 0"}},
		{[]string{"--topic", "orders:0,1", "--to-latest"}, []string{"orders 0 0 10", "orders 1 0 6"}},
	}
	for _, s := range steps {
		plan, _ := resetJSON(t, b, append([]string{"app", "--execute"}, s.args...)...)
		equalRows(t, strings.Join(s.args, " "), planRows(plan), s.want...)
		if !plan.Executed || plan.Group != "app" {
			t.Errorf("%v: plan %+v", s.args, plan)
		}
	}
	equalRows(t, "after the resets", offsetsOf(describeGroupJSON(t, b, "app")), "orders 0 10 10 0", "orders 1 6 6 0")

	r = mustWeir(t, b, "", "group", "delete", "app")
	if r.stdout != "deleted group app\n" {
		t.Errorf("delete printed %q", r.stdout)
	}
	if r = mustWeir(t, b, "", "group", "list"); strings.Contains(r.stdout, "app") {
		t.Errorf("list after delete:\n%s", r.stdout)
	}
	r = weir(t, b, "", "group", "describe", "app")
	if r.code != 1 || !strings.Contains(r.stderr, "weir: describing group app: GROUP_ID_NOT_FOUND") {
		t.Errorf("describe after delete: exit %d, stderr %q", r.code, r.stderr)
	}
}

// hasRow reports whether some line of out has exactly the fields want
// as its leading whitespace-separated fields.
func hasRow(out string, want ...string) bool {
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= len(want) && strings.Join(f[:len(want)], " ") == strings.Join(want, " ") {
			return true
		}
	}
	return false
}

func TestGroupResetOffsetsOfNewGroup(t *testing.T) {
	b := newCluster(t)
	mustWeir(t, b, "", "topic", "create", "orders", "--partitions", "1")
	produceTo(t, b, "orders", 5)

	r := weir(t, b, "", "group", "reset-offsets", "fresh", "--topic", "orders", "--shift-by", "1")
	if r.code != 1 || !strings.Contains(r.stderr, "weir: resetting offsets of group fresh: orders partition 0: no committed offset to shift") {
		t.Errorf("shift without a commit: exit %d, stderr %q", r.code, r.stderr)
	}
	r = weir(t, b, "", "group", "reset-offsets", "fresh", "--all-topics", "--to-latest")
	if r.code != 1 || !strings.Contains(r.stderr, "the group has no committed offsets; name topics with --topic") {
		t.Errorf("--all-topics without commits: exit %d, stderr %q", r.code, r.stderr)
	}
	r = weir(t, b, "", "group", "reset-offsets", "fresh", "--topic", "orders:7", "--to-latest")
	if r.code != 1 || !strings.Contains(r.stderr, "topic orders has no partition 7 (it has 1)") {
		t.Errorf("missing partition: exit %d, stderr %q", r.code, r.stderr)
	}
	r = weir(t, b, "", "group", "reset-offsets", "fresh", "--topic", "nope", "--to-latest")
	if r.code != 1 || !strings.Contains(r.stderr, "topic nope: UNKNOWN_TOPIC_OR_PARTITION") {
		t.Errorf("missing topic: exit %d, stderr %q", r.code, r.stderr)
	}

	// A group that does not exist yet gets its offsets set.
	plan, _ := resetJSON(t, b, "fresh", "--topic", "orders", "--to-offset", "3", "--execute")
	equalRows(t, "new group", planRows(plan), "orders 0 - 3")
	equalRows(t, "new group described", offsetsOf(describeGroupJSON(t, b, "fresh")), "orders 0 3 5 2")
}

func TestGroupConsumerProtocol(t *testing.T) {
	b := newCluster(t)
	mustWeir(t, b, "", "topic", "create", "orders", "--partitions", "2")
	produceTo(t, b, "orders", 3, 3)
	joinGroup(t, b, "next", "orders", 6, map[int32]int64{1: 2}, kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer()))

	d := describeGroupJSON(t, b, "next")
	if len(d.Members) != 1 || d.ProtocolType != "consumer" {
		t.Fatalf("describe of a KIP-848 group: %+v", d)
	}
	equalRows(t, "describe", offsetsOf(d), "orders 0 - 3 -", "orders 1 2 3 1")
	if d.Partitions[1].ConsumerID != d.Members[0].ConsumerID {
		t.Errorf("partition 1 consumer %q, want %q", d.Partitions[1].ConsumerID, d.Members[0].ConsumerID)
	}
	r := weir(t, b, "", "group", "reset-offsets", "next", "--all-topics", "--to-earliest", "--execute")
	if r.code != 1 || !strings.Contains(r.stderr, "the group is active") {
		t.Errorf("reset of an active KIP-848 group: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestGroupFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"group", "describe"}, "weir: group describe: missing GROUP"},
		{[]string{"group", "delete"}, "weir: group delete: missing GROUP"},
		{[]string{"group", "reset-offsets", "--to-earliest", "--topic", "t"}, "weir: group reset-offsets: want exactly one GROUP, got 0 arguments"},
		{[]string{"group", "list", "--state", "sleepy"}, `weir: listing groups: --state "sleepy": want one of Stable, Empty`},
		{[]string{"group", "list", "-o", "yaml"}, `weir: --output "yaml": want table or json`},
		{[]string{"group", "reset-offsets", "g", "--topic", "t"}, "weir: resetting offsets of group g: give exactly one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime, --by-duration"},
		{[]string{"group", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--to-offset", "3"}, "give exactly one of"},
		{[]string{"group", "reset-offsets", "g", "--to-earliest"}, "weir: resetting offsets of group g: give either --topic (repeatable) or --all-topics"},
		{[]string{"group", "reset-offsets", "g", "--to-earliest", "--topic", "t", "--all-topics"}, "give either --topic (repeatable) or --all-topics"},
		{[]string{"group", "reset-offsets", "g", "--to-earliest", "--topic", "t:x"}, `--topic "t:x": partition "x" is not a partition number`},
		{[]string{"group", "reset-offsets", "g", "--to-earliest", "--topic", "t:"}, `--topic "t:": want TOPIC or TOPIC:PARTITION,PARTITION`},
		{[]string{"group", "reset-offsets", "g", "--topic", "t", "--to-datetime", "yesterday"}, `--to-datetime "yesterday": want RFC 3339`},
		{[]string{"group", "reset-offsets", "g", "--topic", "t", "--to-offset", "-1"}, "--to-offset -1: want an offset, 0 or more"},
		{[]string{"group", "reset-offsets", "g", "--topic", "t", "--by-duration", "-1h"}, "--by-duration -1h0m0s: want a positive duration"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := weir(t, "", "", tt.args...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q, want one line containing %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

package groupadmin

import (
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func at(o int64) *int64 { return &o }

func TestNewOffset(t *testing.T) {
	b := Bounds{Committed: at(50), Start: 10, End: 100, AtTime: 70}
	tests := []struct {
		name string
		s    Strategy
		b    Bounds
		want int64
		err  bool
	}{
		{"earliest", Strategy{Kind: Earliest}, b, 10, false},
		{"latest", Strategy{Kind: Latest}, b, 100, false},
		{"to offset", Strategy{ToOffset, 42}, b, 42, false},
		{"to offset below the log start", Strategy{ToOffset, 3}, b, 10, false},
		{"to offset past the end", Strategy{ToOffset, 300}, b, 100, false},
		{"shift forward", Strategy{ShiftBy, 5}, b, 55, false},
		{"shift back past the start", Strategy{ShiftBy, -45}, b, 10, false},
		{"shift past the end", Strategy{ShiftBy, 51}, b, 100, false},
		{"shift without a commit", Strategy{ShiftBy, 1}, Bounds{Start: 0, End: 9}, 0, true},
		{"to time", Strategy{Kind: ToTime}, b, 70, false},
		{"to time past the end (no record that late)", Strategy{Kind: ToTime}, Bounds{Start: 0, End: 9, AtTime: 12}, 9, false},
		{"earliest of an empty log", Strategy{Kind: Earliest}, Bounds{Start: 5, End: 5}, 5, false},
	}
	for _, tt := range tests {
		got, err := NewOffset(tt.s, tt.b)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("%s: got %d, %v; want %d, error %t", tt.name, got, err, tt.want, tt.err)
		}
	}
}

// commitsOf builds a FetchOffsets answer for topic t: partition to
// committed offset.
func commitsOf(t string, offsets map[int32]int64) kadm.OffsetResponses {
	rs := kadm.OffsetResponses{t: {}}
	for p, o := range offsets {
		rs[t][p] = kadm.OffsetResponse{Offset: kadm.Offset{Topic: t, Partition: p, At: o}}
	}
	return rs
}

func planRows(p Plan) string {
	var rows []string
	for _, r := range p.Partitions {
		old := "-"
		if r.Old != nil {
			old = fmt.Sprint(*r.Old)
		}
		rows = append(rows, fmt.Sprintf("%s/%d %s->%d", r.Topic, r.Partition, old, r.New))
	}
	return strings.Join(rows, " ")
}

func TestBuildPlan(t *testing.T) {
	tps := []TopicPartition{{"orders", 0}, {"orders", 1}, {"orders", 2}}
	bounds := map[TopicPartition]Bounds{
		{"orders", 0}: {Start: 0, End: 10, AtTime: 4},
		{"orders", 1}: {Start: 5, End: 20, AtTime: 20},
		{"orders", 2}: {Start: 0, End: 0, AtTime: 0},
	}
	commits := commitsOf("orders", map[int32]int64{0: 7, 1: 6})
	failed := kadm.OffsetResponses{"orders": {
		0: {Offset: kadm.Offset{Topic: "orders", Partition: 0, At: 7}},
		1: {Offset: kadm.Offset{Topic: "orders", Partition: 1, At: 6}, Err: kerr.UnknownTopicOrPartition},
		2: {Offset: kadm.Offset{Topic: "orders", Partition: 2, At: -1}},
	}}
	tests := []struct {
		name    string
		commits kadm.OffsetResponses
		s       Strategy
		want    string // topic/partition old->new, or the error
	}{
		{"earliest", commits, Strategy{Kind: Earliest}, "orders/0 7->0 orders/1 6->5 orders/2 -->0"},
		{"latest", commits, Strategy{Kind: Latest}, "orders/0 7->10 orders/1 6->20 orders/2 -->0"},
		{"to offset, clamped per partition", commits, Strategy{ToOffset, 8}, "orders/0 7->8 orders/1 6->8 orders/2 -->0"},
		{"to time", commits, Strategy{Kind: ToTime}, "orders/0 7->4 orders/1 6->20 orders/2 -->0"},
		{"a new group has no commits", nil, Strategy{Kind: Latest}, "orders/0 -->10 orders/1 -->20 orders/2 -->0"},
		{"failed and negative commits count as none", failed, Strategy{Kind: Earliest}, "orders/0 7->0 orders/1 -->5 orders/2 -->0"},
		{"shift needs a commit on every partition", commits, Strategy{ShiftBy, -2}, "orders partition 2: no committed offset to shift"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := BuildPlan("app", tps, tt.commits, bounds, tt.s)
			got := planRows(plan)
			if err != nil {
				got = err.Error()
			} else if plan.Group != "app" || plan.Executed {
				t.Errorf("plan of group %q, executed %t; want app, not executed", plan.Group, plan.Executed)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestBuildPlanShiftBy(t *testing.T) {
	tps := []TopicPartition{{"orders", 0}, {"orders", 1}}
	bounds := map[TopicPartition]Bounds{{"orders", 0}: {Start: 0, End: 10}, {"orders", 1}: {Start: 5, End: 20}}
	commits := commitsOf("orders", map[int32]int64{0: 7, 1: 6})
	for s, want := range map[int64]string{
		-2:  "orders/0 7->5 orders/1 6->5",
		3:   "orders/0 7->10 orders/1 6->9",
		100: "orders/0 7->10 orders/1 6->20",
	} {
		plan, err := BuildPlan("app", tps, commits, bounds, Strategy{ShiftBy, s})
		if got := planRows(plan); err != nil || got != want {
			t.Errorf("shift by %d: got %s, %v; want %s", s, got, err, want)
		}
	}
}

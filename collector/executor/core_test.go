package executor

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/collector/model"
)

func TestPickBatch(t *testing.T) {
	mv := func(p int32, size float64, old, new []int32) *task {
		return newTask(model.Move{Topic: "t", Partition: p, OldReplicas: old, NewReplicas: new, OldLeader: old[0], Size: size})
	}
	leaderOf := func(m *model.Move) int32 { return m.OldReplicas[0] }
	tests := []struct {
		name  string
		tasks []*task
		busy  map[int32]int
		lim   limits
		want  []int32 // partitions started, in order
	}{
		{"per broker limit skips, smaller moves fill idle brokers",
			[]*task{mv(0, 30, []int32{1, 2}, []int32{3, 2}), mv(1, 20, []int32{1, 2}, []int32{3, 2}), mv(2, 10, []int32{4, 5}, []int32{6, 5})},
			map[int32]int{}, limits{perBroker: 1, cluster: 10}, []int32{0, 2}},
		{"cluster limit",
			[]*task{mv(0, 30, []int32{1}, []int32{2}), mv(1, 20, []int32{3}, []int32{4}), mv(2, 10, []int32{5}, []int32{6})},
			map[int32]int{}, limits{perBroker: 5, cluster: 2}, []int32{0, 1}},
		{"brokers already busy",
			[]*task{mv(0, 30, []int32{1}, []int32{2}), mv(1, 20, []int32{3}, []int32{4})},
			map[int32]int{2: 2}, limits{perBroker: 2, cluster: 10}, []int32{1}},
		{"the leader counts though it stays",
			[]*task{mv(0, 30, []int32{1, 2}, []int32{1, 3}), mv(1, 20, []int32{1, 4}, []int32{1, 5})},
			map[int32]int{}, limits{perBroker: 1, cluster: 10}, []int32{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := slices.Clone(tc.tasks)
			slices.SortStableFunc(q, byPriority)
			var got []int32
			for _, tk := range pickBatch(q, tc.busy, 0, tc.lim, leaderOf) {
				got = append(got, tk.move.Partition)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("started %v, want %v", got, tc.want)
			}
			for b, n := range tc.busy {
				if n > tc.lim.perBroker {
					t.Errorf("broker %d has %d moves, limit %d", b, n, tc.lim.perBroker)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := model.Move{Topic: "t", Partition: 0, OldReplicas: []int32{1}, NewReplicas: []int32{2}}
	tests := []struct {
		name  string
		moves []model.Move
		want  string // "" for valid
	}{
		{"valid", []model.Move{ok}, ""},
		{"none", nil, "no moves"},
		{"empty target", []model.Move{{Topic: "t", NewReplicas: nil}}, "no new replicas"},
		{"duplicate broker", []model.Move{{Topic: "t", NewReplicas: []int32{1, 2, 1}}}, "broker 1 twice"},
		{"partition twice", []model.Move{ok, ok}, "moved twice"},
	}
	for _, tc := range tests {
		err := validate(tc.moves)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: validate = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestLimitsFor(t *testing.T) {
	c := DefaultConfig()
	c.ReplicationThrottle = 100
	if l := c.limitsFor(Request{}); l != (limits{5, 1250, 1000, 100}) {
		t.Errorf("defaults: %+v", l)
	}
	if l := c.limitsFor(Request{ConcurrentPartitionMovementsPerBroker: 2, ReplicationThrottle: -1}); l != (limits{2, 1250, 1000, 0}) {
		t.Errorf("overrides: %+v", l)
	}
}

func TestWantedThrottles(t *testing.T) {
	tasks := []*task{
		newTask(model.Move{Topic: "a", Partition: 0, OldReplicas: []int32{1, 2}, NewReplicas: []int32{3, 2}, OldLeader: 1}),
		newTask(model.Move{Topic: "a", Partition: 1, OldReplicas: []int32{1, 2}, NewReplicas: []int32{2, 1}, OldLeader: 1}), // leadership only
		newTask(model.Move{Topic: "b", Partition: 5, OldReplicas: []int32{4}, NewReplicas: []int32{5}, OldLeader: 4}),
	}
	brokers, topics := wantedThrottles(tasks)
	if !slices.Equal(brokers, []int32{1, 2, 3, 4, 5}) {
		t.Errorf("brokers %v", brokers)
	}
	want := []topicThrottle{
		{Topic: "a", Leader: []string{"0:1", "0:2"}, Follower: []string{"0:3"}},
		{Topic: "b", Leader: []string{"5:4"}, Follower: []string{"5:5"}},
	}
	for i := range want {
		if i >= len(topics) || topics[i].Topic != want[i].Topic || !slices.Equal(topics[i].Leader, want[i].Leader) || !slices.Equal(topics[i].Follower, want[i].Follower) {
			t.Fatalf("topics %+v, want %+v", topics, want)
		}
	}
	if got := missing([]string{"0:1", "0:2"}, "0:2, 7:7"); !slices.Equal(got, []string{"0:1"}) {
		t.Errorf("missing: %v", got)
	}
	if got := missing([]string{"0:1"}, "*"); got != nil {
		t.Errorf("missing under *: %v", got)
	}
}

func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "execution.json")
	if r, err := loadRecord(path); r != nil || err != nil {
		t.Fatalf("missing file: %v, %v", r, err)
	}
	in := &record{TaskID: "t1", Started: time.Unix(100, 0).UTC(),
		Moves:     []model.Move{{Topic: "a", Partition: 1, OldReplicas: []int32{1}, NewReplicas: []int32{2}, Size: 10}},
		Throttles: &throttleRecord{Rate: 5, Brokers: []brokerThrottle{{Broker: 1, Previous: map[string]string{leaderRate: "9"}}}}}
	if err := saveRecord(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := loadRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	if out.TaskID != "t1" || !out.Started.Equal(in.Started) || len(out.Moves) != 1 || out.Throttles.Brokers[0].Previous[leaderRate] != "9" {
		t.Fatalf("read back %+v", out)
	}
	if err := removeRecord(path); err != nil {
		t.Fatal(err)
	}
	if r, _ := loadRecord(path); r != nil {
		t.Fatal("record still there after removal")
	}
}

func TestSummarize(t *testing.T) {
	mk := func(p int32, state moveState, leader leaderState) *task {
		tk := newTask(model.Move{Topic: "t", Partition: p, OldReplicas: []int32{1, 2}, NewReplicas: []int32{3, 2}, OldLeader: 1, Size: 100})
		tk.replicas, tk.leader = state, leader
		return tk
	}
	tasks := []*task{
		mk(0, completed, leaderCompleted), mk(1, completed, leaderPending), mk(2, inProgress, leaderPending),
		mk(3, pending, leaderPending), mk(4, aborted, leaderAborted), mk(5, dead, leaderAborted),
	}
	tasks[5].err = "INVALID_REPLICA_ASSIGNMENT"
	start := time.Unix(0, 0)
	var s State
	s.summarize(tasks, start, start.Add(10*time.Second))
	want := PartitionCounts{Total: 6, Pending: 1, InProgress: 1, Completed: 2, Aborted: 1, Dead: 1}
	if s.Partitions != want {
		t.Errorf("partitions %+v, want %+v", s.Partitions, want)
	}
	if l := (LeaderCounts{Total: 6, Pending: 3, Completed: 1, Aborted: 2}); s.Leaders != l {
		t.Errorf("leaders %+v, want %+v", s.Leaders, l)
	}
	if s.DataToMove != 600 || s.DataMoved != 200 || s.DataRemaining != 200 {
		t.Errorf("data: to move %d, moved %d, remaining %d", s.DataToMove, s.DataMoved, s.DataRemaining)
	}
	if s.ETA != 10*time.Second { // 200 bytes in 10s, 200 to go
		t.Errorf("ETA %v, want 10s", s.ETA)
	}
	if len(s.InFlight) != 1 || s.InFlight[0].Partition != "t-2" || len(s.Failures) != 1 || s.Failures[0].Error != "INVALID_REPLICA_ASSIGNMENT" {
		t.Errorf("in flight %+v, failures %+v", s.InFlight, s.Failures)
	}
}

func TestNewTaskLeadership(t *testing.T) {
	tests := []struct {
		old, new []int32
		want     leaderState
	}{
		{[]int32{1, 2}, []int32{3, 2}, leaderPending},       // the leader leaves
		{[]int32{1, 2}, []int32{1, 3}, leaderNone},          // the leader stays first
		{[]int32{1, 2, 3}, []int32{2, 1, 3}, leaderPending}, // leadership only
		{[]int32{1, 2, 3}, []int32{1, 3, 2}, leaderPending}, // order only
		{[]int32{1, 2}, []int32{1, 2}, leaderNone},          // nothing
	}
	for _, tc := range tests {
		tk := newTask(model.Move{Topic: "t", OldReplicas: tc.old, NewReplicas: tc.new, OldLeader: tc.old[0]})
		if tk.leader != tc.want {
			t.Errorf("%v -> %v: leader state %d, want %d", tc.old, tc.new, tk.leader, tc.want)
		}
	}
}

// TestRecoveringUntilRun: a new executor reports Recovering until Run has
// looked for the previous run's execution (an idle phase then does not
// mean nothing runs).
func TestRecoveringUntilRun(t *testing.T) {
	e := New(nil, DefaultConfig(), nil, nil)
	if s := e.State(); !s.Recovering || s.Phase != PhaseIdle {
		t.Errorf("new executor: recovering %t, phase %s", s.Recovering, s.Phase)
	}
	e.ready(nil)
	if s := e.State(); s.Recovering {
		t.Error("still recovering after ready")
	}
}

package quorum

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestPlaceReplicas(t *testing.T) {
	tests := []struct {
		name        string
		racks       int
		brokers     []int32
		fenced      []int32
		n, rf, seed int
		code        *kerr.Error
		want        [][]int32
	}{
		{name: "no racks", brokers: []int32{1, 2, 3}, n: 3, rf: 2,
			want: [][]int32{{1, 2}, {2, 3}, {3, 1}}},
		{name: "seed rotates", brokers: []int32{1, 2, 3}, n: 2, rf: 1, seed: 1,
			want: [][]int32{{2}, {3}}},
		{name: "racks alternate", racks: 2, brokers: []int32{1, 2, 3, 4}, n: 4, rf: 2,
			// rack r0: 2 4, rack r1: 1 3 → arranged 2 1 4 3
			want: [][]int32{{2, 1}, {1, 4}, {4, 3}, {3, 2}}},
		{name: "skips fenced", brokers: []int32{1, 2, 3}, fenced: []int32{2}, n: 2, rf: 2,
			want: [][]int32{{1, 3}, {3, 1}}},
		{name: "rf > live", brokers: []int32{1, 2, 3}, fenced: []int32{3}, n: 1, rf: 3, code: kerr.InvalidReplicationFactor},
		{name: "rf zero", brokers: []int32{1}, n: 1, rf: 0, code: kerr.InvalidReplicationFactor},
		{name: "no partitions", brokers: []int32{1}, n: 0, rf: 1, code: kerr.InvalidPartitions},
		{name: "no brokers", n: 1, rf: 1, code: kerr.InvalidReplicationFactor},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBuilder(t)
			b.brokers(tc.racks, tc.brokers...)
			for _, id := range tc.fenced {
				b.must(FenceBroker{ID: id})
			}
			got, err := PlaceReplicas(b.img, tc.n, tc.rf, tc.seed)
			wantCode(t, err, tc.code)
			if tc.want != nil && fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// Over many partitions, every replica list spans distinct racks and
// leaders and replicas spread evenly.
func TestPlaceReplicasSpread(t *testing.T) {
	b := newBuilder(t)
	b.brokers(3, 1, 2, 3, 4, 5, 6) // racks r0: 3 6, r1: 1 4, r2: 2 5
	for seed := range 6 {
		got, err := PlaceReplicas(b.img, 60, 3, seed)
		if err != nil {
			t.Fatal(err)
		}
		leaders, replicas := map[int32]int{}, map[int32]int{}
		for _, rs := range got {
			racks := map[string]bool{}
			for _, r := range rs {
				racks[b.img.Brokers[r].Rack] = true
				replicas[r]++
			}
			if len(racks) != 3 {
				t.Fatalf("seed %d: %v spans racks %v", seed, rs, racks)
			}
			leaders[rs[0]]++
		}
		for id := int32(1); id <= 6; id++ {
			if leaders[id] != 10 || replicas[id] != 30 {
				t.Fatalf("seed %d: broker %d leads %d and holds %d", seed, id, leaders[id], replicas[id])
			}
		}
	}
}

func TestElectLeader(t *testing.T) {
	live := func(ids ...int32) func(int32) bool {
		return func(id int32) bool { return slices.Contains(ids, id) }
	}
	tests := []struct {
		name        string
		p           Partition
		live        func(int32) bool
		unclean     bool
		want        int32
		wantUnclean bool
	}{
		{"keeps a live leader", Partition{Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: 2}, live(1, 2), false, 2, false},
		{"first live ISR replica", Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{3, 2}, Leader: 1}, live(2, 3), false, 2, false},
		{"none in ISR live", Partition{Replicas: []int32{1, 2}, ISR: []int32{1}, Leader: 1}, live(2), false, NoLeader, false},
		{"unclean", Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1}, Leader: 1}, live(3), true, 3, true},
		{"unclean prefers ISR", Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{3}, Leader: NoLeader}, live(2, 3), true, 3, false},
		{"nobody", Partition{Replicas: []int32{1}, ISR: []int32{1}, Leader: 1}, live(), true, NoLeader, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, unclean := ElectLeader(tc.p, tc.live, tc.unclean)
			if got != tc.want || unclean != tc.wantUnclean {
				t.Fatalf("got %d %v, want %d %v", got, unclean, tc.want, tc.wantUnclean)
			}
		})
	}
}

func TestOnBrokerFenced(t *testing.T) {
	b := newBuilder(t)
	b.brokers(0, 1, 2, 3)
	b.topic("a", []int32{1, 2, 3}, []int32{2, 3, 1})
	b.topic("b", []int32{1})
	b.topic("c", []int32{2, 3})
	changes := OnBrokerFenced(b.img, 1)
	got := map[string]Partition{}
	for _, c := range changes {
		got[fmt.Sprintf("%s-%d", c.Topic, c.Partition)] = c.New
	}
	want := map[string]Partition{
		"a-0": {Replicas: []int32{1, 2, 3}, ISR: []int32{2, 3}, Leader: 2, LeaderEpoch: 1, PartitionEpoch: 1},
		"a-1": {Replicas: []int32{2, 3, 1}, ISR: []int32{2, 3}, Leader: 2, LeaderEpoch: 0, PartitionEpoch: 1},
		"b-0": {Replicas: []int32{1}, ISR: []int32{1}, Leader: NoLeader, LeaderEpoch: 1, PartitionEpoch: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("changes\n%v\nwant\n%v", got, want)
	}
	// The image itself is untouched, and FenceBroker makes the same changes.
	if b.part("a", 0).Leader != 1 {
		t.Fatal("OnBrokerFenced changed the image")
	}
	b.must(FenceBroker{ID: 1})
	for _, c := range changes {
		if p := b.part(c.Topic, c.Partition); fmt.Sprint(p) != fmt.Sprint(c.New) {
			t.Fatalf("%s-%d: applied %v, decided %v", c.Topic, c.Partition, p, c.New)
		}
	}
}

func TestValidateReplicas(t *testing.T) {
	b := newBuilder(t)
	b.brokers(0, 1, 2)
	b.must(RegisterBroker{ID: 3, IncarnationID: "x", Host: "h", Port: 1})
	tests := []struct {
		replicas    []int32
		rf          int
		requireLive bool
		code        *kerr.Error
	}{
		{[]int32{1, 2}, 2, true, nil},
		{[]int32{1, 3}, 0, false, nil},
		{[]int32{1, 3}, 0, true, kerr.InvalidReplicaAssignment},
		{[]int32{1, 9}, 0, false, kerr.InvalidReplicaAssignment},
		{[]int32{1, 1}, 0, false, kerr.InvalidReplicaAssignment},
		{[]int32{1}, 2, false, kerr.InvalidReplicaAssignment},
		{nil, 0, false, kerr.InvalidReplicaAssignment},
	}
	for _, tc := range tests {
		wantCode(t, ValidateReplicas(b.img, tc.replicas, tc.rf, tc.requireLive), tc.code)
	}
}

func TestReassignmentSteps(t *testing.T) {
	tests := []struct{ cur, target, replicas, adding, removing []int32 }{
		{[]int32{1, 2, 3}, []int32{4, 2, 3}, []int32{4, 2, 3, 1}, []int32{4}, []int32{1}},
		{[]int32{1, 2, 3}, []int32{2, 3}, []int32{2, 3, 1}, []int32{}, []int32{1}},
		{[]int32{1}, []int32{2, 3}, []int32{2, 3, 1}, []int32{2, 3}, []int32{1}},
		{[]int32{1, 2}, []int32{2, 1}, []int32{2, 1}, []int32{}, []int32{}},
	}
	for _, tc := range tests {
		r, a, rm := ReassignmentSteps(tc.cur, tc.target)
		if !slices.Equal(r, tc.replicas) || !slices.Equal(a, tc.adding) || !slices.Equal(rm, tc.removing) {
			t.Fatalf("%v→%v: %v %v %v", tc.cur, tc.target, r, a, rm)
		}
	}
}

func TestHeartbeatTracker(t *testing.T) {
	t0 := time.Unix(1000, 0)
	h := NewHeartbeatTracker()
	h.Beat(1, t0)
	h.Beat(2, t0.Add(5*time.Second))
	h.Beat(3, t0)
	h.Forget(3)
	tests := []struct {
		at   time.Duration
		want []int32
	}{
		{9 * time.Second, nil},
		{9*time.Second + 1, []int32{1}},
		{15 * time.Second, []int32{1, 2}},
	}
	for _, tc := range tests {
		if got := h.Expired(t0.Add(tc.at), 9*time.Second); !slices.Equal(got, tc.want) {
			t.Fatalf("at %v: %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestFenceExpiredAndOnHeartbeat(t *testing.T) {
	b := newBuilder(t)
	b.brokers(0, 1, 2)
	b.must(RegisterBroker{ID: 3, IncarnationID: "x", Host: "h", Port: 1})
	t0 := time.Unix(0, 0)
	h := NewHeartbeatTracker()
	for _, id := range []int32{1, 2, 3} {
		h.Beat(id, t0)
	}
	h.Beat(2, t0.Add(8*time.Second))
	cmds := FenceExpired(b.img, h, t0.Add(10*time.Second), 9*time.Second)
	if fmt.Sprint(cmds) != fmt.Sprint([]Command{FenceBroker{ID: 1, Epoch: 1}}) {
		t.Fatalf("fence %v", cmds) // 3 is already fenced
	}
	tests := []struct {
		id       int32
		epoch    int64
		caughtUp bool
		want     Command
		code     *kerr.Error
	}{
		{3, 5, true, UnfenceBroker{ID: 3, Epoch: 5}, nil},
		{3, 5, false, nil, nil},
		{1, 1, true, nil, nil},
		{3, 2, true, nil, kerr.StaleBrokerEpoch},
		{9, 0, true, nil, kerr.BrokerIDNotRegistered},
	}
	for _, tc := range tests {
		got, err := OnHeartbeat(b.img, tc.id, tc.epoch, tc.caughtUp)
		wantCode(t, err, tc.code)
		if got != tc.want {
			t.Fatalf("heartbeat %d: %v, want %v", tc.id, got, tc.want)
		}
	}
}

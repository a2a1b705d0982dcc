package monitor

import (
	"math"
	"testing"

	"github.com/weirhq/weir/collector/model"
)

func TestApportionCPU(t *testing.T) {
	part := func(name string, leader int32, replicas []int32, in, out float64) model.Partition {
		return model.Partition{Topic: name, Leader: leader, Replicas: replicas, Load: model.PartitionLoad{BytesIn: in, BytesOut: out}}
	}
	for _, tc := range []struct {
		name       string
		parts      []model.Partition
		cpu        map[int32]float64
		leader     []float64
		follower   []float64
		brokerSums map[int32]float64 // what each broker's replicas should add up to
	}{
		{name: "one leader takes its broker's CPU",
			parts: []model.Partition{part("a", 1, []int32{1}, 100, 100)}, cpu: map[int32]float64{1: 2},
			leader: []float64{2}, follower: []float64{0}},
		{name: "by weight: w(leader a) = 0.6·100 + 0.1·(0 + 100) = 70, w(follower b) = 0.3·100 = 30",
			parts: []model.Partition{part("a", 1, []int32{1, 2}, 100, 0), part("b", 2, []int32{2, 1}, 100, 0)},
			cpu:   map[int32]float64{1: 1, 2: 2},
			// broker 1: a leads (70), b follows (30): 0.7 and 0.3; broker 2: b leads 1.4, a follows 0.6
			leader: []float64{0.7, 1.4}, follower: []float64{0.6, 0.3}},
		{name: "an idle broker's CPU is split equally",
			parts: []model.Partition{part("a", 1, []int32{1}, 0, 0), part("b", 1, []int32{1}, 0, 0)}, cpu: map[int32]float64{1: 1},
			leader: []float64{0.5, 0.5}, follower: []float64{0, 0}},
		{name: "a broker without a CPU measurement contributes none",
			parts: []model.Partition{part("a", 1, []int32{1, 2, 3}, 100, 0)}, cpu: map[int32]float64{1: 1, 2: 1},
			leader: []float64{1}, follower: []float64{0.5}},
		{name: "offline: every replica a follower",
			parts: []model.Partition{part("a", -1, []int32{1, 2}, 0, 0)}, cpu: map[int32]float64{1: 1, 2: 3},
			leader: []float64{0}, follower: []float64{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apportionCPU(tc.parts, tc.cpu)
			for i, p := range tc.parts {
				if math.Abs(p.Load.LeaderCPU-tc.leader[i]) > 1e-9 || math.Abs(p.Load.FollowerCPU-tc.follower[i]) > 1e-9 {
					t.Errorf("%s: leader %v follower %v, want %v %v", p.Topic, p.Load.LeaderCPU, p.Load.FollowerCPU, tc.leader[i], tc.follower[i])
				}
			}
		})
	}
}

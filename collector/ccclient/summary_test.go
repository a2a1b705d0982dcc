package ccclient

import (
	"fmt"
	"testing"
)

func TestMovesPerBroker(t *testing.T) {
	tests := []struct {
		name string
		ps   []Proposal
		want map[int32]BrokerMoves
	}{
		{"none", nil, map[int32]BrokerMoves{}},
		{"one replica moves, leader stays", []Proposal{{OldLeader: 1, OldReplicas: []int32{1, 2}, NewReplicas: []int32{1, 3}, DataToMoveMB: 10}},
			map[int32]BrokerMoves{2: {ReplicasOut: 1, MBOut: 10}, 3: {ReplicasIn: 1, MBIn: 10}}},
		{"leadership only", []Proposal{{OldLeader: 1, OldReplicas: []int32{1, 2}, NewReplicas: []int32{2, 1}}},
			map[int32]BrokerMoves{1: {LeadersOut: 1}, 2: {LeadersIn: 1}}},
		{"two replicas move, the data split over them", []Proposal{{OldLeader: 1, OldReplicas: []int32{1, 2, 3}, NewReplicas: []int32{4, 5, 3}, DataToMoveMB: 8}},
			map[int32]BrokerMoves{1: {ReplicasOut: 1, LeadersOut: 1, MBOut: 4}, 2: {ReplicasOut: 1, MBOut: 4},
				4: {ReplicasIn: 1, LeadersIn: 1, MBIn: 4}, 5: {ReplicasIn: 1, MBIn: 4}}},
		{"replication factor lowered: nothing added, the data counts whole", []Proposal{{OldLeader: 1, OldReplicas: []int32{1, 2}, NewReplicas: []int32{1}, DataToMoveMB: 3}},
			map[int32]BrokerMoves{2: {ReplicasOut: 1, MBOut: 3}}},
		{"tallies add up over proposals", []Proposal{
			{OldLeader: 1, OldReplicas: []int32{1}, NewReplicas: []int32{2}, DataToMoveMB: 1},
			{OldLeader: 1, OldReplicas: []int32{1}, NewReplicas: []int32{2}, DataToMoveMB: 2}},
			map[int32]BrokerMoves{1: {ReplicasOut: 2, LeadersOut: 2, MBOut: 3}, 2: {ReplicasIn: 2, LeadersIn: 2, MBIn: 3}}},
	}
	for _, tt := range tests {
		got := MovesPerBroker(tt.ps)
		if len(got) != len(tt.want) {
			t.Errorf("%s: %d brokers, want %d: %v", tt.name, len(got), len(tt.want), got)
			continue
		}
		for id, w := range tt.want {
			if g := got[id]; g == nil || *g != w {
				t.Errorf("%s: broker %d: got %+v, want %+v", tt.name, id, g, w)
			}
		}
	}
}

func TestSpread(t *testing.T) {
	disk := func(b BrokerLoad) float64 { return b.DiskPct }
	tests := []struct {
		name    string
		brokers []BrokerLoad
		want    string // lo mean hi
	}{
		{"none", nil, "0 0 0"},
		{"three", []BrokerLoad{{DiskPct: 30}, {DiskPct: 60}, {DiskPct: 90}}, "30 60 90"},
		{"dead and removing brokers left out", []BrokerLoad{{DiskPct: 30}, {DiskPct: 0, BrokerState: "DEAD"}, {DiskPct: 99, BrokerState: "REMOVING"}, {DiskPct: 50}}, "30 40 50"},
		{"only dead", []BrokerLoad{{DiskPct: 10, BrokerState: "DEAD"}}, "0 0 0"},
	}
	for _, tt := range tests {
		lo, mean, hi := (&BrokerStats{Brokers: tt.brokers}).Spread(disk)
		if got := fmt.Sprint(lo, mean, hi); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

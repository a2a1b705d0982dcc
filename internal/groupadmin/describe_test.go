package groupadmin

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func show(o *int64) string {
	if o == nil {
		return "-"
	}
	return fmt.Sprint(*o)
}

func TestLag(t *testing.T) {
	tests := []struct {
		name      string
		committed *int64
		end       int64
		want      string
	}{
		{"behind", at(40), 100, "60"},
		{"caught up", at(100), 100, "0"},
		{"committed past the end (log truncated)", at(120), 100, "0"},
		{"no commit", nil, 100, "-"},
		{"unknown end", at(40), -1, "-"},
		{"empty log", at(0), 0, "0"},
	}
	for _, tt := range tests {
		if got := show(Lag(tt.committed, tt.end)); got != tt.want {
			t.Errorf("%s: lag %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestPartitionRow(t *testing.T) {
	commits := kadm.OffsetResponses{"orders": {
		0: {Offset: kadm.Offset{Topic: "orders", Partition: 0, At: 3}},
		1: {Offset: kadm.Offset{Topic: "orders", Partition: 1, At: -1}},
		2: {Offset: kadm.Offset{Topic: "orders", Partition: 2}, Err: kerr.UnstableOffsetCommit},
	}}
	ends := kadm.ListedOffsets{
		"orders": {0: {Offset: 10}, 1: {Offset: 4}, 2: {Offset: 8}},
		"gone":   {-1: {Partition: -1, Err: kerr.UnknownTopicOrPartition}},
	}
	members := []Member{{ConsumerID: "c1", Host: "/10.0.0.1", ClientID: "app", Assignment: map[string][]int32{"orders": {0, 1}}}}
	owners := partitionOwners(members)
	tests := []struct {
		topic string
		p     int32
		want  string // current end lag consumer | error
	}{
		{"orders", 0, "3 10 7 c1 | "},
		{"orders", 1, "- 4 - c1 | "},
		{"orders", 2, "- 8 - - | committed offset: " + kerr.UnstableOffsetCommit.Error()},
		{"orders", 3, "- - - - | log end offset: not in the ListOffsets response"},
		{"gone", 0, "- - - - | log end offset: " + kerr.UnknownTopicOrPartition.Error()},
	}
	for _, tt := range tests {
		r := partitionRow(tt.topic, tt.p, commits, ends, owners)
		end := "-"
		if r.LogEndOffset >= 0 {
			end = fmt.Sprint(r.LogEndOffset)
		}
		consumer := r.ConsumerID
		if consumer == "" {
			consumer = "-"
		}
		got := fmt.Sprintf("%s %s %s %s | %s", show(r.CurrentOffset), end, show(r.Lag), consumer, r.Error)
		if got != tt.want {
			t.Errorf("%s/%d: got %q, want %q", tt.topic, tt.p, got, tt.want)
		}
	}
}

func TestIsInactive(t *testing.T) {
	tests := []struct {
		d    Description
		want bool
	}{
		{Description{State: "Empty"}, true},
		{Description{State: "Dead"}, true},
		{Description{State: "empty"}, true},
		{Description{State: "Stable", Members: []Member{{}}}, false},
		{Description{State: "Empty", Members: []Member{{}}}, false},
		{Description{State: "PreparingRebalance"}, false},
	}
	for _, tt := range tests {
		if got := tt.d.IsInactive(); got != tt.want {
			t.Errorf("%s with %d members: inactive %t, want %t", tt.d.State, len(tt.d.Members), got, tt.want)
		}
	}
}

package console

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/collector/ccclient"
)

func TestFilter(t *testing.T) {
	rec := struct {
		key, value []byte
		headers    []kgo.RecordHeader
	}{[]byte("user-17"), []byte(`{"amount": 250}`), []kgo.RecordHeader{{Key: "trace", Value: []byte("abc-123")}}}
	for _, tc := range []struct {
		q, mode, field string
		want           bool
	}{
		{"user", "", "", true},
		{"user", "substring", "value", false},
		{"amount", "substring", "value", true},
		{"trace", "", "headers", true},
		{"abc-1", "", "headers", true},
		{"abc-1", "", "key", false},
		{`^user-\d+$`, "regex", "key", true},
		{`"amount":\s*2\d\d`, "regex", "value", true},
		{`^\d`, "regex", "any", false},
	} {
		f, err := newFilter(tc.q, tc.mode, tc.field)
		if err != nil {
			t.Fatalf("%q %s %s: %v", tc.q, tc.mode, tc.field, err)
		}
		if got := f.match(rec.key, rec.value, rec.headers); got != tc.want {
			t.Errorf("%q %s in %s: %v, want %v", tc.q, tc.mode, tc.field, got, tc.want)
		}
	}
	for _, bad := range [][3]string{{"", "", ""}, {"x", "groovy", ""}, {"(", "regex", ""}, {"x", "", "body"}, {strings.Repeat("x", maxPattern+1), "", ""}} {
		if _, err := newFilter(bad[0], bad[1], bad[2]); statusOf(err) != http.StatusBadRequest {
			t.Errorf("newFilter%q: %v, want a bad request", bad, err)
		}
	}
}

func TestShow(t *testing.T) {
	big := strings.Repeat("a", maxShown+10)
	for _, tc := range []struct {
		in        []byte
		format    string
		kind      string
		text      string
		truncated bool
	}{
		{nil, "auto", "null", "", false},
		{[]byte(`{"a":1}`), "auto", "json", "{\n  \"a\": 1\n}", false},
		{[]byte(`{"a":1}`), "text", "text", `{"a":1}`, false},
		{[]byte(`[1,`), "auto", "text", `[1,`, false},
		{[]byte("héllo\nworld"), "auto", "text", "héllo\nworld", false},
		{[]byte{0, 1, 0xff}, "auto", "hex", "00000000  00 01 ff", false},
		{[]byte("abc"), "hex", "hex", "00000000  61 62 63", false},
		{[]byte("not json"), "json", "text", "not json", false},
		{[]byte(big), "auto", "text", big[:maxShown], true},
	} {
		s := show(tc.in, tc.format)
		if s.Kind != tc.kind || !strings.HasPrefix(s.Text, tc.text) || s.Truncated != tc.truncated {
			t.Errorf("show(%.20q, %s) = %s %.40q truncated=%v, want %s %.40q %v", tc.in, tc.format, s.Kind, s.Text, s.Truncated, tc.kind, tc.text, tc.truncated)
		}
	}
}

func TestBuildCluster(t *testing.T) {
	rack := "r1"
	md := kadm.Metadata{Cluster: "c", Controller: 2,
		Brokers: kadm.BrokerDetails{{NodeID: 2, Host: "b"}, {NodeID: 1, Host: "a", Rack: &rack}},
		Topics: kadm.TopicDetails{"t": {Topic: "t", Partitions: kadm.PartitionDetails{
			0: {Topic: "t", Partition: 0, Leader: 1, Replicas: []int32{1, 2}, ISR: []int32{1, 2}},
			1: {Topic: "t", Partition: 1, Leader: 2, Replicas: []int32{2, 1}, ISR: []int32{2}},
			2: {Topic: "t", Partition: 2, Leader: -1, Replicas: []int32{1}, ISR: nil},
		}}}}
	load := ccclient.BrokerStats{Brokers: []ccclient.BrokerLoad{{Broker: 1, CPUPct: 50, LeaderNwInRate: 1, FollowerNwInRate: 2, NwOutRate: 3, BrokerState: "ALIVE"}}}
	v := buildCluster(md, nil, load)
	if v.Topics != 1 || v.Partitions != 3 || v.URP != 2 || v.Offline != 1 || v.Controller != 2 {
		t.Errorf("counts: %+v", v)
	}
	if len(v.Brokers) != 2 || v.Brokers[0].ID != 1 || v.Brokers[0].Rack != "r1" || !v.Brokers[1].Controller {
		t.Fatalf("brokers: %+v", v.Brokers)
	}
	b1, b2 := v.Brokers[0], v.Brokers[1]
	if !b1.HasLoad || b1.CPU != 50 || b1.In != 3 || b1.Out != 3 || b1.Replicas != 3 || b1.Leaders != 1 || b1.Used != -1 {
		t.Errorf("broker 1: %+v", b1)
	}
	if b2.HasLoad || b2.Replicas != 2 || b2.Leaders != 1 {
		t.Errorf("broker 2: %+v", b2)
	}
}

func TestHeatRows(t *testing.T) {
	rows := heatRows(ccclient.BrokerStats{Brokers: []ccclient.BrokerLoad{
		{Broker: 2, CPUPct: 10, DiskPct: 20, LeaderNwInRate: 500, NwOutRate: 250, NetworkInCap: 1000, NetworkOutCap: 0, Replicas: 10, Leaders: 5},
		{Broker: 1, Replicas: 20, Leaders: 0},
	}})
	if len(rows) != 2 || rows[0].Broker != 1 {
		t.Fatalf("rows: %+v", rows)
	}
	c := rows[1].Cells
	// replicas: mean 15, broker 2 has 10 (below: 0), broker 1 20 (33 % above);
	// leaders: mean 2.5, broker 2 has 5 (100 % above: hot).
	if c[0].Pct != 10 || c[1].Pct != 20 || c[2].Pct != 50 || c[3].Pct != -1 || c[4].Pct != 0 || c[5].Pct != 250 {
		t.Errorf("broker 2's cells: %+v", c)
	}
	if p := rows[0].Cells[4].Pct; p < 83 || p > 84 {
		t.Errorf("broker 1's replicas, a third above the mean: %v", p)
	}
	if c[3].Label[:1] != "?" {
		t.Errorf("no capacity should read ?: %q", c[3].Label)
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]int64{"1700000000000": 1700000000000, "2026-01-02T03:04:05Z": 1767323045000} {
		got, err := parseTime(in)
		if err != nil || got.UnixMilli() != want {
			t.Errorf("parseTime(%q) = %v, %v; want %d", in, got, err, want)
		}
	}
	if _, err := parseTime("tomorrow"); statusOf(err) != http.StatusBadRequest {
		t.Errorf("a bad time: %v", err)
	}
	if roundDuration(1234567*time.Microsecond) != "1.2s" || roundDuration(12345*time.Microsecond) != "12ms" {
		t.Errorf("roundDuration: %s %s", roundDuration(1234567*time.Microsecond), roundDuration(12345*time.Microsecond))
	}
}

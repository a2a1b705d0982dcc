package cluster

import (
	"errors"
	"strings"
	"testing"

	"github.com/weirhq/weir/internal/bytesize"
)

// TestSpecStorage: --storage gives every broker its provisioned size in
// server.properties, new brokers of a grown cluster get the largest, and a
// saved cluster refuses a different --storage (storage changes through
// the control plane, as an operation).
func TestSpecStorage(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	s := newSpec(t, Request{Brokers: 3, StorageBytes: bytesize.GiB})
	for id := 1; id <= 3; id++ {
		if got := props(s, l, id)[StorageKey]; got != "1073741824" {
			t.Errorf("broker %d: %s=%q, want 1073741824", id, StorageKey, got)
		}
	}
	s.Brokers[1].StorageBytes = 2 * bytesize.GiB
	if got := s.Resized(5).Brokers[4].StorageBytes; got != 2*bytesize.GiB {
		t.Errorf("a new broker gets %d bytes, want the cluster's largest, 2 GiB", got)
	}
	if _, ok := props(newSpec(t, Request{Brokers: 1}), l, 1)[StorageKey]; ok {
		t.Errorf("a cluster without --storage sets %s", StorageKey)
	}
	if err := SaveSpec(l, s); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Resolve(l, Request{StorageBytes: 4 * bytesize.GiB}, nil); err == nil ||
		!strings.Contains(err.Error(), "--storage 4GiB would change it") || !strings.Contains(err.Error(), "update-broker-storage") {
		t.Errorf("Resolve with another --storage = %v, want a refusal naming update-broker-storage", err)
	}
	if got, _, err := Resolve(l, Request{}, nil); err != nil || got.Brokers[1].StorageBytes != 2*bytesize.GiB {
		t.Errorf("Resolve without --storage = %v, %v; want the saved sizes", got.Brokers, err)
	}
}

// TestStorageTargets: every refusal of UpdateBrokerStorage's request
// names its rule; "All" and single brokers resolve to sizes per broker.
func TestStorageTargets(t *testing.T) {
	cp := &ControlPlane{}
	s := newSpec(t, Request{Brokers: 3, StorageBytes: bytesize.GiB})
	s.Brokers[2].StorageBytes = 2 * bytesize.GiB
	cp.mu.spec = s
	gib := func(id string, n int64) BrokerVolume { return BrokerVolume{BrokerID: id, SizeGB: n} }
	for _, tc := range []struct {
		vols []BrokerVolume
		want map[int]int64
		err  string
	}{
		{vols: []BrokerVolume{gib("All", 3)}, want: map[int]int64{1: 3 << 30, 2: 3 << 30, 3: 3 << 30}},
		{vols: []BrokerVolume{{BrokerID: "1", SizeBytes: 1536 << 20}}, want: map[int]int64{1: 1536 << 20}},
		// Broker 3 already has 2 GiB: it is left out, not refused.
		{vols: []BrokerVolume{gib("All", 2)}, want: map[int]int64{1: 2 << 30, 2: 2 << 30}},
		{vols: nil, err: "names no broker"},
		{vols: []BrokerVolume{gib("All", 1)}, err: "broker 3 has 2GiB provisioned; storage only grows"},
		{vols: []BrokerVolume{gib("3", 2)}, err: "already has that storage"},
		{vols: []BrokerVolume{gib("4", 5)}, err: `kafkaBrokerNodeId "4" is not a broker of the cluster (1 to 3, or "All")`},
		{vols: []BrokerVolume{gib("x", 5)}, err: `kafkaBrokerNodeId "x"`},
		{vols: []BrokerVolume{{BrokerID: "1", SizeBytes: 1 << 20}}, err: "under the minimum 16MiB"},
		{vols: []BrokerVolume{{BrokerID: "1", SizeGB: 2, SizeBytes: 2 << 30}}, err: "not both"},
	} {
		got, err := cp.storageTargets(tc.vols)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, errBadRequest) {
				t.Errorf("storageTargets(%+v) = %v, want a bad request containing %q", tc.vols, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("storageTargets(%+v) = %v, %v; want %v", tc.vols, got, err, tc.want)
			continue
		}
		for id, n := range tc.want {
			if got[id] != n {
				t.Errorf("storageTargets(%+v)[%d] = %d, want %d", tc.vols, id, got[id], n)
			}
		}
	}
}

package internaltopic

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestReplayRoundTrip(t *testing.T) {
	s := NewMemoryStorage()
	now := time.UnixMilli(1234)
	if err := s.Append(3, EncodeBatch([]Record{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b")}}, now)); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(3, EncodeBatch([]Record{{Key: []byte("c"), Value: []byte("2")}}, now)); err != nil {
		t.Fatal(err)
	}
	s.Fail(errors.New("disk gone"))
	if err := s.Append(3, EncodeBatch([]Record{{Key: []byte("x")}}, now)); err == nil {
		t.Fatal("append while failing succeeded")
	}
	s.Fail(nil)
	if s.Records(3) != 3 {
		t.Fatalf("records: %d", s.Records(3))
	}
	var got []string
	batches := 0
	err := Replay(s, 3, func(b *kmsg.RecordBatch) bool {
		batches++
		if b.FirstTimestamp != 1234 || b.ProducerID != -1 {
			t.Errorf("batch: %+v", b)
		}
		return true
	}, func(off int64, k, v []byte) {
		got = append(got, string(k)+"="+string(v)+"@"+string(rune('0'+off)))
	}, func(off int64, err error) { t.Errorf("bad at %d: %v", off, err) })
	if err != nil {
		t.Fatal(err)
	}
	if want := "[a=1@0 b=@1 c=2@2]"; batches != 2 || fmtSlice(got) != want {
		t.Fatalf("got %d batches %v, want 2 %s", batches, got, want)
	}
}

func fmtSlice(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

func TestPartitions(t *testing.T) {
	ps := Partitions{}
	if ps.Err(1) != kerr.NotCoordinator || ps.AnyLoading() {
		t.Fatal("an unknown partition is not ours")
	}
	ps.MarkLoading(1)
	if ps.Err(1) != kerr.CoordinatorLoadInProgress || !ps.AnyLoading() || !ps.Loading(1) {
		t.Fatal("marked loading")
	}
	if !ps.StartLoad(1, 5) {
		t.Fatal("start load")
	}
	ps.Loaded(1, 5)
	if ps.Err(1) != nil || !ps.Owned(1) || ps[1].Epoch != 5 || ps.AnyLoading() {
		t.Fatal("loaded")
	}
	ps.MarkLoading(1) // owned stays owned
	if !ps.Owned(1) || ps.StartLoad(1, 5) {
		t.Fatal("owned at the same epoch: nothing to load")
	}
	if !ps.StartLoad(1, 6) || !ps.Loading(1) {
		t.Fatal("a new epoch loads again")
	}
	delete(ps, 1)
	if ps.State(1) != Unowned {
		t.Fatal("dropped")
	}
}

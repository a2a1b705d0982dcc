package protocol

import (
	"bytes"
	"math/rand"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The spliced writev frame must be byte-identical to kmsg's own encoding,
// for every Fetch version served, with empty, small and large record sets.
func TestFetchFrameMatchesPlainEncoding(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for v := int16(4); v <= 16; v++ {
		resp := kmsg.NewPtrFetchResponse()
		resp.SetVersion(v)
		for ti := 0; ti < 3; ti++ {
			rt := kmsg.NewFetchResponseTopic()
			rt.Topic = "topic-" + string(rune('a'+ti))
			rt.TopicID[0] = byte(ti)
			for pi := 0; pi < 4; pi++ {
				rp := kmsg.NewFetchResponseTopicPartition()
				rp.Partition = int32(pi)
				n := []int{0, 1, 200, 70000}[rng.Intn(4)]
				rp.RecordBatches = make([]byte, n)
				rng.Read(rp.RecordBatches)
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		want := AppendResponse(nil, 42, resp)
		var got bytes.Buffer
		for _, b := range FetchFrame(42, resp) {
			got.Write(b)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("Fetch v%d: spliced frame (%d bytes) differs from plain encoding (%d bytes)", v, got.Len(), len(want))
		}
	}
}

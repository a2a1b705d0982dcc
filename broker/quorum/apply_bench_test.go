package quorum

import (
	"bytes"
	"fmt"
	"testing"
)

// scaleImage is an image with topics of perTopic partitions on brokers
// 1, 2 and 3 (RF 3), partitions in all.
func scaleImage(b *testing.B, partitions, perTopic int) *builder {
	bl := newBuilder(b)
	bl.brokers(0, 1, 2, 3)
	for i := 0; i < partitions/perTopic; i++ {
		bl.must(CreateTopic{Name: fmt.Sprintf("t%d", i), ID: TopicID{2, byte(i), byte(i >> 8)}, Assignment: scaleAssignment(perTopic)})
	}
	return bl
}

func scaleAssignment(n int) [][]int32 {
	a := make([][]int32, n)
	for i := range a {
		a[i] = []int32{int32(i%3 + 1), int32((i+1)%3 + 1), int32((i+2)%3 + 1)}
	}
	return a
}

// BenchmarkApplyAlterPartition is the cost of one ISR change (the entry a
// leader commits per partition as followers join) against an image of M
// partitions in topics of 1,000: it must not grow with M.
func BenchmarkApplyAlterPartition(b *testing.B) {
	for _, m := range []int{1000, 5000, 20000} {
		b.Run(fmt.Sprintf("partitions=%d", m), func(b *testing.B) {
			bl := scaleImage(b, m, 1000)
			p := bl.part("t0", 0)
			isr := [][]int32{p.Replicas[:2], p.Replicas}
			data := make([][]byte, 2)
			b.ResetTimer()
			for i := range b.N {
				p := bl.img.Topics["t0"].Partitions[0]
				var err error
				data[i%2], err = Encode(AlterPartition{BrokerID: p.Leader, Topic: "t0", LeaderEpoch: p.LeaderEpoch,
					PartitionEpoch: p.PartitionEpoch, ISR: isr[i%2]})
				if err != nil {
					b.Fatal(err)
				}
				bl.index++
				var r Result
				bl.img, r = applyEntry(bl.img, data[i%2], bl.index)
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		})
	}
}

// BenchmarkApplyCreateTopic is the cost of creating one topic of 1,000
// partitions into an image of M partitions.
func BenchmarkApplyCreateTopic(b *testing.B) {
	for _, m := range []int{1000, 5000, 20000} {
		b.Run(fmt.Sprintf("partitions=%d", m), func(b *testing.B) {
			bl := scaleImage(b, m, 1000)
			data, err := Encode(CreateTopic{Name: "new", ID: TopicID{3}, Assignment: scaleAssignment(1000)})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, r := applyEntry(bl.img, data, bl.index+1); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		})
	}
}

// BenchmarkSnapshot is the cost of writing and reading the snapshot of an
// image of M partitions (raft takes one every SnapshotThreshold entries
// and sends one to a follower more than TrailingLogs behind).
func BenchmarkSnapshot(b *testing.B) {
	for _, m := range []int{1000, 20000} {
		b.Run(fmt.Sprintf("partitions=%d", m), func(b *testing.B) {
			img := scaleImage(b, m, 1000).img
			var buf bytes.Buffer
			b.ResetTimer()
			for range b.N {
				buf.Reset()
				if err := WriteSnapshot(&buf, img); err != nil {
					b.Fatal(err)
				}
				if _, err := ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
	}
}

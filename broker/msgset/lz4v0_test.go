package msgset

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/pierrec/lz4/v4"

	"github.com/weirhq/weir/broker/log/codec"
)

func TestXXH32(t *testing.T) {
	for in, want := range map[string]uint32{"": 0x02CC5D05, "abc": 0x32D153FF} {
		if got := xxh32([]byte(in)); got != want {
			t.Errorf("xxh32(%q) = %#x, want %#x", in, got, want)
		}
	}
	// Longer inputs against the LZ4 frame's content checksum (XXH32 of
	// the content), which pierrec/lz4 computes.
	for _, n := range []int{15, 16, 17, 100, 4099} {
		src := bytes.Repeat([]byte("weir-lz4-"), n/9+1)[:n]
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		if err := w.Apply(lz4.ChecksumOption(true)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(src); err != nil || w.Close() != nil {
			t.Fatal(err)
		}
		frame := buf.Bytes()
		if want := binary.LittleEndian.Uint32(frame[len(frame)-4:]); xxh32(src) != want {
			t.Errorf("xxh32 of %d bytes = %#x, the frame's content checksum %#x", n, xxh32(src), want)
		}
	}
}

// TestLZ4V0Framing: a v0 LZ4 wrapper carries the descriptor checksum over
// the magic bytes too (KAFKA-3160), which a standard reader refuses; Up
// reads it (and a standard one) and Down writes it, as Kafka 3.9 does.
func TestLZ4V0Framing(t *testing.T) {
	frame, err := codec.Compress(nil, codec.LZ4, []byte("some records, compressed"))
	if err != nil {
		t.Fatal(err)
	}
	at, ok := lz4ChecksumAt(frame)
	if !ok || frame[at] != byte(xxh32(frame[4:at])>>8) {
		t.Fatalf("a standard frame's checksum byte at %d (%v) is not XXH32(descriptor)>>8", at, ok)
	}
	broken := bytes.Clone(frame)
	breakLZ4Checksum(broken)
	if broken[at] == frame[at] || broken[at] != byte(xxh32(frame[:at])>>8) {
		t.Fatalf("broken checksum %#x, standard %#x", broken[at], frame[at])
	}
	if _, err := dec.Decompress(nil, codec.LZ4, broken); err == nil {
		t.Fatal("a standard reader read v0's framing: the test proves nothing")
	}
	if got := fixLZ4Checksum(broken); !bytes.Equal(got, frame) {
		t.Fatal("fixLZ4Checksum did not restore the standard frame")
	}

	// Up: a v0 wrapper in either framing.
	for _, name := range []string{"v0 framing", "standard framing"} {
		inner := appendMessage(nil, 0, MagicV0, 0, NoTimestamp, nil, []byte("a"))
		inner = appendMessage(inner, 1, MagicV0, 0, NoTimestamp, nil, []byte("b"))
		z, _ := codec.Compress(nil, codec.LZ4, inner)
		if name == "v0 framing" {
			breakLZ4Checksum(z)
		}
		set := appendMessage(nil, 1, MagicV0, codec.LZ4, NoTimestamp, nil, z)
		out, n, err := Up(set, dec)
		if err != nil || n != 2 {
			t.Fatalf("%s: Up: %d records, %v", name, n, err)
		}
		if _, recs := batchRecords(t, out); string(recs[0].Value)+string(recs[1].Value) != "ab" {
			t.Errorf("%s: records %+v", name, recs)
		}
	}

	// Down: v0 gets v0's framing, v1 the standard one.
	for _, magic := range []int8{MagicV0, MagicV1} {
		set, n, err := Down(storedBatches(t, codec.LZ4), magic, 0, dec)
		if err != nil || n == 0 {
			t.Fatalf("magic %d: Down: %d records, %v", magic, n, err)
		}
		msgs, err := readMessages(set)
		if err != nil || len(msgs) == 0 || msgs[0].codec() != codec.LZ4 {
			t.Fatalf("magic %d: %d messages, %v", magic, len(msgs), err)
		}
		v := msgs[0].value
		at, _ := lz4ChecksumAt(v)
		_, stdErr := dec.Decompress(nil, codec.LZ4, v)
		switch {
		case magic == MagicV0 && (v[at] != byte(xxh32(v[:at])>>8) || stdErr == nil):
			t.Errorf("v0 wrapper: checksum %#x is not v0's", v[at])
		case magic == MagicV1 && stdErr != nil:
			t.Errorf("v1 wrapper: %v", stdErr)
		}
	}
}

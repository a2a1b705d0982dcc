package msgset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/log/codec"
)

var dec = codec.NewDecompressor(1 << 20)

// TestMessageV0GoldenBytes: one v0 message, laid out by hand from Kafka's
// LegacyRecord: offset, size, crc, magic, attributes, key (null), value.
func TestMessageV0GoldenBytes(t *testing.T) {
	body := []byte{
		0x00,                   // magic 0
		0x00,                   // attributes: no codec
		0xff, 0xff, 0xff, 0xff, // key: null
		0x00, 0x00, 0x00, 0x02, 'h', 'i', // value "hi"
	}
	want := []byte{0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 16}
	want = binary.BigEndian.AppendUint32(want, crc32.ChecksumIEEE(body))
	want = append(want, body...)
	if got := appendMessage(nil, 7, MagicV0, 0, 12345, nil, []byte("hi")); !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
}

// kmsgMessages decodes a message set with kmsg's MessageV0/V1, which
// franz-go generates from Kafka's own definitions: an independent reader.
func kmsgMessages(t *testing.T, set []byte, magic int8) []kmsg.MessageV1 {
	t.Helper()
	var out []kmsg.MessageV1
	for len(set) > 0 {
		size := int(binary.BigEndian.Uint32(set[8:])) + 12
		var m kmsg.MessageV1
		if magic == MagicV0 {
			var m0 kmsg.MessageV0
			if err := m0.ReadFrom(set[:size]); err != nil {
				t.Fatalf("kmsg reading a v0 message: %v", err)
			}
			m = kmsg.MessageV1{Offset: m0.Offset, Magic: m0.Magic, Attributes: m0.Attributes, Timestamp: -1, Key: m0.Key, Value: m0.Value, CRC: m0.CRC}
		} else if err := m.ReadFrom(set[:size]); err != nil {
			t.Fatalf("kmsg reading a v1 message: %v", err)
		}
		if m.Magic != magic {
			t.Fatalf("magic %d, want %d", m.Magic, magic)
		}
		out = append(out, m)
		set = set[size:]
	}
	return out
}

func v1Set(t *testing.T, codecID int8, logAppendTime bool) []byte {
	t.Helper()
	var inner []byte
	inner = appendMessage(inner, 0, MagicV1, 0, 1000, []byte("k0"), []byte("v0"))
	inner = appendMessage(inner, 1, MagicV1, 0, 1001, nil, []byte("v1"))
	inner = appendMessage(inner, 2, MagicV1, 0, 1002, []byte{}, nil)
	if codecID == codec.None {
		return inner
	}
	value, err := compressFor(codecID, inner)
	if err != nil {
		t.Fatal(err)
	}
	attrs := codecID
	if logAppendTime {
		attrs |= attrTimestampType
	}
	return appendMessage(nil, 2, MagicV1, attrs, 5000, nil, value)
}

func batchRecords(t *testing.T, b []byte) (wlog.BatchHeader, []record) {
	t.Helper()
	hdrs, err := wlog.ValidateBatches(b, 1<<20) // magic, length, CRC-32C
	if err != nil || len(hdrs) != 1 {
		t.Fatalf("the converted batch does not validate: %v (%d batches)", err, len(hdrs))
	}
	bt, _, ok, err := readBatch(b, dec)
	if err != nil || !ok {
		t.Fatalf("reading the batch back: %v %v", ok, err)
	}
	return hdrs[0], bt.records
}

func TestUpConvertsMessageSetsToOneBatch(t *testing.T) {
	want := []record{
		{Offset: 0, Timestamp: 1000, Key: []byte("k0"), Value: []byte("v0")},
		{Offset: 1, Timestamp: 1001, Value: []byte("v1")},
		{Offset: 2, Timestamp: 1002, Key: []byte{}},
	}
	for _, c := range []struct {
		name  string
		codec int8
		lat   bool
	}{{"uncompressed", codec.None, false}, {"gzip", codec.Gzip, false}, {"snappy", codec.Snappy, false},
		{"lz4", codec.LZ4, false}, {"gzip wrapper with LogAppendTime", codec.Gzip, true}} {
		t.Run(c.name, func(t *testing.T) {
			out, n, err := Up(v1Set(t, c.codec, c.lat), dec)
			if err != nil || n != 3 {
				t.Fatalf("Up: %d records, %v", n, err)
			}
			h, recs := batchRecords(t, out)
			if got := int8(h.Attributes & 7); got != c.codec {
				t.Errorf("batch codec %d, want the producer's %d", got, c.codec)
			}
			if h.ProducerID != -1 || h.LastOffsetDelta != 2 || h.NumRecords != 3 {
				t.Errorf("header %+v", h)
			}
			exp := slices.Clone(want)
			if c.lat {
				for i := range exp {
					exp[i].Timestamp = 5000
				}
			}
			if h.BaseTimestamp != exp[0].Timestamp || h.MaxTimestamp != exp[2].Timestamp {
				t.Errorf("batch timestamps %d..%d", h.BaseTimestamp, h.MaxTimestamp)
			}
			equalRecords(t, recs, exp)
		})
	}
	t.Run("v0 messages have no timestamp", func(t *testing.T) {
		set := appendMessage(nil, 0, MagicV0, 0, 0, nil, []byte("a"))
		set = appendMessage(set, 0, MagicV0, 0, 0, []byte("k"), []byte("b"))
		out, _, err := Up(set, dec)
		if err != nil {
			t.Fatal(err)
		}
		h, recs := batchRecords(t, out)
		if h.BaseTimestamp != NoTimestamp || h.MaxTimestamp != NoTimestamp {
			t.Errorf("timestamps %d..%d, want -1", h.BaseTimestamp, h.MaxTimestamp)
		}
		equalRecords(t, recs, []record{{Offset: 0, Timestamp: -1, Value: []byte("a")}, {Offset: 1, Timestamp: -1, Key: []byte("k"), Value: []byte("b")}})
	})
}

func TestUpRejects(t *testing.T) {
	good := v1Set(t, codec.None, false)
	badCRC := slices.Clone(good)
	badCRC[len(good)-1] ^= 1
	v2, _ := appendBatch(nil, []record{{Value: []byte("x")}}, codec.None)
	zstdWrapped := appendMessage(nil, 0, MagicV1, codec.Zstd, 0, nil, []byte("whatever"))
	for _, c := range []struct {
		name string
		set  []byte
		err  error
	}{
		{"a flipped bit", badCRC, ErrCorrupt},
		{"a truncated set", good[:len(good)-3], ErrCorrupt},
		{"empty", nil, ErrCorrupt},
		{"a v2 batch", v2, ErrNotLegacy},
		{"zstd, which v0/v1 never had", zstdWrapped, ErrUnsupportedCodec},
		{"garbage in a gzip wrapper", appendMessage(nil, 0, MagicV1, codec.Gzip, 0, nil, []byte("nope")), ErrCorrupt},
	} {
		if _, _, err := Up(c.set, dec); !errors.Is(err, c.err) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.err)
		}
	}
}

func storedBatches(t *testing.T, codecID int8) []byte {
	t.Helper()
	var recs []record
	for i := int64(0); i < 5; i++ {
		r := record{Offset: 10 + i, Timestamp: 2000 + i, Key: []byte{byte('a' + i)}, Value: []byte{byte('A' + i)}}
		if i == 1 {
			r.Headers = []header{{Key: "h", Value: []byte("dropped")}}
		}
		recs = append(recs, r)
	}
	b, err := appendBatch(nil, recs[:3], codecID)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = appendBatch(b, recs[3:], codecID); err != nil {
		t.Fatal(err)
	}
	// A control batch (a transaction marker) between them is skipped.
	ctl, _ := appendBatch(nil, []record{{Offset: 15, Timestamp: 2005, Key: []byte{0, 0, 0, 0}}}, codec.None)
	binary.BigEndian.PutUint16(ctl[batchAttrOffset:], batchAttrControl)
	return append(b, ctl...)
}

func TestDownConvertsToOldMessageSets(t *testing.T) {
	for _, magic := range []int8{MagicV0, MagicV1} {
		for _, c := range []struct {
			name  string
			codec int8
		}{{"uncompressed", codec.None}, {"gzip", codec.Gzip}, {"snappy", codec.Snappy}, {"lz4", codec.LZ4}} {
			t.Run(c.name+" to magic "+string('0'+rune(magic)), func(t *testing.T) {
				set, n, err := Down(storedBatches(t, c.codec), magic, 11, dec)
				if err != nil || n != 4 {
					t.Fatalf("Down: %d records, %v", n, err)
				}
				msgs := kmsgMessages(t, set, magic)
				var got []record
				for _, m := range msgs {
					codecID := m.Attributes & attrCodecMask
					if codecID == codec.None {
						got = append(got, record{Offset: m.Offset, Timestamp: m.Timestamp, Key: m.Key, Value: m.Value})
						continue
					}
					if codecID != c.codec {
						t.Fatalf("wrapper codec %d from a batch of codec %d", codecID, c.codec)
					}
					wrapped, err := readMessages(set[:12+int(binary.BigEndian.Uint32(set[8:]))])
					if err != nil {
						t.Fatal(err)
					}
					inner, err := unwrap(nil, wrapped[0], dec)
					if err != nil {
						t.Fatal(err)
					}
					// unwrap numbers from 0; rebase as a client does: the
					// wrapper holds the last inner offset.
					for i := range inner {
						inner[i].Offset = m.Offset - int64(len(inner)-1-i)
					}
					got = append(got, inner...)
					set = set[12+int(binary.BigEndian.Uint32(set[8:])):]
				}
				var want []record
				for i := int64(1); i < 5; i++ {
					ts := 2000 + i
					if magic == MagicV0 {
						ts = NoTimestamp
					}
					want = append(want, record{Offset: 10 + i, Timestamp: ts, Key: []byte{byte('a' + i)}, Value: []byte{byte('A' + i)}})
				}
				equalRecords(t, got, want)
			})
		}
	}
}

func TestDownInnerOffsets(t *testing.T) {
	// v1 wrappers hold relative inner offsets; v0 wrappers absolute ones.
	for _, c := range []struct {
		magic int8
		want  []int64
	}{{MagicV1, []int64{0, 1}}, {MagicV0, []int64{13, 14}}} {
		set, _, err := Down(storedBatches(t, codec.Gzip), c.magic, 13, dec)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := readMessages(set)
		if err != nil || len(msgs) != 1 || msgs[0].offset != 14 {
			t.Fatalf("magic %d: %d wrappers, %v", c.magic, len(msgs), err)
		}
		raw, _ := dec.Decompress(nil, codec.Gzip, msgs[0].value)
		inner, _ := readMessages(raw)
		var offs []int64
		for _, m := range inner {
			offs = append(offs, m.offset)
		}
		if !slices.Equal(offs, c.want) {
			t.Errorf("magic %d inner offsets %v, want %v", c.magic, offs, c.want)
		}
	}
}

func TestDownLogAppendTimeAndZstd(t *testing.T) {
	b, _ := appendBatch(nil, []record{{Offset: 0, Timestamp: 1}, {Offset: 1, Timestamp: 2}}, codec.None)
	binary.BigEndian.PutUint16(b[batchAttrOffset:], batchAttrTSType)
	binary.BigEndian.PutUint64(b[35:], 777) // the append time
	set, _, err := Down(b, MagicV1, 0, dec)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range kmsgMessages(t, set, MagicV1) {
		if m.Timestamp != 777 || m.Attributes&attrTimestampType == 0 {
			t.Errorf("message %d: timestamp %d attributes %x, want the append time, marked", m.Offset, m.Timestamp, m.Attributes)
		}
	}
	z, _ := appendBatch(nil, []record{{Value: []byte("z")}}, codec.Zstd)
	if _, _, err := Down(z, MagicV1, 0, dec); !errors.Is(err, ErrUnsupportedCodec) {
		t.Errorf("zstd: %v, want ErrUnsupportedCodec", err)
	}
	// A read may end inside a batch: the whole ones are converted.
	two := storedBatches(t, codec.None)
	if _, n, err := Down(two[:len(two)-5], MagicV1, 0, dec); err != nil || n != 5 {
		t.Errorf("partial tail: %d records, %v", n, err)
	}
}

func equalRecords(t *testing.T, got, want []record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d: %+v", len(got), len(want), got)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Offset != w.Offset || g.Timestamp != w.Timestamp || !bytes.Equal(g.Key, w.Key) || !bytes.Equal(g.Value, w.Value) ||
			(g.Key == nil) != (w.Key == nil) || (g.Value == nil) != (w.Value == nil) {
			t.Errorf("record %d: %+v, want %+v", i, g, w)
		}
	}
}

// FuzzUp: no produced bytes may panic the up-converter, and what it
// accepts is a valid batch.
func FuzzUp(f *testing.F) {
	f.Add(appendMessage(nil, 0, MagicV0, 0, 0, nil, []byte("a")))
	for _, c := range []int8{codec.None, codec.Gzip, codec.Snappy, codec.LZ4} {
		var inner []byte
		inner = appendMessage(inner, 0, MagicV1, 0, 1, []byte("k"), []byte("v"))
		v, _ := compressFor(c, inner)
		f.Add(appendMessage(nil, 0, MagicV1, c, 1, nil, v))
	}
	f.Fuzz(func(t *testing.T, set []byte) {
		out, _, err := Up(set, dec)
		if err != nil {
			return
		}
		if _, err := wlog.ValidateBatches(out, 1<<30); err != nil {
			t.Fatalf("accepted input made an invalid batch: %v", err)
		}
	})
}

// FuzzDown: whatever bytes a log read returns, down-conversion does not
// panic, and what it makes is a message set the up-converter reads back.
func FuzzDown(f *testing.F) {
	for _, c := range []int8{codec.None, codec.Gzip, codec.Snappy, codec.LZ4} {
		b, _ := appendBatch(nil, []record{{Offset: 5, Timestamp: 9, Key: []byte("k"), Value: []byte("v")}, {Offset: 6, Timestamp: 10}}, c)
		f.Add(b, int64(0), true)
	}
	f.Fuzz(func(t *testing.T, batches []byte, from int64, v1 bool) {
		magic := MagicV0
		if v1 {
			magic = MagicV1
		}
		set, n, err := Down(batches, magic, from, dec)
		if err != nil || n == 0 {
			return
		}
		if _, m, err := Up(set, dec); err != nil || m != n {
			t.Fatalf("down-converted %d records that read back as %d: %v", n, m, err)
		}
	})
}

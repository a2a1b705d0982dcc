package txn

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestPartitionFor checks the placement against Java: the hash codes were
// printed by String.hashCode on a JVM, the partitions by
// Utils.abs(hashCode) % 50.
func TestPartitionFor(t *testing.T) {
	for _, c := range []struct {
		id   string
		want int32
	}{
		{"hello", 22},              // hashCode 99162322
		{"polygenelubricants", 0},  // hashCode Integer.MIN_VALUE: Utils.abs gives 0
		{"my-txn-producer-7", 12},  // hashCode -893374912: abs, not a sign-bit mask (which gives 36)
		{"transactional-id-0", 40}, // hashCode 1051133890
		{"\U0001F600", 49},         // one code point, two UTF-16 units: hashCode 1772899
		{"txn", 6},                 // hashCode 115306
		{"", 0},
	} {
		if got := PartitionFor(c.id, 50); got != c.want {
			t.Errorf("PartitionFor(%q, 50) = %d, want %d", c.id, got, c.want)
		}
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The golden bytes below are written out from TransactionLogKey.json and
// TransactionLogValue.json field by field.
func TestKeyGolden(t *testing.T) {
	want := unhex(t, "0000 0003 74786e") // type 0, "txn"
	if got := EncodeKey("txn"); !bytes.Equal(got, want) {
		t.Fatalf("EncodeKey = %x, want %x", got, want)
	}
	id, ok, err := DecodeKey(want)
	if err != nil || !ok || id != "txn" {
		t.Fatalf("DecodeKey = %q %t %v", id, ok, err)
	}
	if _, ok, _ := DecodeKey(unhex(t, "0001 0003 74786e")); ok {
		t.Fatal("a key of version 1 (an offset commit's) read as a transaction key")
	}
	if _, _, err := DecodeKey(unhex(t, "0000 0005 7478")); err == nil {
		t.Fatal("truncated key read without error")
	}
}

func goldenValue(version int16) LogValue {
	v := NewLogValue()
	v.Version, v.ProducerID, v.ProducerEpoch, v.TimeoutMs, v.State = version, 1000, 3, 60000, Ongoing
	v.Partitions = []TopicPartitions{{Topic: "t", Partitions: []int32{0, 2}}}
	v.LastUpdateMs, v.StartMs = 1700000000123, 1700000000000
	return v
}

const (
	goldenV0 = `0000 00000000000003e8 0003 0000ea60 01
		00000001 0001 74 00000002 00000000 00000002
		0000018bcfe5687b 0000018bcfe56800`
	goldenV1 = `0001 00000000000003e8 0003 0000ea60 01
		02 02 74 03 00000000 00000002 00
		0000018bcfe5687b 0000018bcfe56800
		03 00 08 00000000000003e7 02 02 0002 03 02 0004`
	goldenEmptyV0 = `0000 00000000000003e8 0000 0000ea60 00 ffffffff
		0000018bcfe5687b ffffffffffffffff`
	goldenEmptyV1 = `0001 00000000000003e8 0000 0000ea60 00 00
		0000018bcfe5687b ffffffffffffffff 00`
)

func TestValueGolden(t *testing.T) {
	v1 := goldenValue(1)
	v1.PreviousProducerID, v1.ClientTransactionVersion, v1.NextProducerEpoch = 999, 2, 4
	empty := func(version int16) LogValue {
		v := NewLogValue()
		v.Version, v.ProducerID, v.TimeoutMs, v.LastUpdateMs, v.StartMs = version, 1000, 60000, 1700000000123, -1
		return v
	}
	for _, c := range []struct {
		name   string
		v      LogValue
		golden string
	}{
		{"v0", goldenValue(0), goldenV0},
		{"v1 with tags", v1, goldenV1},
		{"v0 empty", empty(0), goldenEmptyV0},
		{"v1 empty", empty(1), goldenEmptyV1},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := unhex(t, c.golden)
			if got := c.v.Encode(); !bytes.Equal(got, want) {
				t.Fatalf("Encode =\n%x\nwant\n%x", got, want)
			}
			got, err := DecodeValue(want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalize(got), normalize(c.v)) {
				t.Fatalf("DecodeValue =\n%+v\nwant\n%+v", got, c.v)
			}
		})
	}
}

// normalize makes empty and nil tag lists equal for comparison.
func normalize(v LogValue) LogValue {
	for i := range v.Partitions {
		if len(v.Partitions[i].Tags) == 0 {
			v.Partitions[i].Tags = nil
		}
	}
	return v
}

// TestValueAgainstKmsg checks the encoding against franz-go's kmsg, a
// second implementation generated from the same schema.
func TestValueAgainstKmsg(t *testing.T) {
	for _, version := range []int16{0, 1} {
		v := goldenValue(version)
		v.Partitions = append(v.Partitions, TopicPartitions{Topic: "other", Partitions: []int32{7}})
		if version == 1 {
			v.PreviousProducerID, v.NextProducerID, v.ClientTransactionVersion = 5, 6, 2
		}
		k := kmsg.NewTxnMetadataValue()
		k.Version, k.ProducerID, k.ProducerEpoch, k.TimeoutMillis = version, v.ProducerID, v.ProducerEpoch, v.TimeoutMs
		k.State, k.LastUpdateTimestamp, k.StartTimestamp = kmsg.TransactionState(v.State), v.LastUpdateMs, v.StartMs
		k.PreviousProducerID, k.NextProducerID, k.ClientTransactionVersion = v.PreviousProducerID, v.NextProducerID, v.ClientTransactionVersion
		for _, tp := range v.Partitions {
			kt := kmsg.NewTxnMetadataValueTopic()
			kt.Topic, kt.Partitions = tp.Topic, tp.Partitions
			k.Topics = append(k.Topics, kt)
		}
		if got, want := v.Encode(), k.AppendTo(nil); !bytes.Equal(got, want) {
			t.Errorf("v%d: Encode =\n%x\nkmsg\n%x", version, got, want)
		}
		kk := kmsg.NewTxnMetadataKey()
		kk.TransactionalID = "producer-1"
		if got, want := EncodeKey("producer-1"), kk.AppendTo(nil); !bytes.Equal(got, want) {
			t.Errorf("EncodeKey = %x, kmsg %x", got, want)
		}
	}
}

// TestValueUnknownTags: tags a later Kafka adds survive a read and a write.
func TestValueUnknownTags(t *testing.T) {
	v := goldenValue(1)
	v.UnknownTags = []Tag{{Tag: 9, Data: []byte{1, 2, 3}}}
	v.NextProducerID = 77
	b := v.Encode()
	got, err := DecodeValue(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Encode(), b) {
		t.Fatalf("re-encoded %x, read %x", got.Encode(), b)
	}
	if got.NextProducerID != 77 || len(got.UnknownTags) != 1 || got.UnknownTags[0].Tag != 9 {
		t.Fatalf("tags read as %+v", got)
	}
}

func TestValueRefusals(t *testing.T) {
	good := unhex(t, goldenV1)
	for name, b := range map[string][]byte{
		"empty":          nil,
		"version 2":      append([]byte{0, 2}, good[2:]...),
		"truncated":      good[:len(good)-3],
		"trailing":       append(append([]byte(nil), good...), 0),
		"unknown state":  func() []byte { b := bytes.Clone(good); b[16] = 9; return b }(),
		"bad tag length": func() []byte { b := bytes.Clone(good); b[len(b)-3] = 1; return b }(),
	} {
		if _, err := DecodeValue(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func FuzzDecodeValue(f *testing.F) {
	for _, g := range []string{goldenV0, goldenV1, goldenEmptyV0, goldenEmptyV1} {
		b, _ := hex.DecodeString(strings.Join(strings.Fields(g), ""))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeValue(b)
		if err != nil {
			return
		}
		again, err := DecodeValue(v.Encode())
		if err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		if !reflect.DeepEqual(normalize(again), normalize(v)) {
			t.Fatalf("round trip changed the value:\n%+v\n%+v", v, again)
		}
	})
}

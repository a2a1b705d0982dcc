// Package msgset converts between Kafka's message sets (message format
// v0 and v1, "magic" 0 and 1: Produce v0–v2, Fetch v0–v3) and record
// batches v2, the only format the broker stores. Kafka 3.9 does the same:
// produced message sets are up-converted to v2 batches before they reach
// the log (LogValidator), and fetches by clients too old for v2 get the
// stored batches down-converted (RecordsUtil.downConvert,
// message.downconversion.enable).
//
// The layouts (Kafka's LegacyRecord and DefaultRecordBatch):
//
//	message set   [offset int64, size int32, message]...
//	message v0    crc uint32 (IEEE, over the rest), magic int8 = 0,
//	              attributes int8 (codec in bits 0-2), key bytes, value bytes
//	message v1    crc, magic = 1, attributes (bit 3: LogAppendTime),
//	              timestamp int64, key bytes, value bytes
//	bytes         int32 length (-1: null), then the bytes
//
// A compressed message is a wrapper whose value is a compressed message
// set of inner messages; the wrapper's offset is its last inner message's.
// Inner offsets are absolute in v0 and relative (0, 1, …) in v1, where
// the wrapper's timestamp is the inner maximum (or the log append time).
//
// Up-conversion makes one v2 batch of every message in the set, with the
// codec the producer used (compression.type=producer, the only mode this
// broker has), no producer id and, for v0 messages, no timestamps (-1).
// Down-conversion makes one message (or one wrapper, compressed with the
// batch's codec; LZ4 in v0 with v0's broken frame checksum, lz4v0.go)
// per stored batch, skips control batches and records
// before the fetch offset, and drops record headers, which v0/v1 cannot
// carry.
package msgset

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Message format versions ("magic").
const (
	MagicV0 int8 = 0
	MagicV1 int8 = 1
	MagicV2 int8 = 2
)

// NoTimestamp is a record's timestamp when it has none (v0 messages).
const NoTimestamp int64 = -1

const (
	attrCodecMask     = 0x07
	attrTimestampType = 0x08

	logOverhead = 12 // offset int64 + size int32
	v0Overhead  = 4 + 1 + 1 + 4 + 4
	v1Overhead  = v0Overhead + 8
)

var (
	// ErrCorrupt: a message set or batch that does not parse or whose CRC
	// does not match (Kafka's CORRUPT_MESSAGE).
	ErrCorrupt = errors.New("corrupt message set")
	// ErrUnsupportedCodec: a codec the target format cannot carry (zstd in
	// v0/v1; Kafka's UNSUPPORTED_COMPRESSION_TYPE).
	ErrUnsupportedCodec = errors.New("compression codec not supported by the message format")
	// ErrNotLegacy: a Produce v0–v2 carried a v2 batch (Kafka's
	// INVALID_RECORD).
	ErrNotLegacy = errors.New("record batch v2 in a request for message format v0/v1")
)

// record is one record in a format-neutral form.
type record struct {
	Offset    int64
	Timestamp int64
	Key       []byte // nil: null
	Value     []byte // nil: null
	Headers   []header
}

// header is a v2 record header.
type header struct {
	Key   string
	Value []byte
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// message is one decoded v0/v1 message.
type message struct {
	offset    int64
	magic     int8
	attrs     int8
	timestamp int64
	key       []byte
	value     []byte
}

func (m message) codec() int8 { return m.attrs & attrCodecMask }

// readMessages decodes a message set. A partial message at the end (which
// old clients send only by mistake, and fetches may end with) is an error
// here: a produced set must be whole.
func readMessages(set []byte) ([]message, error) {
	var out []message
	for len(set) > 0 {
		if len(set) < logOverhead {
			return nil, corrupt("%d trailing bytes", len(set))
		}
		off := int64(binary.BigEndian.Uint64(set))
		size := int(int32(binary.BigEndian.Uint32(set[8:])))
		if size < v0Overhead || size > len(set)-logOverhead {
			return nil, corrupt("message at offset %d: size %d of %d bytes left", off, size, len(set)-logOverhead)
		}
		m, err := readMessage(off, set[logOverhead:logOverhead+size])
		if err != nil {
			return nil, err
		}
		out = append(out, m)
		set = set[logOverhead+size:]
	}
	return out, nil
}

func readMessage(off int64, b []byte) (message, error) {
	if int8(b[4]) == MagicV2 { // the magic sits where a batch's does
		return message{}, ErrNotLegacy
	}
	if crc32.ChecksumIEEE(b[4:]) != binary.BigEndian.Uint32(b) {
		return message{}, corrupt("message at offset %d: CRC mismatch", off)
	}
	m := message{offset: off, magic: int8(b[4]), attrs: int8(b[5]), timestamp: NoTimestamp}
	rest := b[6:]
	switch m.magic {
	case MagicV0:
	case MagicV1:
		if len(rest) < 8 {
			return message{}, corrupt("message at offset %d: no timestamp", off)
		}
		m.timestamp = int64(binary.BigEndian.Uint64(rest))
		rest = rest[8:]
	default:
		return message{}, corrupt("message at offset %d: magic %d", off, m.magic)
	}
	var ok bool
	if m.key, rest, ok = readBytes(rest); !ok {
		return message{}, corrupt("message at offset %d: key", off)
	}
	if m.value, rest, ok = readBytes(rest); !ok || len(rest) != 0 {
		return message{}, corrupt("message at offset %d: value", off)
	}
	return m, nil
}

func readBytes(b []byte) ([]byte, []byte, bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := int(int32(binary.BigEndian.Uint32(b)))
	b = b[4:]
	if n < 0 {
		return nil, b, n == -1
	}
	if n > len(b) {
		return nil, nil, false
	}
	return b[:n:n], b[n:], true
}

// appendMessage appends one message (with its offset and size) to dst.
func appendMessage(dst []byte, off int64, magic, attrs int8, ts int64, key, value []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(off))
	sizeAt := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0) // size, crc
	start := len(dst)
	dst = append(dst, byte(magic), byte(attrs))
	if magic == MagicV1 {
		dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	}
	dst = appendBytes(dst, key)
	dst = appendBytes(dst, value)
	binary.BigEndian.PutUint32(dst[sizeAt:], uint32(len(dst)-sizeAt-4))
	binary.BigEndian.PutUint32(dst[sizeAt+4:], crc32.ChecksumIEEE(dst[start:]))
	return dst
}

func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.BigEndian.AppendUint32(dst, 0xffffffff)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// Magic is the format of the first message or batch in b (the magic byte
// sits at the same place in both), or -1 when b is too short to say.
func Magic(b []byte) int8 {
	if len(b) < logOverhead+5 {
		return -1
	}
	return int8(b[logOverhead+4])
}

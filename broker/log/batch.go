package log

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
)

// BatchHeaderSize is the size of a record batch v2 (magic 2) header.
//
// Layout, all big-endian: baseOffset int64 @0, batchLength int32 @8,
// partitionLeaderEpoch int32 @12, magic int8 @16, crc uint32 @17 (CRC-32C of
// bytes [21:end]), attributes int16 @21, lastOffsetDelta int32 @23,
// baseTimestamp int64 @27, maxTimestamp int64 @35, producerId int64 @43,
// producerEpoch int16 @51, baseSequence int32 @53, recordCount int32 @57.
const BatchHeaderSize = 61

const (
	// batchLengthOverhead is the part of a batch that batchLength does not
	// count: baseOffset and batchLength itself.
	batchLengthOverhead = 12
	minBatchLength      = BatchHeaderSize - batchLengthOverhead
	magicOffset         = 16
	crcOffset           = 17
	crcStart            = 21 // the CRC covers [crcStart:end]
	attrOffset          = 21
	baseTimestampOffset = 27
	maxTimestampOffset  = 35
	recordCountOffset   = 57

	attrTimestampType = 1 << 3
	attrTransactional = 1 << 4
	attrControl       = 1 << 5
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// BatchHeader is the decoded header of a record batch v2.
type BatchHeader struct {
	BaseOffset           int64
	Length               int32 // batchLength: bytes after the length field
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// ParseBatchHeader decodes the first BatchHeaderSize bytes of b. It checks
// neither the magic nor the CRC.
func ParseBatchHeader(b []byte) (BatchHeader, error) {
	if len(b) < BatchHeaderSize {
		return BatchHeader{}, fmt.Errorf("parse batch header: %d bytes, need %d: %w", len(b), BatchHeaderSize, ErrCorruptBatch)
	}
	be := binary.BigEndian
	return BatchHeader{
		BaseOffset:           int64(be.Uint64(b[0:])),
		Length:               int32(be.Uint32(b[8:])),
		PartitionLeaderEpoch: int32(be.Uint32(b[12:])),
		Magic:                int8(b[16]),
		CRC:                  be.Uint32(b[17:]),
		Attributes:           int16(be.Uint16(b[21:])),
		LastOffsetDelta:      int32(be.Uint32(b[23:])),
		BaseTimestamp:        int64(be.Uint64(b[27:])),
		MaxTimestamp:         int64(be.Uint64(b[35:])),
		ProducerID:           int64(be.Uint64(b[43:])),
		ProducerEpoch:        int16(be.Uint16(b[51:])),
		BaseSequence:         int32(be.Uint32(b[53:])),
		NumRecords:           int32(be.Uint32(b[57:])),
	}, nil
}

// LastOffset is the offset of the batch's last record.
func (h BatchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Compression is the codec: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
func (h BatchHeader) Compression() int8 { return int8(h.Attributes & 7) }

// LogAppendTime reports whether the timestamps are the broker's append time.
func (h BatchHeader) LogAppendTime() bool { return h.Attributes&attrTimestampType != 0 }

// Transactional reports whether the batch is part of a transaction.
func (h BatchHeader) Transactional() bool { return h.Attributes&attrTransactional != 0 }

// Control reports whether the batch holds a control record (commit/abort marker).
func (h BatchHeader) Control() bool { return h.Attributes&attrControl != 0 }

// TotalSize is the size of the whole batch in bytes.
func (h BatchHeader) TotalSize() int { return batchLengthOverhead + int(h.Length) }

// LastSequence is the sequence number of the batch's last record; sequences
// wrap from MaxInt32 to 0.
func (h BatchHeader) LastSequence() int32 {
	if h.BaseSequence > math.MaxInt32-h.LastOffsetDelta {
		return h.BaseSequence - (math.MaxInt32 - h.LastOffsetDelta) - 1
	}
	return h.BaseSequence + h.LastOffsetDelta
}

// ValidateBatches splits a Produce partition payload into record batches and
// checks each one: magic 2 (magic 0 and 1 give ErrUnsupportedMagic), a sane
// length with all its bytes present, the CRC-32C, and a record count that
// fits lastOffsetDelta (no more records than offsets: a compacted batch,
// as followers fetch it, keeps its offset range with fewer records; Append
// insists on one record per offset). A batch larger than maxBatchBytes
// (when > 0) gives ErrMessageTooLarge. It returns the parsed headers and
// never panics.
func ValidateBatches(records []byte, maxBatchBytes int) ([]BatchHeader, error) {
	if len(records) == 0 {
		return nil, fmt.Errorf("validate batches: no record batches: %w", ErrCorruptBatch)
	}
	var hdrs []BatchHeader
	for pos := 0; pos < len(records); {
		h, err := checkBatchAt(records[pos:], maxBatchBytes)
		if err != nil {
			return nil, fmt.Errorf("validate batch %d at byte %d: %w", len(hdrs), pos, err)
		}
		hdrs = append(hdrs, h)
		pos += h.TotalSize()
	}
	return hdrs, nil
}

// checkBatchAt validates the batch at the start of b (b may hold more after it).
func checkBatchAt(b []byte, maxBatchBytes int) (BatchHeader, error) {
	if len(b) <= magicOffset {
		return BatchHeader{}, fmt.Errorf("%w: truncated batch header (%d bytes)", ErrCorruptBatch, len(b))
	}
	if magic := int8(b[magicOffset]); magic != 2 {
		if magic == 0 || magic == 1 {
			return BatchHeader{}, fmt.Errorf("%w: magic %d", ErrUnsupportedMagic, magic)
		}
		return BatchHeader{}, fmt.Errorf("%w: magic %d", ErrCorruptBatch, magic)
	}
	h, err := ParseBatchHeader(b)
	if err != nil {
		return BatchHeader{}, err
	}
	if h.Length < minBatchLength {
		return BatchHeader{}, fmt.Errorf("%w: batch length %d below the minimum %d", ErrCorruptBatch, h.Length, minBatchLength)
	}
	if h.TotalSize() > len(b) {
		return BatchHeader{}, fmt.Errorf("%w: truncated batch: %d bytes of %d", ErrCorruptBatch, len(b), h.TotalSize())
	}
	if maxBatchBytes > 0 && h.TotalSize() > maxBatchBytes {
		return BatchHeader{}, fmt.Errorf("%w: batch of %d bytes, limit %d", ErrMessageTooLarge, h.TotalSize(), maxBatchBytes)
	}
	return h, checkBatchBody(h, b[:h.TotalSize()])
}

// checkBatchBody checks the CRC and the record count of a whole batch b.
func checkBatchBody(h BatchHeader, b []byte) error {
	if got := crc32c(b[crcStart:]); got != h.CRC {
		return fmt.Errorf("%w: crc %08x, computed %08x", ErrCorruptBatch, h.CRC, got)
	}
	if h.LastOffsetDelta < 0 || h.NumRecords < 0 {
		return fmt.Errorf("%w: lastOffsetDelta %d, recordCount %d", ErrCorruptBatch, h.LastOffsetDelta, h.NumRecords)
	}
	if int64(h.NumRecords) > int64(h.LastOffsetDelta)+1 {
		return fmt.Errorf("%w: recordCount %d does not fit lastOffsetDelta %d", ErrCorruptBatch, h.NumRecords, h.LastOffsetDelta)
	}
	return nil
}

// checkRecordCount is the producer-side rule that checkBatchBody leaves
// out: a batch holds one record per offset of its range. A compacted batch
// (or one replicated from a compacted log) may hold fewer.
func checkRecordCount(h BatchHeader) error {
	if h.NumRecords > 0 && int64(h.NumRecords) != int64(h.LastOffsetDelta)+1 {
		return fmt.Errorf("%w: recordCount %d does not match lastOffsetDelta %d", ErrCorruptBatch, h.NumRecords, h.LastOffsetDelta)
	}
	return nil
}

// patchBatch writes the assigned base offset and leader epoch into a batch;
// both lie outside the CRC.
func patchBatch(b []byte, baseOffset int64, leaderEpoch int32) {
	binary.BigEndian.PutUint64(b[0:], uint64(baseOffset))
	binary.BigEndian.PutUint32(b[12:], uint32(leaderEpoch))
}

// setLogAppendTime marks a batch's timestamps as LogAppendTime, sets its
// maxTimestamp to ts and recomputes the CRC.
func setLogAppendTime(b []byte, ts int64) {
	attrs := binary.BigEndian.Uint16(b[attrOffset:])
	binary.BigEndian.PutUint16(b[attrOffset:], attrs|attrTimestampType)
	binary.BigEndian.PutUint64(b[maxTimestampOffset:], uint64(ts))
	binary.BigEndian.PutUint32(b[crcOffset:], crc32c(b[crcStart:]))
}

// crc32c is the CRC-32C (Castagnoli) of b, the record batch checksum.
func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

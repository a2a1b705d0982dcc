package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Compress appends src compressed with codec to dst, in the format a Kafka
// producer writes (snappy as a raw block, like franz-go and librdkafka; see
// XerialSnappy for the Java client's framing). The broker stores batches as
// the producer compressed them, so this serves tests and tools; it is not
// tuned for throughput.
func Compress(dst []byte, codec int8, src []byte) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	var w io.WriteCloser
	switch codec {
	case Gzip:
		w = gzip.NewWriter(buf)
	case Snappy:
		return append(dst, s2.EncodeSnappy(nil, src)...), nil
	case LZ4:
		zw := lz4.NewWriter(buf)
		// Kafka's Java client writes 64 KiB independent blocks.
		if err := zw.Apply(lz4.BlockSizeOption(lz4.Block64Kb)); err != nil {
			return dst, err
		}
		w = zw
	case Zstd:
		enc, err := zstdEncoder()
		if err != nil {
			return dst, err
		}
		return enc.EncodeAll(src, dst), nil
	default:
		return dst, fmt.Errorf("%w %d", ErrUnknownCodec, codec)
	}
	if _, err := w.Write(src); err != nil {
		return dst, err
	}
	if err := w.Close(); err != nil {
		return dst, err
	}
	return buf.Bytes(), nil
}

// XerialSnappy appends src to dst in snappy-java's framing, as the Java
// client writes snappy batches: the xerial header (magic, version 1,
// compatible version 1), then chunks of at most chunk input bytes, each a
// big-endian int32 length and a raw snappy block.
func XerialSnappy(dst, src []byte, chunk int) []byte {
	dst = append(dst, xerialMagic...)
	dst = binary.BigEndian.AppendUint32(dst, 1)
	dst = binary.BigEndian.AppendUint32(dst, 1)
	for len(src) > 0 {
		n := min(chunk, len(src))
		block := s2.EncodeSnappy(nil, src[:n])
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(block)))
		dst = append(dst, block...)
		src = src[n:]
	}
	return dst
}

var zstdEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
})

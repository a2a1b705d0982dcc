// Package codec decompresses the records section of Kafka record batches
// (the bytes after the 61-byte header) with a bound on the output size, so a
// corrupt or hostile batch gives an error rather than exhausting memory.
//
// The formats are the ones Kafka's clients write for each codec id in the
// batch attributes: 1 gzip (a gzip stream), 2 snappy (a raw snappy block, as
// librdkafka and franz-go write it, or xerial framing, as the Java client's
// snappy-java writes it), 3 lz4 (the LZ4 frame format), 4 zstd (zstd frames).
//
// Decoders are reused: one shared zstd decoder (DecodeAll is safe for
// concurrent use), and pools of gzip and lz4 readers.
package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Codec ids, the low three bits of a record batch's attributes.
const (
	None   int8 = 0
	Gzip   int8 = 1
	Snappy int8 = 2
	LZ4    int8 = 3
	Zstd   int8 = 4
)

var (
	// ErrTooLarge: the data decompresses to more than the limit.
	ErrTooLarge = errors.New("decompressed size over the limit")
	// ErrUnknownCodec: a codec id other than 1-4.
	ErrUnknownCodec = errors.New("unknown compression codec")
	// ErrCorrupt: the compressed data cannot be decoded.
	ErrCorrupt = errors.New("corrupt compressed data")
)

// xerialMagic starts snappy-java's framing: the magic, then version and
// compatible version (int32 each), then chunks of (length int32, snappy block).
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const xerialHeaderSize = 16

// Decompressor decompresses with an output limit. It is safe for concurrent
// use.
type Decompressor struct {
	limit int

	zstdOnce sync.Once
	zstd     *zstd.Decoder
	zstdErr  error

	gzipReaders sync.Pool // *gzip.Reader
	lz4Readers  sync.Pool // *lz4.Reader
}

// NewDecompressor returns a Decompressor that never produces more than limit
// bytes for one call.
func NewDecompressor(limit int) *Decompressor {
	return &Decompressor{limit: limit}
}

// Limit is the maximum output of one Decompress.
func (d *Decompressor) Limit() int { return d.limit }

// Decompress appends the decompressed form of src to dst. Errors wrap
// ErrTooLarge, ErrUnknownCodec or ErrCorrupt.
func (d *Decompressor) Decompress(dst []byte, codec int8, src []byte) ([]byte, error) {
	var err error
	switch codec {
	case Gzip:
		dst, err = d.gunzip(dst, src)
	case Snappy:
		dst, err = d.unsnappy(dst, src)
	case LZ4:
		dst, err = d.unlz4(dst, src)
	case Zstd:
		dst, err = d.unzstd(dst, src)
	default:
		return dst, fmt.Errorf("%w %d", ErrUnknownCodec, codec)
	}
	if err != nil {
		if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrCorrupt) {
			err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return dst, fmt.Errorf("%s: %w", name(codec), err)
	}
	return dst, nil
}

func name(codec int8) string {
	return [...]string{"none", "gzip", "snappy", "lz4", "zstd"}[codec]
}

func (d *Decompressor) tooLarge() error {
	return fmt.Errorf("%w (%d bytes)", ErrTooLarge, d.limit)
}

func (d *Decompressor) gunzip(dst, src []byte) ([]byte, error) {
	zr, _ := d.gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(src))
	} else {
		err = zr.Reset(bytes.NewReader(src))
	}
	if err != nil {
		return dst, err
	}
	dst, err = d.readAll(dst, zr, 4*len(src))
	d.gzipReaders.Put(zr)
	return dst, err
}

func (d *Decompressor) unlz4(dst, src []byte) ([]byte, error) {
	zr, _ := d.lz4Readers.Get().(*lz4.Reader)
	if zr == nil {
		zr = lz4.NewReader(bytes.NewReader(src))
	} else {
		zr.Reset(bytes.NewReader(src))
	}
	dst, err := d.readAll(dst, zr, 4*len(src))
	zr.Reset(nil) // returns its block buffer and drops src
	d.lz4Readers.Put(zr)
	return dst, err
}

// readAll appends all of r to dst, failing once it passes the limit. hint is
// the expected size, for the first allocation.
func (d *Decompressor) readAll(dst []byte, r io.Reader, hint int) ([]byte, error) {
	start := len(dst)
	if cap(dst)-start < 512 {
		dst = grow(dst, min(max(hint, 512), d.limit+1))
	}
	for {
		if len(dst) == cap(dst) {
			n := len(dst) - start
			if n > d.limit {
				return dst, d.tooLarge()
			}
			dst = grow(dst, min(max(n, 512), d.limit+1-n))
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if len(dst)-start > d.limit {
			return dst, d.tooLarge()
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// grow returns b with room for at least n more bytes, keeping its contents;
// it at least doubles the capacity, so repeated small growth is amortized.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), max(len(b)+n, 2*cap(b)))
	copy(nb, b)
	return nb
}

func (d *Decompressor) unsnappy(dst, src []byte) ([]byte, error) {
	start := len(dst)
	if !bytes.HasPrefix(src, xerialMagic) {
		return d.snappyBlock(dst, src, start)
	}
	if len(src) < xerialHeaderSize {
		return dst, fmt.Errorf("%w: xerial header of %d bytes", ErrCorrupt, len(src))
	}
	var err error
	for p := src[xerialHeaderSize:]; len(p) > 0; {
		if len(p) < 4 {
			return dst, fmt.Errorf("%w: torn xerial chunk length", ErrCorrupt)
		}
		n := binary.BigEndian.Uint32(p)
		p = p[4:]
		if uint64(n) > uint64(len(p)) {
			return dst, fmt.Errorf("%w: xerial chunk of %d bytes, %d left", ErrCorrupt, n, len(p))
		}
		if dst, err = d.snappyBlock(dst, p[:n], start); err != nil {
			return dst, err
		}
		p = p[n:]
	}
	return dst, nil
}

// snappyBlock appends one decoded snappy block to dst; the output so far
// started at dst[start].
func (d *Decompressor) snappyBlock(dst, block []byte, start int) ([]byte, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return dst, err
	}
	if n > d.limit-(len(dst)-start) {
		return dst, d.tooLarge()
	}
	dst = grow(dst, n)
	out, err := s2.Decode(dst[len(dst):len(dst)+n], block)
	if err != nil {
		return dst, err
	}
	return dst[:len(dst)+len(out)], nil
}

func (d *Decompressor) unzstd(dst, src []byte) ([]byte, error) {
	// DecodeAll decodes into its output, so the window needs no memory of
	// its own; the decoder still refuses windows over its output limit,
	// which only frames written at zstd levels 20-22 without a known size
	// would declare.
	d.zstdOnce.Do(func() {
		d.zstd, d.zstdErr = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithDecoderMaxMemory(uint64(d.limit)),
			zstd.WithDecoderMaxWindow(uint64(max(d.limit, zstd.MinWindowSize))))
	})
	if d.zstdErr != nil {
		return dst, d.zstdErr
	}
	// The decoder counts what dst already holds against its limit, so
	// decode into the free space after it.
	out, err := d.zstd.DecodeAll(src, dst[len(dst):])
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
		return dst, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	if err != nil {
		return dst, err
	}
	if len(dst) == 0 {
		return out, nil
	}
	return append(dst, out...), nil // in place unless DecodeAll had to allocate
}

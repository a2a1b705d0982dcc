package codec

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

func sample(n int) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, n)
	for i := range b {
		if i%2 == 0 {
			b[i] = byte(rng.Uint32())
		} else {
			b[i] = 'x'
		}
	}
	return b
}

func mustCompress(t testing.TB, codec int8, src []byte) []byte {
	t.Helper()
	b, err := Compress(nil, codec, src)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// javaLZ4 writes an LZ4 frame the way Kafka's KafkaLZ4BlockOutputStream
// does: 64 KiB independent blocks, no content size or checksum.
func javaLZ4(t testing.TB, src []byte) []byte {
	var buf bytes.Buffer
	w := lz4.NewWriter(&buf)
	if err := w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false)); err != nil {
		t.Fatal(err)
	}
	w.Write(src)
	w.Close()
	return buf.Bytes()
}

// zstdStream writes a zstd frame without a content size, as a streaming
// encoder does (with a window below the tests' 1 MiB limit, which the
// decoder also applies to windows).
func zstdStream(t testing.TB, src []byte) []byte {
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(256<<10))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(src)
	w.Close()
	return buf.Bytes()
}

func gzipMembers(src ...[]byte) []byte {
	var buf bytes.Buffer
	for _, s := range src {
		w := gzip.NewWriter(&buf)
		w.Write(s)
		w.Close()
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	d := NewDecompressor(1 << 20)
	for _, n := range []int{0, 1, 1000, 100 << 10, 300 << 10} {
		src := sample(n)
		cases := map[string]struct {
			codec int8
			data  []byte
		}{
			"gzip":               {Gzip, mustCompress(t, Gzip, src)},
			"gzip two members":   {Gzip, gzipMembers(src[:n/2], src[n/2:])},
			"snappy raw":         {Snappy, mustCompress(t, Snappy, src)},
			"snappy xerial":      {Snappy, XerialSnappy(nil, src, 32<<10)},
			"lz4":                {LZ4, mustCompress(t, LZ4, src)},
			"lz4 java":           {LZ4, javaLZ4(t, src)},
			"lz4 two frames":     {LZ4, append(javaLZ4(t, src[:n/2]), javaLZ4(t, src[n/2:])...)},
			"zstd":               {Zstd, mustCompress(t, Zstd, src)},
			"zstd stream":        {Zstd, zstdStream(t, src)},
			"zstd two frames":    {Zstd, append(mustCompress(t, Zstd, src[:n/2]), zstdStream(t, src[n/2:])...)},
			"snappy xerial tiny": {Snappy, XerialSnappy(nil, src, 1+n/1000)},
		}
		for name, c := range cases {
			prefix := []byte("keep")
			got, err := d.Decompress(bytes.Clone(prefix), c.codec, c.data)
			if err != nil || !bytes.Equal(got, append(prefix, src...)) {
				t.Errorf("%s of %d bytes: got %d bytes, err %v", name, n, len(got), err)
			}
		}
	}
}

// TestLimit: output past the limit is an error, for every codec, whether or
// not the compressed data announces its size.
func TestLimit(t *testing.T) {
	const limit = 1 << 20
	d := NewDecompressor(limit)
	exact, over := make([]byte, limit), make([]byte, limit+1)
	for name, c := range map[string]struct {
		codec int8
		f     func([]byte) []byte
	}{
		"gzip":          {Gzip, func(b []byte) []byte { return mustCompress(t, Gzip, b) }},
		"snappy":        {Snappy, func(b []byte) []byte { return mustCompress(t, Snappy, b) }},
		"snappy xerial": {Snappy, func(b []byte) []byte { return XerialSnappy(nil, b, 64<<10) }},
		"lz4":           {LZ4, func(b []byte) []byte { return javaLZ4(t, b) }},
		"zstd":          {Zstd, func(b []byte) []byte { return mustCompress(t, Zstd, b) }},
		"zstd stream":   {Zstd, func(b []byte) []byte { return zstdStream(t, b) }},
	} {
		if got, err := d.Decompress(nil, c.codec, c.f(exact)); err != nil || len(got) != limit {
			t.Errorf("%s: exactly the limit: %d bytes, %v", name, len(got), err)
		}
		if _, err := d.Decompress(nil, c.codec, c.f(over)); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: over the limit: err = %v, want ErrTooLarge", name, err)
		}
	}
}

func TestUnknownCodec(t *testing.T) {
	for _, c := range []int8{0, 5, 7, -1} {
		if _, err := NewDecompressor(10).Decompress(nil, c, []byte("x")); !errors.Is(err, ErrUnknownCodec) {
			t.Errorf("codec %d: %v", c, err)
		}
	}
}

func TestConcurrent(t *testing.T) {
	d := NewDecompressor(1 << 20)
	src := sample(64 << 10)
	inputs := [][]byte{nil, mustCompress(t, Gzip, src), XerialSnappy(nil, src, 32<<10), javaLZ4(t, src), zstdStream(t, src)}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 12 {
				c := int8(1 + (g+i)%4)
				got, err := d.Decompress(nil, c, inputs[c])
				if err != nil || !bytes.Equal(got, src) {
					t.Errorf("codec %d: %v", c, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzDecompress: arbitrary input gives output within the limit or an
// error, never a panic or an allocation far beyond the limit.
func FuzzDecompress(f *testing.F) {
	src := sample(3000)
	f.Add(uint8(Gzip), mustCompress(f, Gzip, src))
	f.Add(uint8(Snappy), mustCompress(f, Snappy, src))
	f.Add(uint8(Snappy), XerialSnappy(nil, src, 1000))
	f.Add(uint8(LZ4), javaLZ4(f, src))
	f.Add(uint8(Zstd), mustCompress(f, Zstd, src))
	f.Add(uint8(Zstd), zstdStream(f, make([]byte, 5<<20)))
	f.Add(uint8(Gzip), mustCompress(f, Gzip, make([]byte, 5<<20)))
	const limit = 1 << 20
	d := NewDecompressor(limit)
	f.Fuzz(func(t *testing.T, codec uint8, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		out, err := d.Decompress(nil, int8(codec%8), data)
		runtime.ReadMemStats(&after)
		if err == nil && len(out) > limit {
			t.Fatalf("%d bytes out, limit %d", len(out), limit)
		}
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrUnknownCodec) {
			t.Fatalf("unclassified error %v", err)
		}
		// The output buffer grows by doubling to the limit; lz4 may take a
		// 4 MiB block buffer, zstd its decoders on first use.
		if got := after.TotalAlloc - before.TotalAlloc; got > 4*limit+(16<<20) {
			t.Fatalf("allocated %d MiB", got>>20)
		}
	})
}

package msgset

import (
	"encoding/binary"
	"math/bits"
)

// Message format v0's LZ4 framing (KAFKA-3160): Kafka before 0.10 computed
// the LZ4 frame descriptor's checksum byte over the descriptor *and* the
// four magic bytes before it. Kafka 3.9 still writes v0 wrappers that way
// (KafkaLZ4BlockOutputStream with useBrokenFlagDescriptorChecksum) and
// ignores the byte when reading v0 (ignoreFlagDescriptorChecksum); v1 and
// v2 use the standard frame. The frame is otherwise the standard one, so
// these helpers only rewrite that byte: fixLZ4Checksum before a v0
// wrapper's value is decompressed, breakLZ4Checksum after one is
// compressed for a v0 fetch.

const lz4Magic = 0x184D2204

// lz4ChecksumAt returns the index of an LZ4 frame's descriptor checksum
// byte (after magic, FLG, BD and the optional content size and dictionary
// id), or false when frame does not start with a frame descriptor.
func lz4ChecksumAt(frame []byte) (int, bool) {
	if len(frame) < 7 || binary.LittleEndian.Uint32(frame) != lz4Magic {
		return 0, false
	}
	flg, at := frame[4], 6
	if flg&0x08 != 0 { // content size
		at += 8
	}
	if flg&0x01 != 0 { // dictionary id
		at += 4
	}
	return at, at < len(frame)
}

// fixLZ4Checksum returns frame with the standard descriptor checksum (a
// copy when it changes; frame itself when it is not an LZ4 frame).
func fixLZ4Checksum(frame []byte) []byte {
	at, ok := lz4ChecksumAt(frame)
	if !ok {
		return frame
	}
	hc := byte(xxh32(frame[4:at]) >> 8)
	if frame[at] == hc {
		return frame
	}
	out := append([]byte(nil), frame...)
	out[at] = hc
	return out
}

// breakLZ4Checksum sets frame's descriptor checksum to v0's, over the
// magic bytes too.
func breakLZ4Checksum(frame []byte) {
	if at, ok := lz4ChecksumAt(frame); ok {
		frame[at] = byte(xxh32(frame[:at]) >> 8)
	}
}

// xxh32 is XXH32 with seed 0, the hash of the LZ4 frame format.
func xxh32(b []byte) uint32 {
	var p1, p2, p3, p4, p5 uint32 = 2654435761, 2246822519, 3266489917, 668265263, 374761393 // variables: the sums wrap
	round := func(acc, in uint32) uint32 { return bits.RotateLeft32(acc+in*p2, 13) * p1 }
	n, le := uint32(len(b)), binary.LittleEndian
	h := p5
	if len(b) >= 16 {
		v1, v2, v3, v4 := p1+p2, p2, uint32(0), -p1
		for ; len(b) >= 16; b = b[16:] {
			v1, v2 = round(v1, le.Uint32(b)), round(v2, le.Uint32(b[4:]))
			v3, v4 = round(v3, le.Uint32(b[8:])), round(v4, le.Uint32(b[12:]))
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) + bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	}
	h += n
	for ; len(b) >= 4; b = b[4:] {
		h = bits.RotateLeft32(h+le.Uint32(b)*p3, 17) * p4
	}
	for _, c := range b {
		h = bits.RotateLeft32(h+uint32(c)*p5, 11) * p1
	}
	h ^= h >> 15
	h *= p2
	h ^= h >> 13
	h *= p3
	return h ^ h>>16
}

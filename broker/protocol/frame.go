package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrFrameTooLarge is returned by ReadFrame when a frame's size prefix is
// over the limit (socket.request.max.bytes). The connection must be closed:
// its stream position is lost.
var ErrFrameTooLarge = errors.New("frame larger than socket.request.max.bytes")

// ReadFrame reads one size-prefixed frame from r into buf (grown as needed)
// and returns the frame body. A negative size or one over max is an error;
// the body is not read.
func ReadFrame(r io.Reader, buf []byte, max int32) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 0 || n > max {
		return nil, fmt.Errorf("%w: size %d, limit %d", ErrFrameTooLarge, n, max)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("reading %d-byte frame: %w", n, err)
	}
	return buf, nil
}

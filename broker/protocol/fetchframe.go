package protocol

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fetch responses are mostly record bytes read from segment files. Encoding
// them with kmsg would copy every record set into one growing buffer; that
// copy was 46% of a consuming broker's CPU. Instead each record set is
// swapped for a unique 20-byte marker, the (now small) response is encoded,
// and the real record sets are spliced back in as separate buffers of one
// writev. The bytes on the wire are identical to the plain encoding
// (fetchframe_test.go checks it for every Fetch version).
//
// On a plaintext TCP connection a record set can also stay in its segment
// file (FileRecords): WriteFetch sends it with sendfile(2) from an explicit
// file offset, so the bytes never enter user space, and writes the pieces
// of the frame between with writev.

// markerSeed makes markers unguessable, so no client-chosen bytes in the
// encoded response (topic names) can imitate one. fileMarkerSeed is the
// same for FileMarker's.
var markerSeed, fileMarkerSeed = randomSeed(), randomSeed()

func randomSeed() [16]byte {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("protocol: crypto/rand failed: " + err.Error())
	}
	return b
}

const markerLen = 20

func makeMarker(seed [16]byte, i int) []byte {
	m := make([]byte, markerLen)
	copy(m, seed[:])
	binary.BigEndian.PutUint32(m[16:], uint32(i))
	return m
}

func marker(i int) []byte { return makeMarker(markerSeed, i) }

// FileRecords is a record set left in a file: Len bytes at Offset of File.
// The file must stay open until WriteFetch returns. Intact reports whether
// the bytes are still the ones the set was made of; WriteFetch asks once
// it has read them all, before the frame's last byte goes out.
type FileRecords interface {
	File() *os.File
	Offset() int64
	Len() int
	Intact() bool
}

// FileMarker is what a partition's RecordBatches holds when its record set
// is the i-th FileRecords given to WriteFetch.
func FileMarker(i int) []byte { return makeMarker(fileMarkerSeed, i) }

// FileMarkerIndex returns i if b is FileMarker(i).
func FileMarkerIndex(b []byte) (int, bool) {
	if len(b) != markerLen || !bytes.Equal(b[:16], fileMarkerSeed[:]) {
		return 0, false
	}
	return int(binary.BigEndian.Uint32(b[16:])), true
}

// recordSet is one record set to splice in: bytes, or a file's.
type recordSet struct {
	b      []byte
	file   FileRecords
	marker []byte
	dst    *kmsg.FetchResponseTopicPartition // where b was taken from
}

func (s recordSet) len() int {
	if s.file != nil {
		return s.file.Len()
	}
	return len(s.b)
}

// piece is a run of a frame: buffers for writev, or a file range.
type piece struct {
	bufs net.Buffers
	file FileRecords
}

// FetchFrame encodes a Fetch response frame as buffers for one writev. It
// falls back to the plain encoding if a marker cannot be found where
// expected (it cannot, but the fallback is cheap insurance).
func FetchFrame(corr int32, resp *kmsg.FetchResponse) net.Buffers {
	pieces, err := fetchPieces(corr, resp, nil)
	if err != nil {
		return net.Buffers{AppendResponse(nil, corr, resp)}
	}
	return pieces[0].bufs
}

// fetchPieces swaps the record sets for markers, encodes the response and
// splices the sets back in. A partition whose RecordBatches is
// FileMarker(i) is files[i].
func fetchPieces(corr int32, resp *kmsg.FetchResponse, files []FileRecords) ([]piece, error) {
	var sets []recordSet
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			p := &resp.Topics[ti].Partitions[pi]
			if len(p.RecordBatches) == 0 {
				continue
			}
			if i, ok := FileMarkerIndex(p.RecordBatches); ok {
				if i >= len(files) {
					return nil, fmt.Errorf("fetch response names file record set %d of %d", i, len(files))
				}
				sets = append(sets, recordSet{file: files[i], marker: p.RecordBatches})
				continue
			}
			m := marker(len(sets))
			sets = append(sets, recordSet{b: p.RecordBatches, marker: m, dst: p})
			p.RecordBatches = m
		}
	}
	head := AppendResponse(nil, corr, resp)
	out, ok := splice(head, sets, resp.IsFlexible())
	for _, s := range sets { // put the in-memory sets back
		if s.file == nil {
			s.dst.RecordBatches = s.b
		}
	}
	if !ok {
		return nil, errors.New("fetch response: a record set marker is not where it should be")
	}
	return out, nil
}

// splice replaces each marker (and its length prefix) in frame with the
// record set's own prefix and bytes.
func splice(frame []byte, sets []recordSet, flexible bool) ([]piece, bool) {
	markerPrefix := binary.BigEndian.AppendUint32(nil, markerLen)
	if flexible {
		markerPrefix = binary.AppendUvarint(nil, markerLen+1)
	}
	out := []piece{{bufs: make(net.Buffers, 0, 3*len(sets)+1)}}
	size := int64(len(frame) - 4)
	pos := 0
	for _, set := range sets {
		idx := bytes.Index(frame[pos:], set.marker)
		if idx < 0 {
			return nil, false
		}
		idx += pos
		start := idx - len(markerPrefix)
		if start < pos || !bytes.Equal(frame[start:idx], markerPrefix) {
			return nil, false
		}
		n := set.len()
		prefix := binary.BigEndian.AppendUint32(nil, uint32(n))
		if flexible {
			prefix = binary.AppendUvarint(nil, uint64(n)+1)
		}
		last := &out[len(out)-1]
		last.bufs = append(last.bufs, frame[pos:start], prefix)
		if set.file != nil {
			out = append(out, piece{file: set.file}, piece{})
		} else {
			last.bufs = append(last.bufs, set.b)
		}
		size += int64(len(prefix)+n) - int64(len(markerPrefix)+markerLen)
		pos = idx + markerLen
	}
	last := &out[len(out)-1]
	last.bufs = append(last.bufs, frame[pos:])
	binary.BigEndian.PutUint32(frame, uint32(size))
	return out, true
}

// ErrRecordsChanged is WriteFetch's error when a file's bytes may have
// changed while they were sent (a truncation began): the frame was left
// unfinished, and the connection must be closed so the client never
// parses it.
var ErrRecordsChanged = errors.New("fetch response: record bytes changed in their file while being sent")

// WriteFetch writes a Fetch response frame to c: in-memory record sets
// with writev (as FetchFrame), record sets marked FileMarker(i) from
// files[i] with sendfile(2) at the set's own offset (never the file's
// shared offset). Before the frame's last byte it checks that every file
// set is still Intact, so a client gets a whole frame only of the bytes
// that were chosen; otherwise it returns ErrRecordsChanged and the
// caller closes the connection.
//
// An answer whose file sets come to at most SmallFetchBytes in all is
// read into memory and written with one writev instead: for a few KiB,
// sendfile's extra socket writes (the header, each set, the held-back
// byte) cost more than the copy, and each wakes the receiver again.
func WriteFetch(c *net.TCPConn, corr int32, resp *kmsg.FetchResponse, files []FileRecords) error {
	if small, err := writeSmallFetch(c, corr, resp, files); small {
		return err
	}
	pieces, err := fetchPieces(corr, resp, files)
	if err != nil {
		return err
	}
	tail, err := splitTail(pieces)
	if err != nil {
		for _, f := range files {
			if !f.Intact() {
				return fmt.Errorf("%w: %w", ErrRecordsChanged, err)
			}
		}
		return err
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	for _, p := range pieces {
		if p.file != nil {
			err = sendFile(rc, p.file.File(), p.file.Offset(), p.file.Len())
			if err != nil && !p.file.Intact() {
				err = fmt.Errorf("%w: %w", ErrRecordsChanged, err) // cut under us
			}
		} else {
			_, err = p.bufs.WriteTo(c)
		}
		if err != nil {
			return err
		}
	}
	for _, f := range files {
		if !f.Intact() {
			return ErrRecordsChanged
		}
	}
	_, err = c.Write(tail)
	return err
}

// SmallFetchBytes is the most file bytes a Fetch answer reads into memory
// rather than sends with sendfile(2). Measured on loopback with 1 KiB
// records at a few thousand answers a second (issue 14), an answer of one
// batch cost its broker four syscalls (writev, a 1-byte pread, sendfile,
// a 1-byte write) against two (pread, writev); copying 16 KiB costs about
// as much as the two writes saved.
const SmallFetchBytes = 16 << 10

// smallFetchBufs holds the buffers writeSmallFetch reads record sets
// into: an answer's bytes are written before it returns, so the buffer is
// free again at once (followers fetch several times per acks=all produce).
var smallFetchBufs = sync.Pool{New: func() any { b := make([]byte, SmallFetchBytes); return &b }}

// writeSmallFetch writes the answer with its file sets read into memory if
// they come to at most SmallFetchBytes, and reports whether it did. It
// checks every set is Intact after reading and before sending anything:
// a truncation that began meanwhile gives ErrRecordsChanged with nothing
// written.
func writeSmallFetch(c *net.TCPConn, corr int32, resp *kmsg.FetchResponse, files []FileRecords) (bool, error) {
	total := 0
	for _, f := range files {
		total += f.Len()
	}
	if total > SmallFetchBytes {
		return false, nil
	}
	pooled := smallFetchBufs.Get().(*[]byte)
	defer smallFetchBufs.Put(pooled)
	buf := (*pooled)[:total]
	read := make([][]byte, len(files))
	for i, f := range files {
		b := buf[:f.Len():f.Len()]
		buf = buf[f.Len():]
		if n, err := f.File().ReadAt(b, f.Offset()); n < len(b) {
			if err == io.EOF || err == nil {
				err = io.ErrUnexpectedEOF
			}
			if !f.Intact() {
				err = fmt.Errorf("%w: %w", ErrRecordsChanged, err)
			}
			return true, fmt.Errorf("fetch response: read a record set: %w", err)
		}
		read[i] = b
	}
	for _, f := range files {
		if !f.Intact() {
			return true, ErrRecordsChanged
		}
	}
	// Swap each file marker for its bytes, write, and put the markers
	// back: the caller still owns resp.
	type swapped struct {
		p      *kmsg.FetchResponseTopicPartition
		marker []byte
	}
	var undo []swapped
	defer func() {
		for _, u := range undo {
			u.p.RecordBatches = u.marker
		}
	}()
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			p := &resp.Topics[ti].Partitions[pi]
			if i, ok := FileMarkerIndex(p.RecordBatches); ok {
				if i >= len(files) {
					return true, fmt.Errorf("fetch response names file record set %d of %d", i, len(files))
				}
				undo = append(undo, swapped{p, p.RecordBatches})
				p.RecordBatches = read[i]
			}
		}
	}
	bufs := FetchFrame(corr, resp)
	_, err := bufs.WriteTo(c)
	return true, err
}

// splitTail takes the frame's last byte off pieces and returns it (read
// from its file if the frame ends with a file set, before any of it is
// sent), so the Intact check comes before the client has a whole frame.
func splitTail(pieces []piece) ([]byte, error) {
	for i := len(pieces) - 1; i >= 0; i-- {
		p := &pieces[i]
		if p.file != nil {
			if p.file.Len() == 0 {
				continue
			}
			tail := make([]byte, 1)
			f := p.file
			if _, err := f.File().ReadAt(tail, f.Offset()+int64(f.Len()-1)); err != nil {
				return nil, fmt.Errorf("read the last byte of a record set: %w", err)
			}
			p.file = shorter{f}
			return tail, nil
		}
		for j := len(p.bufs) - 1; j >= 0; j-- {
			if b := p.bufs[j]; len(b) > 0 {
				p.bufs[j] = b[:len(b)-1]
				return b[len(b)-1:], nil
			}
		}
	}
	return nil, errors.New("fetch response: empty frame")
}

// shorter is a file set without its last byte.
type shorter struct{ FileRecords }

func (s shorter) Len() int { return s.FileRecords.Len() - 1 }

// sendFile sends n bytes of f from off to the socket with sendfile(2),
// waiting for the socket to be writable when it would block.
func sendFile(rc syscall.RawConn, f *os.File, off int64, n int) error {
	fc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	werr := rc.Write(func(sfd uintptr) bool {
		for n > 0 {
			var w int
			var e error
			cerr := fc.Control(func(ffd uintptr) {
				w, e = syscall.Sendfile(int(sfd), int(ffd), &off, min(n, 1<<30))
			})
			switch {
			case cerr != nil:
				serr = cerr
				return true
			case e == syscall.EAGAIN:
				return false // wait until the socket is writable
			case e == syscall.EINTR:
				continue
			case e != nil:
				serr = os.NewSyscallError("sendfile", e)
				return true
			case w == 0:
				serr = fmt.Errorf("sendfile: %w: %d bytes short of the record set", io.ErrUnexpectedEOF, n)
				return true
			}
			n -= w
		}
		return true
	})
	if werr != nil {
		return werr
	}
	return serr
}

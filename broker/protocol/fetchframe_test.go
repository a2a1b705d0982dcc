package protocol

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"net"
	"os"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The spliced writev frame must be byte-identical to kmsg's own encoding,
// for every Fetch version served, with empty, small and large record sets.
func TestFetchFrameMatchesPlainEncoding(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for v := int16(4); v <= 17; v++ {
		resp := kmsg.NewPtrFetchResponse()
		resp.SetVersion(v)
		for ti := 0; ti < 3; ti++ {
			rt := kmsg.NewFetchResponseTopic()
			rt.Topic = "topic-" + string(rune('a'+ti))
			rt.TopicID[0] = byte(ti)
			for pi := 0; pi < 4; pi++ {
				rp := kmsg.NewFetchResponseTopicPartition()
				rp.Partition = int32(pi)
				n := []int{0, 1, 200, 70000}[rng.Intn(4)]
				rp.RecordBatches = make([]byte, n)
				rng.Read(rp.RecordBatches)
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		want := AppendResponse(nil, 42, resp)
		var got bytes.Buffer
		for _, b := range FetchFrame(42, resp) {
			got.Write(b)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("Fetch v%d: spliced frame (%d bytes) differs from plain encoding (%d bytes)", v, got.Len(), len(want))
		}
	}
}

// fileSet is a FileRecords over a test file.
type fileSet struct {
	f      *os.File
	off    int64
	n      int
	intact bool
}

func (s *fileSet) File() *os.File { return s.f }
func (s *fileSet) Offset() int64  { return s.off }
func (s *fileSet) Len() int       { return s.n }
func (s *fileSet) Intact() bool   { return s.intact }

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return server.(*net.TCPConn), client.(*net.TCPConn)
}

// fileResponse builds a Fetch response of version v whose record sets are
// in f (at scattered offsets, as segments hold them) or in memory, and
// the same response with every set in memory.
func fileResponse(t *testing.T, rng *rand.Rand, f *os.File, v int16, sizes []int) (withFiles, plain *kmsg.FetchResponse, files []FileRecords) {
	withFiles, plain = kmsg.NewPtrFetchResponse(), kmsg.NewPtrFetchResponse()
	withFiles.SetVersion(v)
	plain.SetVersion(v)
	var off int64
	for ti := range 3 {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = "topic-" + string(rune('a'+ti))
		rt.TopicID[0] = byte(ti)
		pt := rt
		for pi := range 4 {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition = int32(pi)
			n := sizes[rng.Intn(len(sizes))]
			data := make([]byte, n)
			rng.Read(data)
			pp := rp
			pp.RecordBatches = data
			inFile := rng.Intn(3) > 0 || (ti == 2 && pi == 3) // the frame's last set, often
			if inFile && n > 0 {
				off += int64(rng.Intn(5000))
				if _, err := f.WriteAt(data, off); err != nil {
					t.Fatal(err)
				}
				rp.RecordBatches = FileMarker(len(files))
				files = append(files, &fileSet{f: f, off: off, n: n, intact: true})
				off += int64(n)
			} else {
				rp.RecordBatches = data
			}
			rt.Partitions = append(rt.Partitions, rp)
			pt.Partitions = append(pt.Partitions, pp)
		}
		withFiles.Topics = append(withFiles.Topics, rt)
		plain.Topics = append(plain.Topics, pt)
	}
	return withFiles, plain, files
}

// Record set sizes of the test responses: mostly sent with sendfile, or
// all small enough together to be read into memory (SmallFetchBytes).
var (
	largeSets = []int{0, 1, 200, 70000, 300000}
	smallSets = []int{0, 1, 200, 1300}
)

// Sent with sendfile, or read into memory when small, the frame is
// byte-identical to kmsg's encoding of the same response, for every Fetch
// version that takes that path (all of them for followers; v4 on for
// consumers, whose older answers are down-converted in memory), whether
// the frame ends with a file's bytes (v0–v11) or not.
func TestWriteFetchMatchesPlainEncoding(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "segment")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewSource(2))
	for v := int16(0); v <= 17; v++ {
		for round := range 6 {
			sizes := largeSets
			if round%2 == 1 {
				sizes = smallSets
			}
			resp, plain, files := fileResponse(t, rng, f, v, sizes)
			want := AppendResponse(nil, 42, plain)
			server, client := tcpPair(t)
			got := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(client)
				got <- b
			}()
			if err := WriteFetch(server, 42, resp, files); err != nil {
				t.Fatalf("Fetch v%d round %d: %v", v, round, err)
			}
			server.Close()
			if b := <-got; !bytes.Equal(b, want) {
				t.Fatalf("Fetch v%d round %d: sent %d bytes, plain encoding %d, not identical", v, round, len(b), len(want))
			}
		}
	}
}

// A file set that is no longer intact once sent stops the frame short of
// its last byte (or, read into memory, before its first): the client
// never has a whole frame to parse.
func TestWriteFetchStopsOnChangedFile(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "segment")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewSource(3))
	for i, v := range []int16{4, 11, 12, 17, 4, 11, 12, 17} {
		sizes := largeSets
		if i >= 4 {
			sizes = smallSets
		}
		var resp, plain *kmsg.FetchResponse
		var files []FileRecords
		for len(files) == 0 || (i < 4) != (totalLen(files) > SmallFetchBytes) {
			resp, plain, files = fileResponse(t, rng, f, v, sizes)
		}
		files[0].(*fileSet).intact = false
		want := AppendResponse(nil, 7, plain)
		server, client := tcpPair(t)
		got := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(client)
			got <- b
		}()
		if err := WriteFetch(server, 7, resp, files); !errors.Is(err, ErrRecordsChanged) {
			t.Fatalf("Fetch v%d: %v, want ErrRecordsChanged", v, err)
		}
		server.Close()
		wantLen := len(want) - 1 // sendfile: all but the held-back byte
		if i >= 4 {
			wantLen = 0 // read into memory: checked before any write
		}
		if b := <-got; len(b) != wantLen || !bytes.Equal(b, want[:wantLen]) {
			t.Fatalf("Fetch v%d: client got %d of %d bytes, want %d", v, len(b), len(want), wantLen)
		}
	}
}

func totalLen(files []FileRecords) int {
	n := 0
	for _, f := range files {
		n += f.Len()
	}
	return n
}

// A file shorter than its set (cut under us) is an error, not a short frame
// passed off as whole.
func TestWriteFetchShortFile(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "segment")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(12)
	rt := kmsg.NewFetchResponseTopic()
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.RecordBatches = FileMarker(0)
	rt.Partitions = append(rt.Partitions, rp)
	resp.Topics = append(resp.Topics, rt)
	server, client := tcpPair(t)
	go io.Copy(io.Discard, client)
	err = WriteFetch(server, 1, resp, []FileRecords{&fileSet{f: f, off: 500, n: 4000, intact: true}})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short file: %v", err)
	}
}

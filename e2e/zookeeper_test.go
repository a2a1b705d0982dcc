package e2e

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
)

// fakeZooKeeper is the least of a ZooKeeper server that Burrow 1.x needs
// to start: Burrow insists on a ZooKeeper ensemble for its own
// coordination (it creates its root path and takes a lock so only one
// instance notifies), never for the Kafka cluster it watches. It speaks
// ZooKeeper's jute framing for connect, create (sequential names
// included), exists, getChildren2, ping and close; every other operation
// is answered ZUNIMPLEMENTED. One flat in-memory tree; ephemeral nodes
// are kept (sessions never expire here).
type fakeZooKeeper struct {
	ln net.Listener
	wg sync.WaitGroup

	mu struct {
		sync.Mutex
		nodes map[string]bool
		seq   int
	}
}

// ZooKeeper opcodes and error codes (org.apache.zookeeper.ZooDefs.OpCode,
// KeeperException.Code).
const (
	zkOpCreate       = 1
	zkOpExists       = 3
	zkOpGetChildren2 = 12
	zkOpPing         = 11
	zkOpClose        = -11

	zkErrNoNode        = -101
	zkErrNodeExists    = -110
	zkErrUnimplemented = -6

	zkFlagSequential = 2
)

func startFakeZooKeeper(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	zk := &fakeZooKeeper{ln: ln}
	zk.mu.nodes = map[string]bool{"/": true}
	zk.wg.Add(1)
	go zk.accept()
	t.Cleanup(func() {
		ln.Close()
		zk.wg.Wait()
	})
	return ln.Addr().String()
}

func (zk *fakeZooKeeper) accept() {
	defer zk.wg.Done()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for {
		c, err := zk.ln.Accept()
		if err != nil {
			return
		}
		conns = append(conns, c)
		zk.wg.Add(1)
		go func() {
			defer zk.wg.Done()
			defer c.Close()
			zk.serve(c)
		}()
	}
}

func (zk *fakeZooKeeper) serve(c net.Conn) {
	if _, err := zkReadPacket(c); err != nil { // ConnectRequest
		return
	}
	// ConnectResponse: protocol version, session timeout, session id, password.
	var resp []byte
	resp = binary.BigEndian.AppendUint32(resp, 0)
	resp = binary.BigEndian.AppendUint32(resp, 6000)
	resp = binary.BigEndian.AppendUint64(resp, 0x5eed)
	resp = zkAppendBuffer(resp, make([]byte, 16))
	if zkWritePacket(c, resp) != nil {
		return
	}
	for {
		req, err := zkReadPacket(c)
		if err != nil || len(req) < 8 {
			return
		}
		xid, op := int32(binary.BigEndian.Uint32(req)), int32(binary.BigEndian.Uint32(req[4:]))
		code, body := zk.handle(op, req[8:])
		out := binary.BigEndian.AppendUint32(nil, uint32(xid))
		out = binary.BigEndian.AppendUint64(out, 1) // zxid
		out = binary.BigEndian.AppendUint32(out, uint32(code))
		if zkWritePacket(c, append(out, body...)) != nil || op == zkOpClose {
			return
		}
	}
}

func (zk *fakeZooKeeper) handle(op int32, body []byte) (int32, []byte) {
	zk.mu.Lock()
	defer zk.mu.Unlock()
	switch op {
	case zkOpPing, zkOpClose:
		return 0, nil
	case zkOpCreate:
		p, rest := zkReadString(body)
		_, rest = zkReadString(rest) // data
		if len(rest) < 4 {
			return zkErrUnimplemented, nil
		}
		acls := int(int32(binary.BigEndian.Uint32(rest)))
		rest = rest[4:]
		for i := 0; i < acls && len(rest) >= 4; i++ { // perms int32, scheme, id
			_, rest = zkReadString(rest[4:])
			_, rest = zkReadString(rest)
		}
		if len(rest) >= 4 && binary.BigEndian.Uint32(rest)&zkFlagSequential != 0 {
			zk.mu.seq++
			p += fmt.Sprintf("%010d", zk.mu.seq)
		}
		switch {
		case zk.mu.nodes[p]:
			return zkErrNodeExists, nil
		case !zk.mu.nodes[path.Dir(p)]:
			return zkErrNoNode, nil
		}
		zk.mu.nodes[p] = true
		return 0, zkAppendString(nil, p)
	case zkOpExists:
		p, _ := zkReadString(body)
		if !zk.mu.nodes[p] {
			return zkErrNoNode, nil
		}
		return 0, make([]byte, 68) // a zero Stat
	case zkOpGetChildren2:
		p, _ := zkReadString(body)
		if !zk.mu.nodes[p] {
			return zkErrNoNode, nil
		}
		var kids []string
		for n := range zk.mu.nodes {
			if n != "/" && path.Dir(n) == p {
				kids = append(kids, strings.TrimPrefix(n[len(p):], "/"))
			}
		}
		sort.Strings(kids)
		out := binary.BigEndian.AppendUint32(nil, uint32(len(kids)))
		for _, k := range kids {
			out = zkAppendString(out, k)
		}
		return 0, append(out, make([]byte, 68)...)
	}
	return zkErrUnimplemented, nil
}

func zkReadPacket(r io.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > 1<<20 {
		return nil, fmt.Errorf("zookeeper packet of %d bytes", size)
	}
	buf := make([]byte, size)
	_, err := io.ReadFull(r, buf)
	return buf, err
}

func zkWritePacket(w io.Writer, body []byte) error {
	_, err := w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...))
	return err
}

func zkReadString(b []byte) (string, []byte) {
	if len(b) < 4 {
		return "", nil
	}
	n := int(int32(binary.BigEndian.Uint32(b)))
	b = b[4:]
	if n < 0 {
		return "", b
	}
	if n > len(b) {
		return "", nil
	}
	return string(b[:n]), b[n:]
}

func zkAppendString(dst []byte, s string) []byte { return zkAppendBuffer(dst, []byte(s)) }

func zkAppendBuffer(dst, b []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

package quorum

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// RaftPreamble opens every raft connection to a broker's Kafka port. Read
// as a Kafka frame size it is negative, so it can never start a Kafka
// request: the broker's accept loop reads four bytes, and when they are
// the preamble hands the connection to its Stream.
var RaftPreamble = [4]byte{0xFF, 'W', 'R', 'F'}

// IsRaftPreamble reports whether a connection's first four bytes mark it
// as a raft connection.
func IsRaftPreamble(b [4]byte) bool { return b == RaftPreamble }

// ErrStreamClosed is returned by Accept and Handoff after Close.
var ErrStreamClosed = errors.New("raft stream closed")

// Stream is the raft.StreamLayer that runs raft over the broker's Kafka
// listener: Accept returns connections the broker handed over with
// Handoff (preamble already consumed); Dial connects to another broker's
// Kafka port and writes the preamble first.
type Stream struct {
	addr  streamAddr
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
	conns chan net.Conn

	closeOnce sync.Once
	done      chan struct{}

	mu struct {
		sync.Mutex
		// open holds every connection Accept or Dial returned and
		// that is not closed yet; Close closes them, so raft's
		// connection goroutines end with the node.
		open   map[*trackedConn]struct{}
		closed bool
	}
}

var _ raft.StreamLayer = (*Stream)(nil)

// NewStream returns a Stream whose Addr is advertised, the host:port
// other brokers dial to reach this one (its entry in the voter list).
func NewStream(advertised string) *Stream {
	s := &Stream{addr: streamAddr(advertised), conns: make(chan net.Conn), done: make(chan struct{})}
	s.mu.open = map[*trackedConn]struct{}{}
	return s
}

// track registers c so that Close closes it.
func (s *Stream) track(c net.Conn) (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		c.Close()
		return nil, ErrStreamClosed
	}
	tc := &trackedConn{Conn: c, s: s}
	s.mu.open[tc] = struct{}{}
	return tc, nil
}

func (s *Stream) untrack(tc *trackedConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mu.open, tc)
}

// trackedConn removes itself from its Stream's open set on Close.
type trackedConn struct {
	net.Conn
	s    *Stream
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.s.untrack(c) })
	return c.Conn.Close()
}

// Handoff gives an accepted connection, whose preamble was consumed, to
// raft. It blocks until raft accepts it; after Close it closes conn and
// returns ErrStreamClosed.
func (s *Stream) Handoff(conn net.Conn) error {
	select {
	case s.conns <- conn:
		return nil
	case <-s.done:
		conn.Close()
		return ErrStreamClosed
	}
}

// Accept implements net.Listener for raft's transport.
func (s *Stream) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return s.track(c)
	case <-s.done:
		return nil, ErrStreamClosed
	}
}

// Close stops Accept, Handoff and Dial and closes every connection they
// returned that is still open.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() { close(s.done) })
	s.mu.Lock()
	open := s.mu.open
	s.mu.open, s.mu.closed = nil, true
	s.mu.Unlock()
	for c := range open {
		c.Conn.Close()
	}
	return nil
}

// Addr is the advertised raft address.
func (s *Stream) Addr() net.Addr { return s.addr }

// SetDial makes Dial connect with dial (TLS on an SSL inter-broker
// listener) instead of plain TCP; call it before the node starts.
func (s *Stream) SetDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) {
	s.dial = dial
}

// Dial connects to another broker's Kafka port and writes the preamble.
func (s *Stream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	dial := s.dial
	if dial == nil {
		d := net.Dialer{Timeout: timeout}
		dial = d.DialContext
	}
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	conn, err := dial(ctx, "tcp", string(address))
	cancel()
	if err != nil {
		return nil, fmt.Errorf("dialing raft peer %s: %w", address, err)
	}
	if timeout > 0 {
		conn.SetWriteDeadline(time.Now().Add(timeout))
	}
	if _, err := conn.Write(RaftPreamble[:]); err != nil {
		conn.Close()
		return nil, fmt.Errorf("writing raft preamble to %s: %w", address, err)
	}
	conn.SetWriteDeadline(time.Time{})
	return s.track(conn)
}

type streamAddr string

func (a streamAddr) Network() string { return "tcp" }
func (a streamAddr) String() string  { return string(a) }

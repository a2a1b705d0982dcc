package quorum

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestStreamDialAndHandoff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := NewStream(ln.Addr().String())
	if s.Addr().String() != ln.Addr().String() || s.Addr().Network() != "tcp" {
		t.Fatalf("addr %v", s.Addr())
	}
	dialed := make(chan net.Conn, 1)
	go func() { // joined through the dialed channel below
		c, err := s.Dial(raft.ServerAddress(ln.Addr().String()), time.Second)
		if err != nil {
			t.Error(err)
		}
		dialed <- c
	}()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	var pre [4]byte
	if _, err := io.ReadFull(server, pre[:]); err != nil || !IsRaftPreamble(pre) {
		t.Fatalf("preamble %x %v", pre, err)
	}
	// As a Kafka frame size the preamble is negative.
	if size := int32(pre[0])<<24 | int32(pre[1])<<16 | int32(pre[2])<<8 | int32(pre[3]); size >= 0 {
		t.Fatalf("preamble reads as size %d", size)
	}
	client := <-dialed
	defer client.Close()

	handed := make(chan error, 1)
	go func() { handed <- s.Handoff(server) }() // joined through handed
	got, err := s.Accept()
	if err != nil || got.(*trackedConn).Conn != server || <-handed != nil {
		t.Fatalf("accept %v %v", got, err)
	}

	// Close closes the connections the stream handed to raft.
	s.Close()
	if _, err := client.Read(make([]byte, 1)); err == nil {
		t.Fatal("accepted conn still open after Close")
	}
	s.Close() // idempotent
	if _, err := s.Accept(); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("accept after close: %v", err)
	}
	a, b := net.Pipe()
	defer b.Close()
	if err := s.Handoff(a); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("handoff after close: %v", err)
	}
	if _, err := a.Write([]byte{1}); err == nil {
		t.Fatal("handoff after close left the conn open")
	}
}

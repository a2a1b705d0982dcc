package protocol

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Peer is a broker's own connection to another broker, for replication,
// the lifecycle's requests to the controller and forwarding: requests at
// fixed versions that every Weir broker serves, one at a time. It is not
// safe for concurrent use.
type Peer struct {
	conn     net.Conn
	clientID string
	corr     atomic.Int32
	maxFrame int32
	frame    []byte // the request being written, reused
	buf      []byte // RequestReused's response frame, reused
}

// Dialer opens a connection to another broker: nil is plain TCP, a
// tlsconfig.Client's DialContext is TLS on an SSL inter-broker listener.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// DialPeer connects to the broker at addr; clientID names this broker in
// the request headers.
func DialPeer(ctx context.Context, addr, clientID string) (*Peer, error) {
	return DialPeerWith(ctx, nil, addr, clientID)
}

// DialPeerWith is DialPeer over dial (nil: TCP).
func DialPeerWith(ctx context.Context, dial Dialer, addr, clientID string) (*Peer, error) {
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to broker at %s: %w", addr, err)
	}
	return &Peer{conn: c, clientID: clientID, maxFrame: 256 << 20}, nil
}

// Close closes the connection.
func (pc *Peer) Close() error { return pc.conn.Close() }

// Request sends req and decodes the response into a new response value.
// The timeout bounds the whole exchange. It is a socket deadline, so it is
// measured on the wall clock (time.Now), never on a broker's injected one.
func (pc *Peer) Request(req kmsg.Request, timeout time.Duration) (kmsg.Response, error) {
	return pc.request(req, timeout, false)
}

// RequestReused is Request reading the response into a buffer the Peer
// keeps: the response's byte slices (a fetch's record sets) alias it and
// are valid only until the next call. A follower's fetch loop uses it, so
// the megabytes each of its responses carries are not allocated (and
// collected) again every round trip.
func (pc *Peer) RequestReused(req kmsg.Request, timeout time.Duration) (kmsg.Response, error) {
	return pc.request(req, timeout, true)
}

func (pc *Peer) request(req kmsg.Request, timeout time.Duration, reuse bool) (kmsg.Response, error) {
	corr := pc.corr.Add(1)
	frame := binary.BigEndian.AppendUint32(pc.frame[:0], 0)
	frame = binary.BigEndian.AppendUint16(frame, uint16(req.Key()))
	frame = binary.BigEndian.AppendUint16(frame, uint16(req.GetVersion()))
	frame = binary.BigEndian.AppendUint32(frame, uint32(corr))
	frame = kbin.AppendNullableString(frame, &pc.clientID)
	if req.IsFlexible() {
		frame = append(frame, 0)
	}
	frame = req.AppendTo(frame)
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	pc.frame = frame
	pc.conn.SetDeadline(time.Now().Add(timeout))
	if _, err := pc.conn.Write(frame); err != nil {
		return nil, fmt.Errorf("sending %s: %w", kmsg.NameForKey(req.Key()), err)
	}
	var buf []byte
	if reuse {
		buf = pc.buf
	}
	body, err := ReadFrame(pc.conn, buf, pc.maxFrame)
	if reuse && cap(body) > cap(pc.buf) {
		pc.buf = body
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	if len(body) < 4 || int32(binary.BigEndian.Uint32(body)) != corr {
		return nil, fmt.Errorf("%s response: bad correlation id", kmsg.NameForKey(req.Key()))
	}
	body = body[4:]
	resp := req.ResponseKind()
	if resp.IsFlexible() && resp.Key() != ApiVersionsKey {
		r := kbin.Reader{Src: body}
		kmsg.SkipTags(&r)
		body = r.Src
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decoding %s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	return resp, nil
}

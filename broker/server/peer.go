package server

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/protocol"
)

// peerConn is a broker's own connection to another broker, for
// replication: requests at fixed versions that every Weir broker serves,
// one at a time. It is not safe for concurrent use.
type peerConn struct {
	conn     net.Conn
	clientID string
	corr     atomic.Int32
	maxFrame int32
}

func dialPeer(ctx context.Context, addr, clientID string) (*peerConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to broker at %s: %w", addr, err)
	}
	return &peerConn{conn: c, clientID: clientID, maxFrame: 256 << 20}, nil
}

func (pc *peerConn) Close() error { return pc.conn.Close() }

// request sends req and decodes the response into a new response value.
// The deadline bounds the whole exchange.
func (pc *peerConn) request(req kmsg.Request, deadline time.Time) (kmsg.Response, error) {
	corr := pc.corr.Add(1)
	frame := binary.BigEndian.AppendUint32(nil, 0)
	frame = binary.BigEndian.AppendUint16(frame, uint16(req.Key()))
	frame = binary.BigEndian.AppendUint16(frame, uint16(req.GetVersion()))
	frame = binary.BigEndian.AppendUint32(frame, uint32(corr))
	frame = kbin.AppendNullableString(frame, &pc.clientID)
	if req.IsFlexible() {
		frame = append(frame, 0)
	}
	frame = req.AppendTo(frame)
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	pc.conn.SetDeadline(deadline)
	if _, err := pc.conn.Write(frame); err != nil {
		return nil, fmt.Errorf("sending %s: %w", kmsg.NameForKey(req.Key()), err)
	}
	body, err := protocol.ReadFrame(pc.conn, nil, pc.maxFrame)
	if err != nil {
		return nil, fmt.Errorf("reading %s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	if len(body) < 4 || int32(binary.BigEndian.Uint32(body)) != corr {
		return nil, fmt.Errorf("%s response: bad correlation id", kmsg.NameForKey(req.Key()))
	}
	body = body[4:]
	resp := req.ResponseKind()
	if resp.IsFlexible() && resp.Key() != protocol.ApiVersionsKey {
		r := kbin.Reader{Src: body}
		kmsg.SkipTags(&r)
		body = r.Src
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decoding %s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	return resp, nil
}

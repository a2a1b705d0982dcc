package server

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/weirhq/weir/broker/brokertest"
)

// A SASL listener before authentication, in raw frames, as Kafka's
// SaslServerAuthenticator serves it:
//   - before SaslHandshake only ApiVersions (once) is answered; any other
//     request (a second ApiVersions too) closes the connection unanswered
//     (handleKafkaRequest's IllegalSaslStateException, thrown before any
//     response is built; it is thrown before the body is parsed, so an
//     unsupported version or an unknown API key closes it too); an
//     ApiVersions of an unsupported version is
//     answered UNSUPPORTED_VERSION and changes nothing;
//   - after SaslHandshake, a request other than SaslAuthenticate is
//     answered with its own response carrying ILLEGAL_SASL_STATE
//     (handleSaslToken's getErrorResponse), then the connection closes.
//
// The broker keeps serving: a good login works afterwards.
func TestSASLRequestsBeforeAuthentication(t *testing.T) {
	f := newSecureFixture(t)
	b := startBroker(t, f.props(nil))
	addr := b.ListenerAddr("SASL_PLAINTEXT").String()

	t.Run("Metadata first", func(t *testing.T) {
		c := rawDial(t, addr)
		rawSend(t, c, metadataNaming("x"), 1)
		rawClosed(t, c)
	})
	t.Run("unsupported Metadata version and unknown API key first", func(t *testing.T) {
		for _, frame := range [][]byte{
			{0, 0, 0, 10, 0, 3, 0, 99, 0, 0, 0, 1, 0xff, 0xff},  // Metadata v99, null client id
			{0, 0, 0, 10, 3, 231, 0, 0, 0, 0, 0, 1, 0xff, 0xff}, // API key 999
		} {
			c := rawDial(t, addr)
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write(frame); err != nil {
				t.Fatal(err)
			}
			rawClosed(t, c)
		}
	})
	t.Run("ApiVersions then Metadata", func(t *testing.T) {
		c := rawDial(t, addr)
		av := rawRoundTrip(t, c, apiVersionsReq(3), 1).(*kmsg.ApiVersionsResponse)
		if av.ErrorCode != 0 || len(av.ApiKeys) == 0 {
			t.Fatalf("ApiVersions: error %d, %d keys", av.ErrorCode, len(av.ApiKeys))
		}
		rawSend(t, c, metadataNaming("x"), 2)
		rawClosed(t, c)
	})
	t.Run("ApiVersions twice", func(t *testing.T) {
		c := rawDial(t, addr)
		rawRoundTrip(t, c, apiVersionsReq(3), 1)
		rawSend(t, c, apiVersionsReq(3), 2)
		rawClosed(t, c)
	})
	t.Run("unsupported ApiVersions, then ApiVersions and SaslHandshake", func(t *testing.T) {
		c := rawDial(t, addr)
		rawSend(t, c, apiVersionsReq(99), 1)
		body, err := brokertest.ReadResponse(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		av := kmsg.NewPtrApiVersionsResponse() // v0 layout: the client cannot read ours
		if err := av.ReadFrom(body); err != nil || av.ErrorCode != kerr.UnsupportedVersion.Code {
			t.Fatalf("ApiVersions v99: error %d (%v), want UNSUPPORTED_VERSION", av.ErrorCode, err)
		}
		if av := rawRoundTrip(t, c, apiVersionsReq(3), 2).(*kmsg.ApiVersionsResponse); av.ErrorCode != 0 {
			t.Fatalf("ApiVersions v3 after v99: error %d", av.ErrorCode)
		}
		if hs := rawRoundTrip(t, c, handshakeReq("PLAIN"), 3).(*kmsg.SASLHandshakeResponse); hs.ErrorCode != 0 {
			t.Fatalf("SaslHandshake: error %d", hs.ErrorCode)
		}
	})
	t.Run("Metadata in place of SaslAuthenticate", func(t *testing.T) {
		c := rawDial(t, addr)
		if hs := rawRoundTrip(t, c, handshakeReq("PLAIN"), 1).(*kmsg.SASLHandshakeResponse); hs.ErrorCode != 0 {
			t.Fatalf("SaslHandshake: error %d", hs.ErrorCode)
		}
		md := rawRoundTrip(t, c, metadataNaming("x"), 2).(*kmsg.MetadataResponse)
		if len(md.Topics) != 1 || md.Topics[0].ErrorCode != kerr.IllegalSaslState.Code || *md.Topics[0].Topic != "x" {
			t.Fatalf("Metadata during authentication: %+v, want topic x ILLEGAL_SASL_STATE", md.Topics)
		}
		rawClosed(t, c)
	})
	t.Run("DescribeGroups in place of SaslAuthenticate", func(t *testing.T) {
		c := rawDial(t, addr)
		rawRoundTrip(t, c, handshakeReq("SCRAM-SHA-256"), 1)
		dg := kmsg.NewPtrDescribeGroupsRequest()
		dg.SetVersion(5)
		dg.Groups = []string{"g1", "g2"}
		resp := rawRoundTrip(t, c, dg, 2).(*kmsg.DescribeGroupsResponse)
		if len(resp.Groups) != 2 || resp.Groups[0].ErrorCode != kerr.IllegalSaslState.Code || resp.Groups[1].Group != "g2" {
			t.Fatalf("DescribeGroups during authentication: %+v, want g1 and g2 ILLEGAL_SASL_STATE", resp.Groups)
		}
		rawClosed(t, c)
	})
	t.Run("ApiVersions in place of SaslAuthenticate", func(t *testing.T) {
		c := rawDial(t, addr)
		rawRoundTrip(t, c, handshakeReq("PLAIN"), 1)
		if av := rawRoundTrip(t, c, apiVersionsReq(3), 2).(*kmsg.ApiVersionsResponse); av.ErrorCode != kerr.IllegalSaslState.Code {
			t.Fatalf("ApiVersions during authentication: error %d, want ILLEGAL_SASL_STATE", av.ErrorCode)
		}
		rawClosed(t, c)
	})

	addScramUser(t, b.client(t), "alice", "alice-secret", kadm.ScramSha256)
	if err := roundTrip(t, addr, "after-raw-frames", kgo.SASL(plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism())); err != nil {
		t.Fatalf("a good login after the refused requests: %v", err)
	}
}

func apiVersionsReq(v int16) kmsg.Request {
	r := kmsg.NewPtrApiVersionsRequest()
	r.SetVersion(v)
	r.ClientSoftwareName, r.ClientSoftwareVersion = "raw", "1"
	return r
}

func handshakeReq(mech string) kmsg.Request {
	r := kmsg.NewPtrSASLHandshakeRequest()
	r.SetVersion(1)
	r.Mechanism = mech
	return r
}

func metadataNaming(topic string) kmsg.Request {
	r := kmsg.NewPtrMetadataRequest()
	r.SetVersion(12)
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	r.Topics = append(r.Topics, mt)
	return r
}

func rawDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawSend writes req in one frame with a v1 (v2 when flexible) header.
func rawSend(t *testing.T, c net.Conn, req kmsg.Request, corr int32) {
	t.Helper()
	f := binary.BigEndian.AppendUint32(nil, 0)
	f = binary.BigEndian.AppendUint16(f, uint16(req.Key()))
	f = binary.BigEndian.AppendUint16(f, uint16(req.GetVersion()))
	f = binary.BigEndian.AppendUint32(f, uint32(corr))
	f = binary.BigEndian.AppendUint16(f, 3)
	f = append(f, "raw"...)
	if req.IsFlexible() {
		f = append(f, 0) // no tagged fields
	}
	f = req.AppendTo(f)
	binary.BigEndian.PutUint32(f, uint32(len(f)-4))
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(f); err != nil {
		t.Fatalf("writing %s: %v", kmsg.NameForKey(req.Key()), err)
	}
}

// rawRoundTrip sends req and decodes its response.
func rawRoundTrip(t *testing.T, c net.Conn, req kmsg.Request, corr int32) kmsg.Response {
	t.Helper()
	rawSend(t, c, req, corr)
	body, err := brokertest.ReadResponse(c, corr)
	if err != nil {
		t.Fatalf("%s: %v", kmsg.NameForKey(req.Key()), err)
	}
	resp := req.ResponseKind()
	if resp.IsFlexible() && req.Key() != 18 { // ApiVersions answers with a v0 header always
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decoding the %s response: %v", kmsg.NameForKey(req.Key()), err)
	}
	return resp
}

// rawClosed asserts that the broker closes the connection without
// writing anything more.
func rawClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(make([]byte, 64))
	if n > 0 {
		t.Fatalf("the broker answered (%d bytes) where it should close the connection", n)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("reading after the refused request: %v, want the connection closed", err)
	}
}

package sasl

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// fuzzFrame is one request of a fuzzed connection: which API (ApiVersions,
// SaslHandshake, SaslAuthenticate or Metadata), its version and its body
// bytes as they come off the wire.
type fuzzFrame struct {
	key     int16
	version int16
	body    []byte
}

var fuzzKeys = []int16{KeyApiVersions, KeySaslHandshake, KeySaslAuthenticate, 3}

// encodeFrames is the fuzz input for a sequence of frames: key index,
// version, body length (2 bytes), body.
func encodeFrames(frames ...fuzzFrame) []byte {
	var out []byte
	for _, f := range frames {
		i := 0
		for j, k := range fuzzKeys {
			if k == f.key {
				i = j
			}
		}
		out = append(out, byte(i), byte(f.version))
		out = binary.BigEndian.AppendUint16(out, uint16(len(f.body)))
		out = append(out, f.body...)
	}
	return out
}

func decodeFrames(data []byte) []fuzzFrame {
	var out []fuzzFrame
	for len(data) >= 4 {
		f := fuzzFrame{key: fuzzKeys[int(data[0])%len(fuzzKeys)], version: int16(data[1] % 4)}
		n := int(binary.BigEndian.Uint16(data[2:]))
		data = data[4:]
		n = min(n, len(data))
		f.body, data = data[:n], data[n:]
		out = append(out, f)
	}
	return out
}

func handshakeBody(mech string, v int16) []byte {
	r := kmsg.NewPtrSASLHandshakeRequest()
	r.Version, r.Mechanism = v, mech
	return r.AppendTo(nil)
}

func authenticateBody(token string, v int16) []byte {
	r := kmsg.NewPtrSASLAuthenticateRequest()
	r.Version, r.SASLAuthBytes = v, []byte(token)
	return r.AppendTo(nil)
}

// FuzzAuthenticator drives one connection's Authenticator with the
// SaslHandshake and SaslAuthenticate requests decoded from arbitrary
// frames (raw tokens after a v0 handshake), as the broker does. It
// holds the rules that keep an unauthenticated client out: nothing but
// ApiVersions is served before authentication completes, a closed
// connection stays closed, every refusal is an *Error with a Kafka code,
// and an authenticated connection has a User: principal.
func FuzzAuthenticator(f *testing.F) {
	creds := CredentialMap{}
	for _, m := range ScramMechanisms {
		c, _ := NewCredential(m, "pw", 4096)
		creds.Put(m, "alice", c)
	}
	f.Add(encodeFrames(fuzzFrame{KeyApiVersions, 3, nil}, fuzzFrame{KeySaslHandshake, 1, handshakeBody("PLAIN", 1)},
		fuzzFrame{KeySaslAuthenticate, 2, authenticateBody("\x00alice\x00pw", 2)}, fuzzFrame{3, 0, nil}))
	f.Add(encodeFrames(fuzzFrame{KeySaslHandshake, 0, handshakeBody("PLAIN", 0)}, fuzzFrame{KeySaslAuthenticate, 0, []byte("\x00alice\x00pw")}))
	f.Add(encodeFrames(fuzzFrame{KeySaslHandshake, 1, handshakeBody("SCRAM-SHA-256", 1)},
		fuzzFrame{KeySaslAuthenticate, 1, authenticateBody("n,,n=alice,r=abc", 1)},
		fuzzFrame{KeySaslAuthenticate, 1, authenticateBody("c=biws,r=abcS,p=AAAA", 1)}))
	f.Add(encodeFrames(fuzzFrame{3, 0, nil}))
	f.Add(encodeFrames(fuzzFrame{KeyApiVersions, 3, nil}, fuzzFrame{KeyApiVersions, 3, nil}))
	f.Add(encodeFrames(fuzzFrame{KeySaslHandshake, 1, handshakeBody("GSSAPI", 1)}))
	f.Add(encodeFrames(fuzzFrame{KeySaslHandshake, 1, handshakeBody("PLAIN", 1)}, fuzzFrame{3, 0, nil}))
	f.Add(encodeFrames(fuzzFrame{KeySaslHandshake, 1, handshakeBody("PLAIN", 1)},
		fuzzFrame{KeySaslAuthenticate, 2, authenticateBody("\x00alice\x00pw", 2)},
		fuzzFrame{KeySaslHandshake, 1, handshakeBody("SCRAM-SHA-512", 1)},
		fuzzFrame{KeySaslAuthenticate, 2, authenticateBody("\x00alice\x00pw", 2)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		a := NewAuthenticator([]string{NamePlain, NameScramSHA256, NameScramSHA512},
			Options{Credentials: creds, Nonce: func() string { return "S" }}, time.Hour)
		now := time.Unix(1_000_000, 0)
		for _, fr := range decodeFrames(data) {
			if a.RawTokens() {
				if _, _, err := a.Authenticate(fr.body, 0, now); err != nil {
					mustBeSaslError(t, err)
					return // the broker closes the connection
				}
				continue
			}
			before := a.Authenticated()
			act, err := a.Route(fr.key, now)
			switch act {
			case Serve:
				if !before && fr.key != KeyApiVersions {
					t.Fatalf("%d served before authentication", fr.key)
				}
				continue
			case Close, RespondErrorAndClose:
				if again, _ := a.Route(KeyApiVersions, now); again != Close {
					t.Fatalf("after %v, ApiVersions is routed to %v", act, again)
				}
				if a.Authenticated() || a.Principal() != "" {
					t.Fatalf("a closed connection keeps principal %q", a.Principal())
				}
				return
			case RespondError:
				mustBeSaslError(t, err)
				continue
			case Handshake:
				r := kmsg.NewPtrSASLHandshakeRequest()
				r.Version = fr.version % 2
				if r.ReadFrom(fr.body) != nil {
					return // undecodable: the broker closes the connection
				}
				if _, err := a.Handshake(r.Mechanism, r.Version); err != nil {
					return // UNSUPPORTED_SASL_MECHANISM, then closed
				}
			case Authenticate:
				r := kmsg.NewPtrSASLAuthenticateRequest()
				r.Version = fr.version % 3
				if r.ReadFrom(fr.body) != nil {
					return
				}
				if _, _, err := a.Authenticate(r.SASLAuthBytes, r.Version, now); err != nil {
					mustBeSaslError(t, err)
					return
				}
			}
			if a.Authenticated() && !strings.HasPrefix(a.Principal(), "User:") {
				t.Fatalf("authenticated as %q", a.Principal())
			}
		}
	})
}

func mustBeSaslError(t *testing.T, err error) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) || se.Code == nil {
		t.Fatalf("%v is not an *Error with a Kafka code", err)
	}
}

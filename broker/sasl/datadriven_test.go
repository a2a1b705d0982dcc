package sasl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/weirhq/weir/internal/ddtest"
)

// TestScripts runs the scripts in testdata: one connection's SASL rules
// (Authenticator) as examples. Users: alice (password alice-secret,
// SCRAM-SHA-256 and SCRAM-SHA-512), bob (bob-secret, SCRAM-SHA-256 only).
// Commands:
//
//	connect [enabled=(SCRAM-SHA-512,PLAIN)] [max-reauth=1m]
//	                                   a new connection (default: all mechanisms)
//	request key=Metadata [t=0s]        Route for a request: what the connection does
//	handshake mech=PLAIN [v=1]         SaslHandshake (after routing it)
//	login mech=SCRAM-SHA-512 user=alice pass=alice-secret [t=0s] [v=2]
//	                                   SaslHandshake, then franz-go's client
//	                                   through SaslAuthenticate until done
//	token bytes=... [t=0s] [v=0]       one raw token (after a v0 handshake)
//
// Run with -rewrite to regenerate the expected output.
func TestScripts(t *testing.T) {
	creds := store(t)
	ddtest.Walk(t, "testdata", func(t *testing.T) ddtest.Handler {
		s := &connScript{creds: creds, clock: ddtest.Clock{Epoch: time.Unix(1_000_000, 0)}}
		s.a = NewAuthenticator(all, Options{Credentials: creds}, 0)
		return s.run
	})
}

type connScript struct {
	creds CredentialMap
	clock ddtest.Clock
	a     *Authenticator
}

var keyNames = map[string]int16{"Produce": 0, "Fetch": 1, "Metadata": 3, "SaslHandshake": KeySaslHandshake,
	"ApiVersions": KeyApiVersions, "SaslAuthenticate": KeySaslAuthenticate}

func (s *connScript) run(t *testing.T, d *datadriven.TestData) string {
	now := s.clock.MaybeAt(t, d, "t", s.clock.Epoch)
	version := int16(1)
	if d.HasArg("v") {
		var v int
		d.ScanArgs(t, "v", &v)
		version = int16(v)
	}
	switch d.Cmd {
	case "connect":
		enabled := all
		d.MaybeScanArgs(t, "enabled", &enabled)
		var maxReauth time.Duration
		d.MaybeScanArgs(t, "max-reauth", &maxReauth)
		s.a = NewAuthenticator(enabled, Options{Credentials: s.creds}, maxReauth)
		return ""
	case "request":
		var name string
		d.ScanArgs(t, "key", &name)
		key, ok := keyNames[name]
		if !ok {
			n, err := strconv.Atoi(name)
			if err != nil {
				t.Fatalf("%s: key %q", d.Pos, name)
			}
			key = int16(n)
		}
		act, err := s.a.Route(key, now)
		return render(act.String(), err)
	case "handshake":
		var mech string
		d.ScanArgs(t, "mech", &mech)
		enabled, err := s.a.Handshake(mech, version)
		if err != nil {
			return render("enabled="+strings.Join(enabled, ","), err)
		}
		return fmt.Sprintf("ok, enabled=%s, raw tokens: %v\n", strings.Join(enabled, ","), s.a.RawTokens())
	case "login":
		var mech, user, pass string
		d.ScanArgs(t, "mech", &mech)
		d.ScanArgs(t, "user", &user)
		d.ScanArgs(t, "pass", &pass)
		if !d.HasArg("v") {
			version = 2
		}
		return s.login(t, mech, user, pass, now, version)
	case "token":
		var tok string
		d.ScanArgs(t, "bytes", &tok)
		tok = strings.ReplaceAll(tok, `\0`, "\x00")
		_, life, err := s.a.Authenticate([]byte(tok), 0, now)
		if err != nil {
			return render("", err)
		}
		return fmt.Sprintf("authenticated as %s, session %v\n", s.a.Principal(), life)
	}
	return ddtest.Unknown(t, d)
}

func (s *connScript) login(t *testing.T, mech, user, pass string, now time.Time, version int16) string {
	act, err := s.a.Route(KeySaslHandshake, now)
	if act != Handshake {
		return "SaslHandshake: " + render(act.String(), err)
	}
	if _, err := s.a.Handshake(mech, 1); err != nil {
		return "SaslHandshake: " + render("", err)
	}
	sess, msg, err := clientMech(mech, user, pass, "").Authenticate(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for {
		act, err := s.a.Route(KeySaslAuthenticate, now)
		if act != Authenticate {
			return "SaslAuthenticate: " + render(act.String(), err)
		}
		reply, life, err := s.a.Authenticate(msg, version, now)
		if err != nil {
			return "SaslAuthenticate: " + render("", err)
		}
		done, next, cerr := sess.Challenge(reply)
		if cerr != nil {
			t.Fatalf("client: %v", cerr)
		}
		if done {
			return fmt.Sprintf("authenticated as %s, session %v\n", s.a.Principal(), life)
		}
		msg = next
	}
}

// render prints an action or outcome and the error it carries: Kafka's
// code and message for an *Error, the text for another.
func render(what string, err error) string {
	var b strings.Builder
	b.WriteString(what)
	var se *Error
	switch {
	case errors.As(err, &se):
		if what != "" {
			b.WriteString(": ")
		}
		fmt.Fprintf(&b, "%s %q", se.Code.Message, se.Message)
	case err != nil:
		if what != "" {
			b.WriteString(": ")
		}
		b.WriteString(err.Error())
	}
	return b.String() + "\n"
}

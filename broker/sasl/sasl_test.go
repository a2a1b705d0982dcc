package sasl

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	kgosasl "github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

var all = []string{NamePlain, NameScramSHA256, NameScramSHA512}

// store has alice's password "alice-secret" under both SCRAM mechanisms,
// and bob's only under SCRAM-SHA-256.
func store(t *testing.T) CredentialMap {
	t.Helper()
	cm := CredentialMap{}
	for _, m := range ScramMechanisms {
		c, err := NewCredential(m, "alice-secret", 4096)
		if err != nil {
			t.Fatal(err)
		}
		cm.Put(m, "alice", c)
	}
	c, _ := NewCredential(ScramSHA256, "bob-secret", 8192)
	cm.Put(ScramSHA256, "bob", c)
	return cm
}

// converse runs franz-go's client mechanism against srv in memory, as
// the broker's SaslAuthenticate loop would, and returns the server's
// error (or the client's, which must not happen when the server did not
// fail).
func converse(t *testing.T, mech kgosasl.Mechanism, srv Server) error {
	t.Helper()
	sess, msg, err := mech.Authenticate(context.Background(), "broker:9092")
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		reply, done, err := srv.Step(msg)
		if err != nil {
			return err
		}
		clientDone, next, cerr := sess.Challenge(reply)
		if cerr != nil {
			t.Fatalf("client rejected the server: %v", cerr)
		}
		if done != clientDone {
			t.Fatalf("server done=%v, client done=%v", done, clientDone)
		}
		if done {
			return nil
		}
		msg = next
	}
	t.Fatal("conversation did not end")
	return nil
}

func clientMech(name, user, pass, zid string) kgosasl.Mechanism {
	switch name {
	case NamePlain:
		return plain.Auth{User: user, Pass: pass, Zid: zid}.AsMechanism()
	case NameScramSHA256:
		return scram.Auth{User: user, Pass: pass, Zid: zid}.AsSha256Mechanism()
	}
	return scram.Auth{User: user, Pass: pass, Zid: zid}.AsSha512Mechanism()
}

func TestFranzGoClients(t *testing.T) {
	creds := store(t)
	for _, name := range all {
		t.Run(name, func(t *testing.T) {
			cases := []struct {
				user, pass, zid string
				code            *kerr.Error
				msg             string
			}{
				{user: "alice", pass: "alice-secret"},
				{user: "alice", pass: "alice-secret", zid: "alice"},
				{user: "alice", pass: "wrong", code: kerr.SaslAuthenticationFailed},
				{user: "carol", pass: "alice-secret", code: kerr.SaslAuthenticationFailed},
				{user: "alice", pass: "alice-secret", zid: "admin", code: kerr.SaslAuthenticationFailed,
					msg: "Authentication failed: Client requested an authorization id that is different from username"},
			}
			for _, c := range cases {
				srv, err := NewServer(name, all, Options{Credentials: creds})
				if err != nil {
					t.Fatal(err)
				}
				err = converse(t, clientMech(name, c.user, c.pass, c.zid), srv)
				if c.code == nil {
					if err != nil {
						t.Errorf("%+v: %v", c, err)
					} else if srv.Username() != c.user {
						t.Errorf("%+v: authenticated as %q", c, srv.Username())
					}
					continue
				}
				var se *Error
				if !errors.As(err, &se) || !errors.Is(err, c.code) {
					t.Errorf("%+v: got %v, want %s", c, err, c.code.Message)
					continue
				}
				if c.msg != "" && se.Message != c.msg {
					t.Errorf("%+v: client told %q, want %q", c, se.Message, c.msg)
				}
				if srv.Username() != "" {
					t.Errorf("%+v: failed conversation names user %q", c, srv.Username())
				}
				// A failed conversation stays failed.
				if _, _, err := srv.Step([]byte("n,,n=alice,r=abc")); !errors.Is(err, kerr.IllegalSaslState) {
					t.Errorf("%+v: step after failure: %v", c, err)
				}
			}
		})
	}
}

func TestBobOnlyHasSHA256(t *testing.T) {
	creds := store(t)
	srv, _ := NewServer(NameScramSHA256, all, Options{Credentials: creds})
	if err := converse(t, clientMech(NameScramSHA256, "bob", "bob-secret", ""), srv); err != nil {
		t.Fatal(err)
	}
	srv, _ = NewServer(NameScramSHA512, all, Options{Credentials: creds})
	if err := converse(t, clientMech(NameScramSHA512, "bob", "bob-secret", ""), srv); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("SCRAM-SHA-512 without a credential: %v", err)
	}
	// PLAIN checks against whichever SCRAM credential exists.
	srv, _ = NewServer(NamePlain, all, Options{Credentials: creds})
	if err := converse(t, clientMech(NamePlain, "bob", "bob-secret", ""), srv); err != nil {
		t.Fatal(err)
	}
}

func TestUnsupportedMechanism(t *testing.T) {
	for _, name := range []string{"GSSAPI", "OAUTHBEARER", "scram-sha-256", ""} {
		if _, err := NewServer(name, all, Options{}); !errors.Is(err, kerr.UnsupportedSaslMechanism) {
			t.Errorf("%q: %v", name, err)
		}
	}
	if _, err := NewServer(NamePlain, DefaultMechanisms, Options{}); !errors.Is(err, kerr.UnsupportedSaslMechanism) {
		t.Errorf("PLAIN is not enabled by default: %v", err)
	}
	if got, err := ParseEnabledMechanisms(" SCRAM-SHA-512, PLAIN,PLAIN "); err != nil || strings.Join(got, "|") != "SCRAM-SHA-512|PLAIN" {
		t.Errorf("ParseEnabledMechanisms: %v %v", got, err)
	}
	if _, err := ParseEnabledMechanisms("SCRAM-SHA-512,GSSAPI"); err == nil {
		t.Error("GSSAPI accepted")
	}
}

// TestRFC7677Vector is the SCRAM-SHA-256 example of RFC 7677 section 3,
// with the server's nonce fixed to the example's.
func TestRFC7677Vector(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	sp, err := SaltedPassword(ScramSHA256, "pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	creds := CredentialMap{}
	creds.Put(ScramSHA256, "user", CredentialFromSaltedPassword(ScramSHA256, salt, sp, 4096))
	srv, _ := NewServer(NameScramSHA256, all, Options{Credentials: creds,
		Nonce: func() string { return "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" }})
	steps := []struct{ client, server string }{
		{"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
			"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"},
		{"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="},
	}
	for i, s := range steps {
		reply, done, err := srv.Step([]byte(s.client))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if string(reply) != s.server {
			t.Fatalf("step %d: server said %q, want %q", i, reply, s.server)
		}
		if done != (i == 1) {
			t.Fatalf("step %d: done=%v", i, done)
		}
	}
	if srv.Username() != "user" {
		t.Fatalf("user %q", srv.Username())
	}
	if _, _, err := srv.Step([]byte("again")); !errors.Is(err, kerr.IllegalSaslState) {
		t.Fatalf("step after completion: %v", err)
	}
}

// TestNonceReplay replays a recorded client-final message in a new
// conversation: its nonce is not the new server nonce, so it fails.
func TestNonceReplay(t *testing.T) {
	creds := store(t)
	first := "n,,n=alice,r=fixedclientnonce"
	srv, _ := NewServer(NameScramSHA256, all, Options{Credentials: creds})
	serverFirst, _, err := srv.Step([]byte(first))
	if err != nil {
		t.Fatal(err)
	}
	final := clientFinal(t, ScramSHA256, "alice-secret", first[3:], string(serverFirst))
	if _, done, err := srv.Step([]byte(final)); err != nil || !done {
		t.Fatalf("honest conversation: %v", err)
	}
	srv2, _ := NewServer(NameScramSHA256, all, Options{Credentials: creds})
	if _, _, err := srv2.Step([]byte(first)); err != nil {
		t.Fatal(err)
	}
	_, _, err = srv2.Step([]byte(final))
	var se *Error
	if !errors.As(err, &se) || se.Code != kerr.SaslAuthenticationFailed || se.Message != "Invalid client nonce in the final client message." {
		t.Fatalf("replay: %v", err)
	}
}

// clientFinal computes an honest client-final message (what a client
// with the password sends).
func clientFinal(t testing.TB, m Mechanism, pass, clientFirstBare, serverFirst string) string {
	t.Helper()
	var nonce, salt string
	var iters int
	for _, kv := range strings.Split(serverFirst, ",") {
		switch kv[:2] {
		case "r=":
			nonce = kv[2:]
		case "s=":
			salt = kv[2:]
		case "i=":
			for _, c := range kv[2:] {
				iters = iters*10 + int(c-'0')
			}
		}
	}
	s, _ := base64.StdEncoding.DecodeString(salt)
	sp, _ := SaltedPassword(m, pass, s, iters)
	clientKey := hmacSum(m, sp, []byte("Client Key"))
	cred := CredentialFromSaltedPassword(m, s, sp, int32(iters))
	without := "c=biws,r=" + nonce
	sig := hmacSum(m, cred.StoredKey, []byte(clientFirstBare+","+serverFirst+","+without))
	for i := range sig {
		sig[i] ^= clientKey[i]
	}
	return without + ",p=" + base64.StdEncoding.EncodeToString(sig)
}

// TestMalformed feeds malformed messages; each fails with
// SASL_AUTHENTICATION_FAILED and Kafka's generic message.
func TestMalformed(t *testing.T) {
	creds := store(t)
	firsts := []string{
		"", "n", "y,,n=alice,r=abc", "p=tls-unique,,n=alice,r=abc", "n,,", "n,,r=abc,n=alice",
		"n,,n=alice", "n,,n=,r=abc", "n,,n=al=ice,r=abc", "n,,n=alice,r=", "n,,n=alice,r=a b",
		"n,,n=alice,r=abc,m=must", "n,,n=alice,r=abc,tokenauth=true", "n,x=y,n=alice,r=abc",
		"n,a=al=ZZice,n=alice,r=abc", "\x00\xff", strings.Repeat("n,", 1000),
	}
	for _, f := range firsts {
		srv, _ := NewServer(NameScramSHA512, all, Options{Credentials: creds})
		_, _, err := srv.Step([]byte(f))
		var se *Error
		if !errors.As(err, &se) || se.Code != kerr.SaslAuthenticationFailed {
			t.Errorf("client-first %q: %v", f, err)
		} else if se.Message != "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512" {
			t.Errorf("client-first %q: message %q", f, se.Message)
		}
	}
	finals := []string{"", "c=biws", "c=biws,p=abc", "r=x,c=biws,p=abc", "c=biws,r=NONCE,p=!!!", "c=biws,r=NONCE,p=YWJj",
		"c=eSws,r=NONCE,p=" + base64.StdEncoding.EncodeToString(make([]byte, 64)),
		"c=biws,r=NONCE,p=" + base64.StdEncoding.EncodeToString(make([]byte, 64))}
	for _, f := range finals {
		srv, _ := NewServer(NameScramSHA512, all, Options{Credentials: creds, Nonce: func() string { return "S" }})
		if _, _, err := srv.Step([]byte("n,,n=alice,r=C")); err != nil {
			t.Fatal(err)
		}
		f = strings.ReplaceAll(f, "NONCE", "CS")
		if _, done, err := srv.Step([]byte(f)); !errors.Is(err, kerr.SaslAuthenticationFailed) || done {
			t.Errorf("client-final %q: %v", f, err)
		}
	}
	plains := []string{"", "alice", "\x00alice", "\x00alice\x00", "\x00\x00pw", "a\x00b\x00c\x00d", "\x00alice\x00wrong"}
	for _, p := range plains {
		srv, _ := NewServer(NamePlain, all, Options{Credentials: creds})
		if _, done, err := srv.Step([]byte(p)); !errors.Is(err, kerr.SaslAuthenticationFailed) || done {
			t.Errorf("PLAIN %q: %v", p, err)
		}
	}
}

func TestEscapedNames(t *testing.T) {
	creds := CredentialMap{}
	c, _ := NewCredential(ScramSHA256, "pw", 4096)
	creds.Put(ScramSHA256, "a,b=c", c)
	srv, _ := NewServer(NameScramSHA256, all, Options{Credentials: creds})
	if err := converse(t, clientMech(NameScramSHA256, "a,b=c", "pw", ""), srv); err != nil {
		t.Fatal(err)
	}
	if srv.Username() != "a,b=c" {
		t.Fatalf("user %q", srv.Username())
	}
}

func TestIterationsBelowMinimum(t *testing.T) {
	creds := CredentialMap{}
	c, _ := NewCredential(ScramSHA256, "pw", 1000)
	creds.Put(ScramSHA256, "weak", c)
	srv, _ := NewServer(NameScramSHA256, all, Options{Credentials: creds})
	if _, _, err := srv.Step([]byte("n,,n=weak,r=abc")); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("1000 iterations: %v", err)
	}
}

// FuzzServers feeds arbitrary client messages to each mechanism: no
// panic, and every failure is an *Error with a Kafka code.
func FuzzServers(f *testing.F) {
	f.Add([]byte("n,,n=alice,r=abc"), []byte("c=biws,r=abcS,p=AAAA"))
	f.Add([]byte("\x00alice\x00pw"), []byte{})
	f.Add([]byte("n,a=alice,n=alice,r=abc,ext=1"), []byte("c=bixhPWFsaWNlLA==,r=abcS,x=1,p=AAAA"))
	creds := CredentialMap{}
	c, _ := NewCredential(ScramSHA256, "pw", 4096)
	creds.Put(ScramSHA256, "alice", c)
	c, _ = NewCredential(ScramSHA512, "pw", 4096)
	creds.Put(ScramSHA512, "alice", c)
	f.Fuzz(func(t *testing.T, first, second []byte) {
		for _, name := range all {
			srv, _ := NewServer(name, all, Options{Credentials: creds, Nonce: func() string { return "S" }})
			for _, msg := range [][]byte{first, second} {
				_, done, err := srv.Step(msg)
				if err != nil {
					var se *Error
					if !errors.As(err, &se) || se.Code == nil {
						t.Fatalf("%s: %v is not an *Error", name, err)
					}
					break
				}
				if done {
					break
				}
			}
		}
	})
}

// BenchmarkServer is the broker's cost of one successful conversation
// (the client's PBKDF2 is done once, outside the loop, with a fixed
// server nonce so the same client messages fit every conversation).
func BenchmarkServer(b *testing.B) {
	creds := CredentialMap{}
	for _, m := range ScramMechanisms {
		c, _ := NewCredential(m, "pw", 4096)
		creds.Put(m, "alice", c)
	}
	nonce := func() string { return "S" }
	for _, m := range ScramMechanisms {
		b.Run(m.String(), func(b *testing.B) {
			first := "n,,n=alice,r=C"
			srv, _ := NewServer(m.String(), all, Options{Credentials: creds, Nonce: nonce})
			sf, _, _ := srv.Step([]byte(first))
			final := []byte(clientFinal(b, m, "pw", first[3:], string(sf)))
			b.ReportAllocs()
			for b.Loop() {
				srv, _ := NewServer(m.String(), all, Options{Credentials: creds, Nonce: nonce})
				srv.Step([]byte(first))
				if _, done, err := srv.Step(final); !done || err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("PLAIN", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			srv, _ := NewServer(NamePlain, all, Options{Credentials: creds})
			if _, done, err := srv.Step([]byte("\x00alice\x00pw")); !done || err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestLibrdkafkaNonce: librdkafka 2.0 sends its client nonce before the
// combined nonce in client-final; Kafka checks only that the nonce ends
// with the server-first one, and so does Weir (kcat failed against the
// equality check).
func TestLibrdkafkaNonce(t *testing.T) {
	creds := store(t)
	first := "n,,n=alice,r=fixedclientnonce"
	srv, _ := NewServer(NameScramSHA256, all, Options{Credentials: creds})
	serverFirst, _, err := srv.Step([]byte(first))
	if err != nil {
		t.Fatal(err)
	}
	honest := clientFinal(t, ScramSHA256, "alice-secret", first[3:], string(serverFirst))
	// Recompute the proof over the doubled nonce, as librdkafka does.
	doubled := strings.Replace(honest[:strings.LastIndex(honest, ",p=")], "r=", "r=fixedclientnonce", 1)
	m := ScramSHA256
	var salt string
	for _, kv := range strings.Split(string(serverFirst), ",") {
		if strings.HasPrefix(kv, "s=") {
			salt = kv[2:]
		}
	}
	s, _ := base64.StdEncoding.DecodeString(salt)
	sp, _ := SaltedPassword(m, "alice-secret", s, 4096)
	clientKey := hmacSum(m, sp, []byte("Client Key"))
	cred := CredentialFromSaltedPassword(m, s, sp, 4096)
	sig := hmacSum(m, cred.StoredKey, []byte(first[3:]+","+string(serverFirst)+","+doubled))
	for i := range sig {
		sig[i] ^= clientKey[i]
	}
	if _, done, err := srv.Step([]byte(doubled + ",p=" + base64.StdEncoding.EncodeToString(sig))); err != nil || !done {
		t.Fatalf("librdkafka's client-final: %v", err)
	}
}

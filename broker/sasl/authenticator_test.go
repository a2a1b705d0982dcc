package sasl

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

var t0 = time.Unix(1_000_000, 0)

// login runs SaslHandshake and the SaslAuthenticate exchange of
// franz-go's client for mech/user/pass through a, as a connection would,
// and returns the session lifetime or the error answered.
func login(t *testing.T, a *Authenticator, mech, user, pass string, now time.Time) (time.Duration, error) {
	t.Helper()
	act, err := a.Route(KeySaslHandshake, now)
	if act != Handshake {
		t.Fatalf("SaslHandshake routed to %v (%v)", act, err)
	}
	if _, err := a.Handshake(mech, 1); err != nil {
		return 0, err
	}
	sess, msg, err := clientMech(mech, user, pass, "").Authenticate(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for {
		act, err := a.Route(KeySaslAuthenticate, now)
		if act != Authenticate {
			return 0, err
		}
		reply, life, err := a.Authenticate(msg, 2, now)
		if err != nil {
			return 0, err
		}
		done, next, cerr := sess.Challenge(reply)
		if cerr != nil {
			t.Fatalf("client: %v", cerr)
		}
		if done {
			if !a.Authenticated() {
				t.Fatal("client done, server not")
			}
			return life, nil
		}
		msg = next
	}
}

func TestAuthenticatorHappyPath(t *testing.T) {
	a := NewAuthenticator(all, Options{Credentials: store(t)}, 0)
	if act, _ := a.Route(KeyApiVersions, t0); act != Serve {
		t.Fatalf("ApiVersions first: %v", act)
	}
	life, err := login(t, a, NameScramSHA512, "alice", "alice-secret", t0)
	if err != nil || life != 0 {
		t.Fatalf("login: %v %v", life, err)
	}
	if a.Principal() != "User:alice" || a.Mechanism() != NameScramSHA512 {
		t.Fatalf("principal %q mechanism %q", a.Principal(), a.Mechanism())
	}
	for _, key := range []int16{0, 1, 3, 18} {
		if act, _ := a.Route(key, t0.Add(24*time.Hour)); act != Serve {
			t.Errorf("key %d after login: %v", key, act)
		}
	}
	// Stray SASL requests after authenticating: ILLEGAL_SASL_STATE, and
	// the connection stays (v2 client: SaslHandshake re-authenticates).
	if act, err := a.Route(KeySaslAuthenticate, t0); act != RespondError || !errors.Is(err, kerr.IllegalSaslState) {
		t.Errorf("SaslAuthenticate after login: %v %v", act, err)
	}
}

func TestAuthenticatorRefusals(t *testing.T) {
	creds := store(t)
	// A Kafka request before authenticating closes the connection.
	a := NewAuthenticator(all, Options{Credentials: creds}, 0)
	if act, _ := a.Route(3, t0); act != Close {
		t.Errorf("Metadata before SASL: %v", act)
	}
	if act, _ := a.Route(KeySaslHandshake, t0); act != Close {
		t.Errorf("after a refusal: %v", act)
	}
	// ApiVersions twice.
	a = NewAuthenticator(all, Options{Credentials: creds}, 0)
	a.Route(KeyApiVersions, t0)
	if act, _ := a.Route(KeyApiVersions, t0); act != Close {
		t.Errorf("ApiVersions twice: %v", act)
	}
	// An unknown mechanism: UNSUPPORTED_SASL_MECHANISM with the list.
	a = NewAuthenticator([]string{NameScramSHA512}, Options{Credentials: creds}, 0)
	a.Route(KeySaslHandshake, t0)
	if list, err := a.Handshake("PLAIN", 1); !errors.Is(err, kerr.UnsupportedSaslMechanism) || strings.Join(list, ",") != NameScramSHA512 {
		t.Errorf("PLAIN not enabled: %v %v", list, err)
	}
	if act, _ := a.Route(KeySaslAuthenticate, t0); act != Close {
		t.Errorf("after an unsupported mechanism: %v", act)
	}
	// Another request between handshake and authenticate.
	a = NewAuthenticator(all, Options{Credentials: creds}, 0)
	a.Route(KeySaslHandshake, t0)
	a.Handshake(NameScramSHA256, 1)
	if act, err := a.Route(0, t0); act != RespondErrorAndClose || !errors.Is(err, kerr.IllegalSaslState) {
		t.Errorf("Produce during SASL authentication: %v %v", act, err)
	}
	// A wrong password.
	a = NewAuthenticator(all, Options{Credentials: creds}, 0)
	_, err := login(t, a, NameScramSHA256, "alice", "nope", t0)
	var se *Error
	if !errors.As(err, &se) || se.Code != kerr.SaslAuthenticationFailed || a.Authenticated() || a.Principal() != "" {
		t.Errorf("wrong password: %v", err)
	}
	if act, _ := a.Route(3, t0); act != Close {
		t.Errorf("after a failed login: %v", act)
	}
}

func TestAuthenticatorRawTokens(t *testing.T) {
	a := NewAuthenticator(all, Options{Credentials: store(t)}, 0)
	a.Route(KeySaslHandshake, t0)
	a.Handshake(NamePlain, 0)
	if !a.RawTokens() {
		t.Fatal("SaslHandshake v0 without raw tokens")
	}
	if _, _, err := a.Authenticate([]byte("\x00alice\x00alice-secret"), 0, t0); err != nil || !a.Authenticated() || a.RawTokens() {
		t.Fatalf("PLAIN raw: %v", err)
	}
	// A v0 client cannot re-authenticate.
	if act, err := a.Route(KeySaslHandshake, t0); act != RespondError || !errors.Is(err, kerr.IllegalSaslState) {
		t.Fatalf("SaslHandshake from a v0 client after login: %v %v", act, err)
	}
}

// TestReauthentication is KIP-368: a session lifetime, re-authentication
// before it ends extends it, a request after it ends closes, and a
// re-authentication may change neither mechanism nor principal.
func TestReauthentication(t *testing.T) {
	creds := store(t)
	a := NewAuthenticator(all, Options{Credentials: creds}, time.Minute)
	life, err := login(t, a, NameScramSHA256, "alice", "alice-secret", t0)
	if err != nil || life != time.Minute || !a.Expires().Equal(t0.Add(time.Minute)) {
		t.Fatalf("login: %v %v %v", life, a.Expires(), err)
	}
	if act, _ := a.Route(0, t0.Add(59*time.Second)); act != Serve {
		t.Fatalf("within the session: %v", act)
	}
	if _, err := login(t, a, NameScramSHA256, "alice", "alice-secret", t0.Add(50*time.Second)); err != nil {
		t.Fatalf("re-authentication: %v", err)
	}
	if act, _ := a.Route(0, t0.Add(100*time.Second)); act != Serve || !a.Expires().Equal(t0.Add(110*time.Second)) {
		t.Fatalf("the re-authentication did not extend the session: %v %v", act, a.Expires())
	}
	if act, _ := a.Route(0, t0.Add(110*time.Second)); act != Close {
		t.Fatalf("after the session: %v", act)
	}

	// Another mechanism: the handshake is answered, the token refused.
	a = NewAuthenticator(all, Options{Credentials: creds}, time.Minute)
	login(t, a, NameScramSHA256, "alice", "alice-secret", t0)
	_, err = login(t, a, NameScramSHA512, "alice", "alice-secret", t0)
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(se.Message, "not supported for re-authentication of mechanism 'SCRAM-SHA-256'") {
		t.Fatalf("changed mechanism: %v", err)
	}
	// Another principal.
	a = NewAuthenticator(all, Options{Credentials: creds}, time.Minute)
	login(t, a, NameScramSHA256, "alice", "alice-secret", t0)
	_, err = login(t, a, NameScramSHA256, "bob", "bob-secret", t0)
	if !errors.As(err, &se) || se.Message != "Cannot change principals during re-authentication from User.alice: User.bob" {
		t.Fatalf("changed principal: %v", err)
	}
	if act, _ := a.Route(0, t0); act != Close {
		t.Fatalf("after a failed re-authentication: %v", act)
	}
	// A wrong password on re-authentication says so.
	a = NewAuthenticator(all, Options{Credentials: creds}, time.Minute)
	login(t, a, NameScramSHA256, "alice", "alice-secret", t0)
	_, err = login(t, a, NameScramSHA256, "alice", "nope", t0)
	if !errors.As(err, &se) || se.Message != "Authentication failed during re-authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256" {
		t.Fatalf("re-authentication, wrong password: %v", err)
	}
}

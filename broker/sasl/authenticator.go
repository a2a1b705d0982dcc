package sasl

import (
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// The API keys the authenticator routes before a connection is
// authenticated.
const (
	KeySaslHandshake    int16 = 17
	KeyApiVersions      int16 = 18
	KeySaslAuthenticate int16 = 36
)

// Action is what a connection does with a request, per Route.
type Action int8

const (
	// Serve: hand the request to the broker's normal handling (the
	// connection is authenticated, or it is ApiVersions before SASL).
	Serve Action = iota
	// Handshake: answer with Authenticator.Handshake.
	Handshake
	// Authenticate: answer with Authenticator.Authenticate.
	Authenticate
	// RespondError: answer the request with Route's error (Kafka's code)
	// and keep the connection.
	RespondError
	// RespondErrorAndClose: answer with the error, then close.
	RespondErrorAndClose
	// Close: close the connection without answering.
	Close
)

func (a Action) String() string {
	return [...]string{"serve", "handshake", "authenticate", "respond error", "respond error and close", "close"}[a]
}

type authState int8

const (
	stateHandshakeOrVersions authState = iota // nothing yet, or ApiVersions may come first
	stateHandshake                            // ApiVersions seen: SaslHandshake next
	stateAuthenticate                         // SaslAuthenticate (or raw tokens) next
	stateComplete
	stateFailed
)

// Authenticator is one SASL connection's authentication, as Kafka's
// SaslServerAuthenticator and its socket server run it, with no I/O: the
// connection asks Route what to do with each request and calls Handshake
// and Authenticate with their fields.
//
//   - Before authenticating, only ApiVersions (once, first) and
//     SaslHandshake are accepted; anything else closes the connection
//     (Kafka: "Unexpected Kafka request of type X during SASL handshake").
//   - After a SaslHandshake v1+, SaslAuthenticate carries the tokens; any
//     other request is answered ILLEGAL_SASL_STATE and the connection
//     closed. After SaslHandshake v0 the next frames are raw tokens
//     (RawTokens), passed to Authenticate as they come.
//   - An unknown mechanism is answered UNSUPPORTED_SASL_MECHANISM (with
//     the enabled list), a failed conversation SASL_AUTHENTICATION_FAILED
//     with Kafka's message; both then close.
//   - Once authenticated, requests are served; SaslHandshake starts a
//     re-authentication (KIP-368) when the client used SaslAuthenticate
//     v1+, with the same mechanism and ending in the same principal, else
//     it is ILLEGAL_SASL_STATE, as is a stray SaslAuthenticate.
//   - With connections.max.reauth.ms set, the session lasts that long
//     (SaslAuthenticate's session_lifetime_ms); a request arriving after
//     it ended closes the connection.
type Authenticator struct {
	enabled   []string
	opts      Options
	maxReauth time.Duration

	state     authState
	server    Server
	mechanism string
	raw       bool

	principal     string
	expires       time.Time // zero: the session does not expire
	clientReauths bool      // the client sent SaslAuthenticate v1+

	// During a re-authentication: the previous mechanism and principal,
	// and the error to fail with when the mechanism changed.
	reauthMechanism, reauthPrincipal string
	badMechanism                     *Error
}

// NewAuthenticator starts a connection's authentication. maxReauth is
// connections.max.reauth.ms (0: sessions do not expire).
func NewAuthenticator(enabled []string, opts Options, maxReauth time.Duration) *Authenticator {
	return &Authenticator{enabled: enabled, opts: opts, maxReauth: maxReauth}
}

// Route says what to do with a request of apiKey arriving at now. For
// RespondError and RespondErrorAndClose the error carries the code and
// message to answer with.
func (a *Authenticator) Route(apiKey int16, now time.Time) (Action, error) {
	switch a.state {
	case stateHandshakeOrVersions, stateHandshake:
		switch {
		case apiKey == KeySaslHandshake:
			return Handshake, nil
		case apiKey == KeyApiVersions && a.state == stateHandshakeOrVersions:
			a.state = stateHandshake
			return Serve, nil
		}
		a.state = stateFailed
		return Close, fmt.Errorf("unexpected Kafka request of type %d during SASL handshake", apiKey)
	case stateAuthenticate:
		if a.badMechanism == nil && apiKey == KeySaslAuthenticate {
			return Authenticate, nil
		}
		if a.badMechanism != nil {
			a.state = stateFailed
			return Close, a.badMechanism
		}
		a.state = stateFailed
		return RespondErrorAndClose, &Error{Code: kerr.IllegalSaslState,
			Message: fmt.Sprintf("Unexpected Kafka request of type %d during SASL authentication.", apiKey)}
	case stateComplete:
		if !a.expires.IsZero() && !now.Before(a.expires) {
			a.state = stateFailed
			return Close, fmt.Errorf("the SASL session of %s expired at %s", a.principal, a.expires.Format(time.RFC3339))
		}
		switch apiKey {
		case KeySaslHandshake:
			if a.clientReauths {
				a.reauthMechanism, a.reauthPrincipal = a.mechanism, a.principal
				a.state = stateHandshakeOrVersions
				return Handshake, nil
			}
			return RespondError, &Error{Code: kerr.IllegalSaslState, Message: "Unexpected SaslHandshake request after successful authentication"}
		case KeySaslAuthenticate:
			return RespondError, &Error{Code: kerr.IllegalSaslState, Message: "SaslAuthenticate request received after successful authentication"}
		}
		return Serve, nil
	}
	return Close, fmt.Errorf("the connection failed authentication")
}

// Handshake answers SaslHandshake (of version): the enabled mechanisms
// for the response, and an error wrapping UNSUPPORTED_SASL_MECHANISM
// when mechanism is not one of them (respond, then close).
func (a *Authenticator) Handshake(mechanism string, version int16) ([]string, error) {
	srv, err := NewServer(mechanism, a.enabled, a.opts)
	if err != nil {
		a.state = stateFailed
		return a.enabled, err
	}
	if a.reauthMechanism != "" && mechanism != a.reauthMechanism {
		// Kafka answers the handshake, then fails the next token.
		a.badMechanism = failed(fmt.Sprintf("SASL mechanism '%s' requested by client is not supported for re-authentication of mechanism '%s'",
			mechanism, a.reauthMechanism), "")
	}
	a.server, a.mechanism, a.raw = srv, mechanism, version == 0
	a.state = stateAuthenticate
	return a.enabled, nil
}

// RawTokens reports whether the client used SaslHandshake v0, so that
// the frames after it are bare SASL tokens, not SaslAuthenticate
// requests.
func (a *Authenticator) RawTokens() bool { return a.state == stateAuthenticate && a.raw }

// Authenticate answers SaslAuthenticate (of version; for raw tokens pass
// 0) at now: the reply's auth bytes and, once authenticated, the
// session lifetime (0: none). An error is an *Error to answer with
// before closing.
func (a *Authenticator) Authenticate(token []byte, version int16, now time.Time) ([]byte, time.Duration, error) {
	if a.state != stateAuthenticate {
		a.state = stateFailed
		return nil, 0, &Error{Code: kerr.IllegalSaslState, Message: "SaslAuthenticate before SaslHandshake"}
	}
	if a.badMechanism != nil {
		a.state = stateFailed
		return nil, 0, a.badMechanism
	}
	if version > 0 {
		a.clientReauths = true
	}
	reply, done, err := a.server.Step(token)
	if err != nil {
		a.state = stateFailed
		if e, ok := err.(*Error); ok && a.reauthPrincipal != "" {
			c := *e
			c.Message = strings.Replace(c.Message, "during authentication", "during re-authentication", 1)
			return nil, 0, &c
		}
		return nil, 0, err
	}
	if !done {
		return reply, 0, nil
	}
	principal := "User:" + a.server.Username()
	if a.reauthPrincipal != "" && principal != a.reauthPrincipal {
		a.state = stateFailed
		return nil, 0, failed(fmt.Sprintf("Cannot change principals during re-authentication from %s: %s",
			strings.Replace(a.reauthPrincipal, ":", ".", 1), strings.Replace(principal, ":", ".", 1)), "")
	}
	a.principal, a.state = principal, stateComplete
	a.reauthMechanism, a.reauthPrincipal = "", ""
	a.expires = time.Time{}
	if a.maxReauth > 0 {
		a.expires = now.Add(a.maxReauth)
	}
	return reply, a.maxReauth, nil
}

// Authenticated reports whether the connection is authenticated (and
// not failed); Principal is then its principal, "User:<name>".
func (a *Authenticator) Authenticated() bool { return a.state == stateComplete }

// Principal is the authenticated principal, kept during a
// re-authentication; "" before the first authentication completes.
func (a *Authenticator) Principal() string {
	if a.principal == "" || a.state == stateFailed {
		return ""
	}
	return a.principal
}

// Mechanism is the mechanism of the current (or last) conversation.
func (a *Authenticator) Mechanism() string { return a.mechanism }

// Expires is when the session ends (zero: never).
func (a *Authenticator) Expires() time.Time { return a.expires }

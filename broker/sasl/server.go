package sasl

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Server is the broker's side of one SASL conversation.
type Server interface {
	// Mechanism is the mechanism's name, as in SaslHandshake.
	Mechanism() string
	// Step takes the client's next message and returns the server's reply
	// (the SaslAuthenticate response's auth bytes). done is true once the
	// client is authenticated; the reply must still be sent. A failure is
	// an *Error, after which every Step fails with ILLEGAL_SASL_STATE.
	Step(msg []byte) (reply []byte, done bool, err error)
	// Username is the authenticated user's name ("" until done); the
	// principal is "User:" + Username.
	Username() string
}

// Error is a failed SASL step.
type Error struct {
	// Code is SASL_AUTHENTICATION_FAILED or ILLEGAL_SASL_STATE.
	Code *kerr.Error
	// Message is what the client is told (the SaslAuthenticate response's
	// error message), worded as Kafka words it.
	Message string
	// Reason is the detail for the broker's log; never sent.
	Reason string
}

func (e *Error) Error() string {
	if e.Reason != "" && e.Reason != e.Message {
		return e.Message + " (" + e.Reason + "): " + e.Code.Message
	}
	return e.Message + ": " + e.Code.Message
}

// Unwrap lets errors.Is match the Kafka code.
func (e *Error) Unwrap() error { return e.Code }

// failed is SASL_AUTHENTICATION_FAILED with a message for the client.
func failed(msg, reason string) *Error {
	return &Error{Code: kerr.SaslAuthenticationFailed, Message: msg, Reason: reason}
}

// invalidCredentials is Kafka's message for a SaslException (bad
// message, unknown user, wrong password): the client learns only that
// authentication failed.
func invalidCredentials(mech, reason string) *Error {
	return failed("Authentication failed during authentication due to invalid credentials with SASL mechanism "+mech, reason)
}

func illegalState(mech, state string) *Error {
	return &Error{Code: kerr.IllegalSaslState, Message: "Unexpected challenge in Sasl server state " + state,
		Reason: mech + " conversation is " + state}
}

// Options configure the servers NewServer makes.
type Options struct {
	// Credentials are the SCRAM credentials (both SCRAM mechanisms, and
	// PLAIN when Verify is nil).
	Credentials Credentials
	// Verify checks PLAIN passwords; nil means VerifyWithSCRAM(Credentials).
	Verify Verifier
	// Nonce makes the server's part of a SCRAM nonce; nil is 24 random
	// bytes in base64. Only tests set it.
	Nonce func() string
}

// DefaultMechanisms is sasl.enabled.mechanisms' default in Weir: the
// SCRAM mechanisms (Kafka's default, GSSAPI, is not supported).
var DefaultMechanisms = []string{NameScramSHA512, NameScramSHA256}

// Supported lists the mechanisms NewServer knows.
var Supported = []string{NamePlain, NameScramSHA256, NameScramSHA512}

// ParseEnabledMechanisms reads sasl.enabled.mechanisms (a comma-separated
// list); an unsupported name is an error naming it.
func ParseEnabledMechanisms(s string) ([]string, error) {
	var out []string
	for m := range strings.SplitSeq(s, ",") {
		m = strings.TrimSpace(m)
		if m == "" {
			continue
		}
		if !slices.Contains(Supported, m) {
			return nil, fmt.Errorf("sasl.enabled.mechanisms: %q is not supported (supported: %s)", m, strings.Join(Supported, ", "))
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// NewServer starts a conversation for the mechanism the client named in
// SaslHandshake. A mechanism not in enabled (or not supported) is an
// error wrapping UNSUPPORTED_SASL_MECHANISM; the handshake response then
// lists enabled.
func NewServer(mechanism string, enabled []string, opts Options) (Server, error) {
	if !slices.Contains(enabled, mechanism) {
		return nil, fmt.Errorf("SASL mechanism %q is not enabled (enabled: %s): %w",
			mechanism, strings.Join(enabled, ", "), kerr.UnsupportedSaslMechanism)
	}
	if opts.Nonce == nil {
		opts.Nonce = randomNonce
	}
	switch mechanism {
	case NamePlain:
		v := opts.Verify
		if v == nil {
			v = VerifyWithSCRAM(opts.Credentials)
		}
		return &plainServer{verify: v}, nil
	case NameScramSHA256, NameScramSHA512:
		if opts.Credentials == nil {
			opts.Credentials = CredentialMap{}
		}
		return &scramServer{mech: ParseMechanism(mechanism), creds: opts.Credentials, nonce: opts.Nonce}, nil
	}
	return nil, fmt.Errorf("SASL mechanism %q: %w", mechanism, kerr.UnsupportedSaslMechanism)
}

func randomNonce() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

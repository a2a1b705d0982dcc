package sasl

import (
	"bytes"
	"fmt"
)

// Verifier checks a PLAIN user name and password.
type Verifier func(user, password string) bool

// VerifyWithSCRAM checks a password against the user's SCRAM credentials
// (SCRAM-SHA-512 first, then SCRAM-SHA-256): PLAIN over TLS for clients
// without SCRAM, with no password stored anywhere.
func VerifyWithSCRAM(creds Credentials) Verifier {
	return func(user, password string) bool {
		if creds == nil {
			return false
		}
		for _, m := range []Mechanism{ScramSHA512, ScramSHA256} {
			if c, ok := creds.Credential(m, user); ok {
				return c.Verify(m, password)
			}
		}
		return false
	}
}

// plainServer is RFC 4616's one-message conversation, with Kafka's
// PlainSaslServer's checks and messages.
type plainServer struct {
	verify Verifier
	state  string // "" (waiting), "COMPLETE", "FAILED"
	user   string
}

func (s *plainServer) Mechanism() string { return NamePlain }

func (s *plainServer) Username() string {
	if s.state != "COMPLETE" {
		return ""
	}
	return s.user
}

func (s *plainServer) Step(msg []byte) ([]byte, bool, error) {
	if s.state != "" {
		return nil, false, illegalState(NamePlain, s.state)
	}
	user, err := s.step(msg)
	if err != nil {
		s.state = "FAILED"
		return nil, false, err
	}
	s.state, s.user = "COMPLETE", user
	return []byte{}, true, nil
}

func (s *plainServer) step(msg []byte) (string, error) {
	// message = [authzid] NUL authcid NUL passwd
	tokens := bytes.Split(msg, []byte{0})
	if len(tokens) != 3 {
		return "", invalidCredentials(NamePlain, fmt.Sprintf("Invalid SASL/PLAIN response: expected 3 tokens, got %d", len(tokens)))
	}
	authzid, user, pass := string(tokens[0]), string(tokens[1]), string(tokens[2])
	switch {
	case user == "":
		return "", invalidCredentials(NamePlain, "Authentication failed: username not specified")
	case pass == "":
		return "", invalidCredentials(NamePlain, "Authentication failed: password not specified")
	case !s.verify(user, pass):
		return "", failed("Authentication failed: Invalid username or password", "wrong password or unknown user "+quote(user))
	case authzid != "" && authzid != user:
		return "", failed("Authentication failed: Client requested an authorization id that is different from username", "")
	}
	return user, nil
}

// quote renders a client-supplied name for a log line, bounded.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%q", s)
}

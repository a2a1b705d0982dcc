package sasl

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// scramServer is the server side of RFC 5802:
//
//	client-first  n,[a=authzid],n=user,r=cnonce[,ext]
//	server-first  r=cnonce+snonce,s=salt,i=iterations
//	client-final  c=base64(gs2-header),r=cnonce+snonce[,ext],p=proof
//	server-final  v=server-signature
type scramServer struct {
	mech  Mechanism
	creds Credentials
	nonce func() string

	state string // "" (client-first next), "CLIENT_FINAL", "COMPLETE", "FAILED"

	user            string
	gs2Header       string
	clientFirstBare string
	serverFirst     string
	combinedNonce   string
	cred            Credential
}

func (s *scramServer) Mechanism() string { return s.mech.String() }

func (s *scramServer) Username() string {
	if s.state != "COMPLETE" {
		return ""
	}
	return s.user
}

func (s *scramServer) Step(msg []byte) ([]byte, bool, error) {
	var (
		reply []byte
		err   error
	)
	switch s.state {
	case "":
		reply, err = s.clientFirst(string(msg))
		if err == nil {
			s.state = "CLIENT_FINAL"
		}
	case "CLIENT_FINAL":
		reply, err = s.clientFinal(string(msg))
		if err == nil {
			s.state = "COMPLETE"
			s.cred = Credential{}
			return reply, true, nil
		}
	default:
		return nil, false, illegalState(s.Mechanism(), s.state)
	}
	if err != nil {
		s.state = "FAILED"
		s.cred = Credential{}
		return nil, false, err
	}
	return reply, false, nil
}

func (s *scramServer) bad(reason string) *Error { return invalidCredentials(s.Mechanism(), reason) }

func (s *scramServer) clientFirst(msg string) ([]byte, error) {
	// gs2-header: only "n" (no channel binding), as Kafka.
	if !strings.HasPrefix(msg, "n,") {
		return nil, s.bad("Invalid SCRAM client first message: the GS2 header is not \"n,\"")
	}
	rest := msg[2:]
	comma := strings.IndexByte(rest, ',')
	if comma < 0 {
		return nil, s.bad("Invalid SCRAM client first message: no end to the GS2 header")
	}
	authzid := rest[:comma]
	if authzid != "" {
		if !strings.HasPrefix(authzid, "a=") {
			return nil, s.bad("Invalid SCRAM client first message: bad authzid")
		}
		var ok bool
		if authzid, ok = saslName(authzid[2:]); !ok {
			return nil, s.bad("Invalid SCRAM client first message: bad authzid escape")
		}
	}
	s.gs2Header = msg[:2+comma+1]
	s.clientFirstBare = rest[comma+1:]
	attrs := strings.Split(s.clientFirstBare, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return nil, s.bad("Invalid SCRAM client first message: want n=user,r=nonce")
	}
	user, ok := saslName(attrs[0][2:])
	if !ok || user == "" {
		return nil, s.bad("Invalid SCRAM client first message: bad user name")
	}
	cnonce := attrs[1][2:]
	if !printableNonce(cnonce) {
		return nil, s.bad("Invalid SCRAM client first message: bad nonce")
	}
	for _, ext := range attrs[2:] {
		switch {
		case strings.HasPrefix(ext, "m="):
			return nil, s.bad("Invalid SCRAM client first message: mandatory extension")
		case ext == "tokenauth=true":
			return nil, s.bad("delegation tokens are not supported")
		}
	}
	s.user = user
	cred, ok := s.creds.Credential(s.mech, user)
	if !ok {
		return nil, s.bad("Authentication failed: Invalid user credentials (no " + s.Mechanism() + " credential for " + quote(user) + ")")
	}
	if authzid != "" && authzid != user {
		return nil, failed("Authentication failed: Client requested an authorization id that is different from username", "")
	}
	if cred.Iterations < MinIterations {
		return nil, s.bad(fmt.Sprintf("Iterations %d is less than the minimum %d for %s", cred.Iterations, MinIterations, s.Mechanism()))
	}
	s.cred = cred
	s.combinedNonce = cnonce + s.nonce()
	s.serverFirst = "r=" + s.combinedNonce + ",s=" + base64.StdEncoding.EncodeToString(cred.Salt) +
		",i=" + strconv.Itoa(int(cred.Iterations))
	return []byte(s.serverFirst), nil
}

func (s *scramServer) clientFinal(msg string) ([]byte, error) {
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return nil, s.bad("Invalid SCRAM client final message: no proof")
	}
	withoutProof, proofB64 := msg[:i], msg[i+3:]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return nil, s.bad("Invalid SCRAM client final message: want c=…,r=…")
	}
	// Kafka's ScramSaslServer checks that the nonce ends with the
	// server-first one (not equality): librdkafka (2.0 at least) sends
	// its client nonce before the combined nonce, and Kafka accepts it.
	if !strings.HasSuffix(attrs[1][2:], s.combinedNonce) {
		return nil, failed("Invalid client nonce in the final client message.", "")
	}
	if attrs[0][2:] != base64.StdEncoding.EncodeToString([]byte(s.gs2Header)) {
		return nil, s.bad("Invalid SCRAM client final message: channel binding does not match the GS2 header")
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != s.mech.size() {
		return nil, s.bad("Invalid SCRAM client final message: bad proof")
	}
	authMsg := []byte(s.clientFirstBare + "," + s.serverFirst + "," + withoutProof)
	// ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); the client
	// knows the password when H(ClientKey) is the StoredKey.
	sig := hmacSum(s.mech, s.cred.StoredKey, authMsg)
	for i := range sig {
		sig[i] ^= proof[i]
	}
	h := s.mech.hash()()
	h.Write(sig)
	if subtle.ConstantTimeCompare(h.Sum(nil), s.cred.StoredKey) != 1 {
		return nil, s.bad("Invalid client credentials (wrong password for " + quote(s.user) + ")")
	}
	return []byte("v=" + base64.StdEncoding.EncodeToString(hmacSum(s.mech, s.cred.ServerKey, authMsg))), nil
}

// saslName decodes RFC 5802's saslname: "=2C" is ',' and "=3D" is '=';
// any other '=' is malformed.
func saslName(s string) (string, bool) {
	if !strings.Contains(s, "=") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

// printableNonce is RFC 5802's c-nonce: printable ASCII except ','.
func printableNonce(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}

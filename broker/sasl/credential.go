package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"hash"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Mechanism is a SCRAM mechanism, numbered as in AlterUserScramCredentials
// and DescribeUserScramCredentials (Kafka's ScramMechanism).
type Mechanism int8

const (
	MechanismUnknown Mechanism = 0
	ScramSHA256      Mechanism = 1
	ScramSHA512      Mechanism = 2
)

// Kafka's bounds on a SCRAM credential's iteration count.
const (
	MinIterations = 4096
	MaxIterations = 16384
)

// Mechanism names as SaslHandshake and sasl.enabled.mechanisms spell them.
const (
	NamePlain       = "PLAIN"
	NameScramSHA256 = "SCRAM-SHA-256"
	NameScramSHA512 = "SCRAM-SHA-512"
)

// ScramMechanisms are the SCRAM mechanisms, in protocol order.
var ScramMechanisms = []Mechanism{ScramSHA256, ScramSHA512}

func (m Mechanism) String() string {
	switch m {
	case ScramSHA256:
		return NameScramSHA256
	case ScramSHA512:
		return NameScramSHA512
	}
	return "UNKNOWN"
}

// ParseMechanism reads a SCRAM mechanism's name; others are
// MechanismUnknown.
func ParseMechanism(name string) Mechanism {
	switch name {
	case NameScramSHA256:
		return ScramSHA256
	case NameScramSHA512:
		return ScramSHA512
	}
	return MechanismUnknown
}

// Valid reports whether m is a known SCRAM mechanism.
func (m Mechanism) Valid() bool { return m == ScramSHA256 || m == ScramSHA512 }

func (m Mechanism) hash() func() hash.Hash {
	if m == ScramSHA512 {
		return sha512.New
	}
	return sha256.New
}

func (m Mechanism) size() int {
	if m == ScramSHA512 {
		return sha512.Size
	}
	return sha256.Size
}

// Credential is a user's SCRAM credential for one mechanism, as Kafka
// stores it (UserScramCredentialRecord): enough to verify a client's
// proof and to prove the server knows it, not enough to log in with.
type Credential struct {
	Salt       []byte `json:"salt"`
	StoredKey  []byte `json:"stored_key"`
	ServerKey  []byte `json:"server_key"`
	Iterations int32  `json:"iterations"`
}

// SaltedPassword is RFC 5802's Hi(password, salt, i): what an
// AlterUserScramCredentials upsertion carries with the salt.
func SaltedPassword(m Mechanism, password string, salt []byte, iterations int) ([]byte, error) {
	if !m.Valid() {
		return nil, fmt.Errorf("salting a password: %w", kerr.UnsupportedSaslMechanism)
	}
	return pbkdf2.Key(m.hash(), password, salt, iterations, m.size())
}

// CredentialFromSaltedPassword derives the stored credential from a
// salted password, as the controller does for AlterUserScramCredentials:
// StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey =
// HMAC(SaltedPassword, "Server Key").
func CredentialFromSaltedPassword(m Mechanism, salt, saltedPassword []byte, iterations int32) Credential {
	clientKey := hmacSum(m, saltedPassword, []byte("Client Key"))
	h := m.hash()()
	h.Write(clientKey)
	return Credential{
		Salt:       append([]byte(nil), salt...),
		StoredKey:  h.Sum(nil),
		ServerKey:  hmacSum(m, saltedPassword, []byte("Server Key")),
		Iterations: iterations,
	}
}

// NewCredential makes a credential for password with a fresh random salt
// (what a client tool such as `weir user` does before sending
// AlterUserScramCredentials, and what tests use).
func NewCredential(m Mechanism, password string, iterations int32) (Credential, error) {
	salt := make([]byte, 32)
	rand.Read(salt)
	sp, err := SaltedPassword(m, password, salt, int(iterations))
	if err != nil {
		return Credential{}, err
	}
	return CredentialFromSaltedPassword(m, salt, sp, iterations), nil
}

// Verify reports whether password is the one c was made from, in
// constant time over the keys.
func (c Credential) Verify(m Mechanism, password string) bool {
	sp, err := SaltedPassword(m, password, c.Salt, int(c.Iterations))
	if err != nil {
		return false
	}
	got := CredentialFromSaltedPassword(m, c.Salt, sp, c.Iterations)
	return subtle.ConstantTimeCompare(got.StoredKey, c.StoredKey) == 1
}

func hmacSum(m Mechanism, key, msg []byte) []byte {
	mac := hmac.New(m.hash(), key)
	mac.Write(msg)
	return mac.Sum(nil)
}

// Credentials looks up a user's SCRAM credential for a mechanism. The
// broker's implementation reads the current metadata image.
type Credentials interface {
	Credential(m Mechanism, user string) (Credential, bool)
}

// CredentialMap is an in-memory Credentials, keyed by mechanism then user.
type CredentialMap map[Mechanism]map[string]Credential

// Credential implements Credentials.
func (cm CredentialMap) Credential(m Mechanism, user string) (Credential, bool) {
	c, ok := cm[m][user]
	return c, ok
}

// Put adds or replaces a credential.
func (cm CredentialMap) Put(m Mechanism, user string, c Credential) {
	if cm[m] == nil {
		cm[m] = map[string]Credential{}
	}
	cm[m][user] = c
}

package quorum

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// TopicID is a topic's 16-byte UUID (KIP-516), assigned by the controller
// when the topic is created and kept in the image.
type TopicID [16]byte

// LegacyStoreFile is the file of the single-node JSON metadata store that
// came before the quorum. Nothing reads it; a broker only says it ignores
// one left by an older Weir.
const LegacyStoreFile = "weir-metadata.json"

// NewTopicID returns a random version-4 UUID.
func NewTopicID() TopicID {
	var id TopicID
	if _, err := rand.Read(id[:]); err != nil {
		panic("quorum: crypto/rand failed: " + err.Error())
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

// String renders the id as Kafka does (URL-safe base64, no padding).
func (id TopicID) String() string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// MarshalJSON stores the id as its string form.
func (id TopicID) MarshalJSON() ([]byte, error) { return json.Marshal(id.String()) }

// UnmarshalJSON reads the string form.
func (id *TopicID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) != 16 {
		return fmt.Errorf("bad topic id %q", s)
	}
	copy(id[:], raw)
	return nil
}

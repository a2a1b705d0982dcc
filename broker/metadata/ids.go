package metadata

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// String renders the id as Kafka does (URL-safe base64, no padding).
func (id TopicID) String() string { return base64URL(id[:]) }

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

package config

import (
	"crypto/rand"
	"encoding/base64"
)

// NewClusterID returns a fresh weir.cluster.id in Kafka's form: a random
// version-4 UUID in URL-safe base64 without padding (22 characters). A
// single-voter broker makes one at its first start; weir up makes one per
// cluster it creates.
func NewClusterID() string {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		panic("config: crypto/rand failed: " + err.Error())
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return base64.RawURLEncoding.EncodeToString(id[:])
}

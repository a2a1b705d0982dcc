package config

import (
	"encoding/base64"
	"testing"
)

func TestNewClusterIDIsKafkasForm(t *testing.T) {
	id := NewClusterID()
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if len(id) != 22 || err != nil || len(raw) != 16 || raw[6]>>4 != 4 || raw[8]>>6 != 2 {
		t.Fatalf("%q is not a version 4 UUID in URL-safe base64 (22 characters), as Kafka's cluster ids are", id)
	}
	if NewClusterID() == id {
		t.Fatal("two cluster ids are the same")
	}
}

package quorum

import (
	"encoding/json"
	"testing"
)

func TestTopicIDIsV4AndRoundTrips(t *testing.T) {
	id := NewTopicID()
	if id[6]>>4 != 4 || id[8]>>6 != 2 {
		t.Fatalf("%x is not a version 4, RFC 4122 UUID", id)
	}
	b, err := json.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	var back TopicID
	if err := json.Unmarshal(b, &back); err != nil || back != id {
		t.Fatalf("round trip %s: %v %x", b, err, back)
	}
	if err := json.Unmarshal([]byte(`"not-an-id"`), &back); err == nil {
		t.Fatal("decoded a bad topic id")
	}
}

package metadata

import (
	"encoding/json"
	"os"
	"path/filepath"
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
	if len(NewClusterID()) != 22 {
		t.Fatal("a cluster id is 22 characters of URL-safe base64, as Kafka's")
	}
	if err := json.Unmarshal([]byte(`"not-an-id"`), &back); err == nil {
		t.Fatal("decoded a bad topic id")
	}
}

func TestWriteFileAtomicReplacesWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	for _, content := range []string{"first version", "second"} {
		if err := WriteFileAtomic(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatal("temp file left behind")
	}
}

// Package metadata holds the identifiers of cluster metadata (topic
// UUIDs and cluster ids, in Kafka's forms) and the atomic file write the
// broker uses for its small state files. The metadata itself lives in the
// raft quorum (broker/quorum); the single-node JSON store that came before
// it is gone, and FileName only names its file so a broker can say it is
// ignoring one left by an older Weir.
package metadata

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
)

// FileName is the file of the old single-node metadata store.
const FileName = "weir-metadata.json"

// TopicID is a topic's 16-byte UUID (KIP-516).
type TopicID [16]byte

// WriteFileAtomic replaces path with b so that a crash leaves either the
// old or the new content: write a temp file, fsync, rename, fsync the dir.
func WriteFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming %s: %w", path, err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("syncing dir of %s: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing dir of %s: %w", path, err)
	}
	return nil
}

// NewTopicID returns a random version-4 UUID.
func NewTopicID() TopicID {
	var id TopicID
	if _, err := rand.Read(id[:]); err != nil {
		panic("metadata: crypto/rand failed: " + err.Error())
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

// NewClusterID returns a cluster id in Kafka's form: a random UUID in
// URL-safe base64 without padding (22 characters).
func NewClusterID() string {
	id := NewTopicID()
	return base64URL(id[:])
}

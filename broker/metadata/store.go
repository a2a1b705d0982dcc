// Package metadata holds the cluster's metadata: the cluster id, topics
// (id, partition count, config overrides), dynamic broker configs and the
// producer-id allocator.
//
// This is the single-node store: one JSON document in the first log
// directory, replaced atomically (write temp, fsync, rename, fsync dir) on
// every change. The replicated cluster puts the same state behind a raft
// quorum; the broker talks to it through the same methods.
package metadata

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// FileName is the store's file inside the first log directory.
const FileName = "weir-metadata.json"

// ProducerIDBlock is how many producer ids are reserved per write, so a
// restart never hands out an id twice and InitProducerId rarely writes.
const ProducerIDBlock = 1000

// TopicID is a topic's 16-byte UUID (KIP-516).
type TopicID [16]byte

// Topic is one topic's metadata.
type Topic struct {
	Name       string            `json:"name"`
	ID         TopicID           `json:"id"`
	Partitions int32             `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
}

type state struct {
	Version        int               `json:"version"`
	ClusterID      string            `json:"cluster_id"`
	Topics         map[string]*Topic `json:"topics"`
	BrokerConfigs  map[string]string `json:"broker_configs,omitempty"`
	NextProducerID int64             `json:"next_producer_id"`
}

var (
	ErrTopicExists = errors.New("topic already exists")
	ErrNoSuchTopic = errors.New("topic does not exist")
)

// Store is the file-backed metadata store. All methods are safe for
// concurrent use; readers get copies.
type Store struct {
	path string

	mu struct {
		sync.Mutex
		st       state
		pidNext  int64 // next producer id to hand out
		pidLimit int64 // first id not yet reserved on disk
	}
}

// Open loads the store from dir, creating it (with clusterID, or a new
// random id when empty) if it does not exist. An existing store whose
// cluster id differs from a non-empty clusterID is an error.
func Open(dir, clusterID string) (*Store, error) {
	s := &Store{path: filepath.Join(dir, FileName)}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if clusterID == "" {
			clusterID = NewClusterID()
		}
		s.mu.st = state{Version: 1, ClusterID: clusterID, Topics: map[string]*Topic{}}
		if err := s.saveLocked(); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("reading metadata %s: %w", s.path, err)
	default:
		if err := json.Unmarshal(b, &s.mu.st); err != nil {
			return nil, fmt.Errorf("decoding metadata %s: %w", s.path, err)
		}
		if s.mu.st.Topics == nil {
			s.mu.st.Topics = map[string]*Topic{}
		}
		if clusterID != "" && clusterID != s.mu.st.ClusterID {
			return nil, fmt.Errorf("metadata %s belongs to cluster %q, not the configured %q", s.path, s.mu.st.ClusterID, clusterID)
		}
	}
	s.mu.pidNext = s.mu.st.NextProducerID
	s.mu.pidLimit = s.mu.st.NextProducerID
	return s, nil
}

// ClusterID returns the cluster id.
func (s *Store) ClusterID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.st.ClusterID
}

// Topics returns every topic, sorted by name.
func (s *Store) Topics() []Topic {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Topic, 0, len(s.mu.st.Topics))
	for _, t := range s.mu.st.Topics {
		out = append(out, t.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CreateTopic adds t, assigning it a new id.
func (s *Store) CreateTopic(t Topic) (Topic, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.mu.st.Topics[t.Name]; ok {
		return Topic{}, fmt.Errorf("create topic %s: %w", t.Name, ErrTopicExists)
	}
	t = t.clone()
	t.ID = NewTopicID()
	s.mu.st.Topics[t.Name] = &t
	if err := s.saveLocked(); err != nil {
		delete(s.mu.st.Topics, t.Name)
		return Topic{}, err
	}
	return t.clone(), nil
}

// DeleteTopic removes a topic.
func (s *Store) DeleteTopic(name string) error {
	return s.update(name, func(st *state) { delete(st.Topics, name) })
}

// SetPartitions sets a topic's partition count.
func (s *Store) SetPartitions(name string, n int32) error {
	return s.update(name, func(st *state) { st.Topics[name].Partitions = n })
}

// SetTopicConfigs replaces a topic's config overrides.
func (s *Store) SetTopicConfigs(name string, configs map[string]string) error {
	c := cloneMap(configs)
	return s.update(name, func(st *state) { st.Topics[name].Configs = c })
}

// BrokerConfigs returns the dynamic broker configs.
func (s *Store) BrokerConfigs() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneMap(s.mu.st.BrokerConfigs)
}

// SetBrokerConfigs replaces the dynamic broker configs.
func (s *Store) SetBrokerConfigs(configs map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.mu.st.BrokerConfigs
	s.mu.st.BrokerConfigs = cloneMap(configs)
	if err := s.saveLocked(); err != nil {
		s.mu.st.BrokerConfigs = old
		return err
	}
	return nil
}

// NextProducerID hands out a producer id never handed out before, even
// across restarts.
func (s *Store) NextProducerID() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.pidNext >= s.mu.pidLimit {
		s.mu.st.NextProducerID = s.mu.pidLimit + ProducerIDBlock
		if err := s.saveLocked(); err != nil {
			s.mu.st.NextProducerID = s.mu.pidLimit
			return 0, err
		}
		s.mu.pidLimit = s.mu.st.NextProducerID
	}
	id := s.mu.pidNext
	s.mu.pidNext++
	return id, nil
}

func (s *Store) update(name string, f func(*state)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.mu.st.Topics[name]
	if !ok {
		return fmt.Errorf("topic %s: %w", name, ErrNoSuchTopic)
	}
	saved := old.clone()
	f(&s.mu.st)
	if err := s.saveLocked(); err != nil {
		s.mu.st.Topics[name] = &saved
		return err
	}
	return nil
}

func (s *Store) saveLocked() error {
	b, err := json.MarshalIndent(&s.mu.st, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding metadata: %w", err)
	}
	return WriteFileAtomic(s.path, b)
}

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

func (t Topic) clone() Topic {
	t.Configs = cloneMap(t.Configs)
	return t
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
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

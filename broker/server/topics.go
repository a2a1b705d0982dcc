package server

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/weirhq/weir/broker/config"
	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/quorum"
	"github.com/weirhq/weir/broker/replication"
	"github.com/weirhq/weir/internal/vfs"
)

// topic is a hosted topic. The struct is replaced, not mutated, when its
// partition count changes (under Broker.mu); settings change atomically.
type topic struct {
	name       string
	id         quorum.TopicID
	internal   bool
	configs    map[string]string // overrides, as stored
	settings   atomic.Pointer[config.TopicSettings]
	throttled  atomic.Pointer[replication.ThrottledReplicas]
	partitions []*partition
}

// setThrottled parses the topic's throttled-replica lists.
func (t *topic) setThrottled(configs map[string]string) {
	t.throttled.Store(replication.ParseThrottled(configs))
}

// lookup returns a partition by topic name, or nil.
func (b *Broker) lookup(name string, part int32) *partition {
	b.mu.RLock()
	defer b.mu.RUnlock()
	t := b.mu.topics[name]
	if t == nil || part < 0 || int(part) >= len(t.partitions) {
		return nil
	}
	return t.partitions[part]
}

// lookupID returns a partition by topic id, or nil.
func (b *Broker) lookupID(id quorum.TopicID, part int32) *partition {
	b.mu.RLock()
	defer b.mu.RUnlock()
	t := b.mu.byID[id]
	if t == nil || part < 0 || int(part) >= len(t.partitions) {
		return nil
	}
	return t.partitions[part]
}

func (b *Broker) topic(name string) *topic {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.mu.topics[name]
}

func (b *Broker) topicByID(id quorum.TopicID) *topic {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.mu.byID[id]
}

// sortedTopics returns every topic sorted by name.
func (b *Broker) sortedTopics() []*topic {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]*topic, 0, len(b.mu.topics))
	for _, t := range b.mu.topics {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (b *Broker) allPartitions() []*partition {
	return b.hostedSnapshot().parts
}

// hostedSet is a snapshot of the hosted partitions and their replicas,
// shared read-only by every caller until the set changes: the ISR loop,
// the HW checkpoints and the metrics each asked for a fresh list of
// 20,000 several times a second.
type hostedSet struct {
	parts []*partition
	reps  []*replication.Replica
}

// hostedSnapshot returns the current snapshot, building it if the set
// changed. Built and stored under the read lock, so a change (under the
// write lock, which then clears it) cannot slip between the two.
func (b *Broker) hostedSnapshot() *hostedSet {
	if h := b.hosted.Load(); h != nil {
		return h
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if h := b.hosted.Load(); h != nil {
		return h
	}
	h := &hostedSet{}
	for _, t := range b.mu.topics {
		for _, p := range t.partitions {
			if p != nil {
				h.parts = append(h.parts, p)
			}
		}
	}
	h.reps = replicasOf(h.parts)
	b.hosted.Store(h)
	return h
}

// hostedChangedLocked marks the snapshot stale. Caller holds b.mu's
// write lock and has changed b.mu.topics or a topic's partitions.
func (b *Broker) hostedChangedLocked() { b.hosted.Store(nil) }

// prepareStorage settles the cluster id and checks (or writes) each log
// dir's meta.properties, as Kafka's storage format step does.
func (b *Broker) prepareStorage() error {
	voters, err := b.parseVoters()
	if err != nil {
		return err
	}
	id, err := b.resolveClusterID(voters)
	if err != nil {
		return err
	}
	b.cluster = id
	for _, dir := range b.cfg.LogDirs {
		if err := b.fs.MkdirAll(dir, 0o755); err != nil { // on the disk already; an in-memory FS needs it too
			return fmt.Errorf("log.dirs: %w", err)
		}
		if err := checkMetaProperties(dir, id, b.cfg.NodeID, b.now()); err != nil {
			return err
		}
	}
	b.removeLegacyStore()
	return nil
}

func (b *Broker) openPartition(t *topic, i int32) (*partition, error) {
	dir := b.partitionDir(t.name, i)
	l, err := wlog.Open(dir, logConfig(*t.settings.Load()), wlog.Options{
		Logger: b.logger.With("partition", t.name+"-"+strconv.Itoa(int(i))), Now: b.now,
		Usage: b.volume.Usage(filepath.Dir(dir)), FS: b.fs, ClosedAt: b.takeClosedAt(dir),
	})
	if err != nil {
		return nil, fmt.Errorf("opening partition %s-%d: %w", t.name, i, err)
	}
	p := newPartition(t, i, l, b.cfg.NodeID, b.now)
	p.parks = b.metrics.Parks
	if hw, ok := b.hwStart[replication.TopicPartition{Topic: t.name, Partition: i}]; ok {
		p.rep.SetHighWatermark(min(hw, l.LogEndOffset()))
	}
	return p, nil
}

// partitionDir finds the partition's directory in any log dir, or picks the
// log dir holding the fewest partitions for a new one.
func (b *Broker) partitionDir(name string, i int32) string {
	base := name + "-" + strconv.Itoa(int(i))
	if len(b.cfg.LogDirs) == 1 {
		return filepath.Join(b.cfg.LogDirs[0], base) // no choice to make: no directory scan
	}
	best, bestN := "", -1
	for _, d := range b.cfg.LogDirs {
		p := filepath.Join(d, base)
		if st, err := b.fs.Stat(p); err == nil && st.IsDir() {
			return p
		}
		n := len(subdirs(b.fs, d))
		if bestN < 0 || n < bestN {
			best, bestN = d, n
		}
	}
	return filepath.Join(best, base)
}

// subdirs returns the names of dir's subdirectories on fs.
func subdirs(fs vfs.FS, dir string) []string {
	names, _ := fs.List(dir)
	var out []string
	for _, n := range names {
		if st, err := fs.Stat(filepath.Join(dir, n)); err == nil && st.IsDir() {
			out = append(out, n)
		}
	}
	return out
}

// warnStrayDirs logs partition directories that no hosted partition owns
// (left by a crash during a delete, or copied in by hand), once, when the
// broker first becomes ready (its metadata caught up). They are kept, not
// deleted.
func (b *Broker) warnStrayDirs() {
	for _, d := range b.cfg.LogDirs {
		for _, name := range subdirs(b.fs, d) {
			if name == metadataDirName {
				continue
			}
			i := strings.LastIndexByte(name, '-')
			if i <= 0 {
				continue
			}
			n, err := strconv.Atoi(name[i+1:])
			if err != nil || b.lookup(name[:i], int32(n)) != nil {
				continue
			}
			b.logger.Warn("stray partition directory: no topic owns it; leaving it in place", "dir", filepath.Join(d, name))
		}
	}
}

func (b *Broker) topicConfigs(t *topic) map[string]string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return t.configs
}

// closeWorkers is how many logs closeTopics writes out at once (index
// tails, producer snapshots, checkpoints: no fsync of their own, see
// log.CloseAll).
const closeWorkers = 16

// closeTopics closes every hosted log with log.CloseAll: each one's data
// written, then two syncs of each log dir's filesystem instead of a dozen
// fsyncs per log (20,000 logs took over 15 s closed one by one).
func (b *Broker) closeTopics() (wlog.CloseTimes, error) {
	b.mu.Lock()
	var logs []*wlog.Log
	for name, t := range b.mu.topics {
		for _, p := range t.partitions {
			if p != nil {
				logs = append(logs, p.log)
			}
		}
		delete(b.mu.topics, name)
	}
	b.hostedChangedLocked()
	b.mu.Unlock()
	return wlog.CloseAll(logs, closeWorkers)
}

// takeCloseCheckpoints reads and removes every log dir's close checkpoint
// before any log opens (so no line outlives this start); an unreadable one
// only costs the logs a longer recovery from their own checkpoints.
func (b *Broker) takeCloseCheckpoints() {
	b.closedAt.m = map[string]wlog.ClosedAt{}
	for _, dir := range b.cfg.LogDirs {
		m, err := wlog.TakeCloseCheckpoint(b.fs, dir)
		if err != nil {
			b.logger.Warn("recovering logs from their own checkpoints", "log.dir", dir, "err", err)
		}
		maps.Copy(b.closedAt.m, m)
	}
}

// takeClosedAt is dir's line of the close checkpoint, once.
func (b *Broker) takeClosedAt(dir string) *wlog.ClosedAt {
	b.closedAt.Lock()
	defer b.closedAt.Unlock()
	c, ok := b.closedAt.m[dir]
	if !ok {
		return nil
	}
	delete(b.closedAt.m, dir)
	return &c
}

// validTopicName applies Kafka's rules: 1–249 characters of [a-zA-Z0-9._-],
// and not "." or "..".
func validTopicName(name string) error {
	switch {
	case name == "":
		return errors.New("topic name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("topic name %q is illegal, it cannot be '.' or '..'", name)
	case len(name) > 249:
		return fmt.Errorf("topic name is illegal, it can't be longer than 249 characters, topic name: %s", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic name %s is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", name)
		}
	}
	return nil
}

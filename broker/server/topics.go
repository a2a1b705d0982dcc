package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/weirhq/weir/broker/config"
	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/metadata"
	"github.com/weirhq/weir/broker/replica"
)

// topic is a hosted topic. The struct is replaced, not mutated, when its
// partition count changes (under Broker.mu); settings change atomically.
type topic struct {
	name       string
	id         metadata.TopicID
	internal   bool
	configs    map[string]string // overrides, as stored
	settings   atomic.Pointer[config.TopicSettings]
	throttled  atomic.Pointer[throttledReplicas]
	partitions []*partition
}

// throttledReplicas are a topic's leader/follower.replication.throttled.replicas.
type throttledReplicas struct {
	leader, follower replica.ThrottledReplicas
}

// setThrottled parses the topic's throttled-replica lists; a bad value
// (validated on the way in, so only from an older store) throttles nothing.
func (t *topic) setThrottled(configs map[string]string) {
	var tr throttledReplicas
	tr.leader, _ = replica.ParseThrottledReplicas(configs["leader.replication.throttled.replicas"])
	tr.follower, _ = replica.ParseThrottledReplicas(configs["follower.replication.throttled.replicas"])
	t.throttled.Store(&tr)
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
func (b *Broker) lookupID(id metadata.TopicID, part int32) *partition {
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

func (b *Broker) topicByID(id metadata.TopicID) *topic {
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
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []*partition
	for _, t := range b.mu.topics {
		out = append(out, t.partitions...)
	}
	return out
}

// openStorage checks each log dir's meta.properties, opens the metadata
// store and every hosted partition's log (recovering it).
func (b *Broker) openStorage() error {
	if err := b.cfg.PrepareLogDirs(); err != nil {
		return err
	}
	meta, err := metadata.Open(b.cfg.LogDirs[0], b.cfg.ClusterID)
	if err != nil {
		return fmt.Errorf("log.dirs: %w", err)
	}
	b.meta = meta
	b.throttles.apply(meta.BrokerConfigs())
	for _, dir := range b.cfg.LogDirs {
		if err := checkMetaProperties(dir, meta.ClusterID(), b.cfg.NodeID); err != nil {
			return err
		}
	}
	for _, mt := range meta.Topics() {
		if _, err := b.openTopic(mt); err != nil {
			return err
		}
	}
	b.warnStrayDirs()
	return nil
}

// openTopic opens (creating if needed) every partition of mt and adds the
// topic to the maps.
func (b *Broker) openTopic(mt metadata.Topic) (*topic, error) {
	ts, err := b.cfg.TopicSettings(mt.Configs, b.meta.BrokerConfigs())
	if err != nil {
		return nil, fmt.Errorf("topic %s: stored configs: %w", mt.Name, err)
	}
	t := &topic{name: mt.Name, id: mt.ID, internal: strings.HasPrefix(mt.Name, "__"), configs: mt.Configs}
	t.settings.Store(&ts)
	t.setThrottled(mt.Configs)
	for i := int32(0); i < mt.Partitions; i++ {
		p, err := b.openPartition(t, i)
		if err != nil {
			closePartitions(t.partitions)
			return nil, err
		}
		t.partitions = append(t.partitions, p)
	}
	b.mu.Lock()
	b.mu.topics[t.name] = t
	b.mu.byID[t.id] = t
	b.mu.Unlock()
	return t, nil
}

func (b *Broker) openPartition(t *topic, i int32) (*partition, error) {
	dir := b.partitionDir(t.name, i)
	l, err := wlog.Open(dir, logConfig(*t.settings.Load()), wlog.Options{Logger: b.logger.With("partition", t.name+"-"+strconv.Itoa(int(i))), Now: b.now})
	if err != nil {
		return nil, fmt.Errorf("opening partition %s-%d: %w", t.name, i, err)
	}
	p := newPartition(t, i, l)
	p.leadAlone(b.cfg.NodeID, b.now())
	return p, nil
}

// partitionDir finds the partition's directory in any log dir, or picks the
// log dir holding the fewest partitions for a new one.
func (b *Broker) partitionDir(name string, i int32) string {
	base := name + "-" + strconv.Itoa(int(i))
	best, bestN := "", -1
	for _, d := range b.cfg.LogDirs {
		p := filepath.Join(d, base)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		n := countPartitionDirs(d)
		if bestN < 0 || n < bestN {
			best, bestN = d, n
		}
	}
	return filepath.Join(best, base)
}

func countPartitionDirs(dir string) int {
	ents, _ := os.ReadDir(dir)
	n := 0
	for _, e := range ents {
		if e.IsDir() {
			n++
		}
	}
	return n
}

// warnStrayDirs logs partition directories that no topic owns (left by a
// crash during a delete, or copied in by hand). They are kept, not deleted.
func (b *Broker) warnStrayDirs() {
	for _, d := range b.cfg.LogDirs {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			i := strings.LastIndexByte(e.Name(), '-')
			if i <= 0 {
				continue
			}
			n, err := strconv.Atoi(e.Name()[i+1:])
			if err != nil || b.lookup(e.Name()[:i], int32(n)) != nil {
				continue
			}
			b.logger.Warn("stray partition directory: no topic owns it; leaving it in place", "dir", filepath.Join(d, e.Name()))
		}
	}
}

// createTopic creates a topic in the metadata store and opens its logs.
func (b *Broker) createTopic(name string, partitions int32, configs map[string]string) (*topic, error) {
	mt, err := b.meta.CreateTopic(metadata.Topic{Name: name, Partitions: partitions, Configs: configs})
	if err != nil {
		return nil, err
	}
	t, err := b.openTopic(mt)
	if err != nil {
		b.meta.DeleteTopic(name)
		return nil, err
	}
	b.logger.Info("created topic", "topic", name, "partitions", partitions, "configs", configs)
	return t, nil
}

// deleteTopic removes a topic from the metadata store, then its logs.
func (b *Broker) deleteTopic(name string) error {
	b.mu.Lock()
	t := b.mu.topics[name]
	if t == nil {
		b.mu.Unlock()
		return metadata.ErrNoSuchTopic
	}
	if err := b.meta.DeleteTopic(name); err != nil {
		b.mu.Unlock()
		return err
	}
	delete(b.mu.topics, name)
	delete(b.mu.byID, t.id)
	b.mu.Unlock()
	var errs []error
	for _, p := range t.partitions {
		p.wakeAll()
		if err := p.log.Delete(); err != nil {
			errs = append(errs, err)
		}
	}
	b.logger.Info("deleted topic", "topic", name)
	return errors.Join(errs...)
}

// addPartitions grows a topic to n partitions.
func (b *Broker) addPartitions(name string, n int32) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.mu.topics[name]
	if t == nil {
		return metadata.ErrNoSuchTopic
	}
	var added []*partition
	for i := int32(len(t.partitions)); i < n; i++ {
		p, err := b.openPartition(t, i)
		if err != nil {
			closePartitions(added)
			return err
		}
		added = append(added, p)
	}
	if err := b.meta.SetPartitions(name, n); err != nil {
		closePartitions(added)
		return err
	}
	nt := &topic{name: t.name, id: t.id, internal: t.internal, configs: t.configs,
		partitions: append(append([]*partition(nil), t.partitions...), added...)}
	nt.settings.Store(t.settings.Load())
	nt.throttled.Store(t.throttled.Load())
	for _, p := range nt.partitions {
		p.topic.Store(nt)
	}
	b.mu.topics[name] = nt
	b.mu.byID[nt.id] = nt
	return nil
}

// setTopicConfigs replaces a topic's overrides and applies them to its logs.
func (b *Broker) setTopicConfigs(t *topic, configs map[string]string) error {
	ts, err := b.cfg.TopicSettings(configs, b.meta.BrokerConfigs())
	if err != nil {
		return err
	}
	if err := b.meta.SetTopicConfigs(t.name, configs); err != nil {
		return err
	}
	b.mu.Lock()
	t.configs = configs
	b.mu.Unlock()
	t.settings.Store(&ts)
	t.setThrottled(configs)
	lc := logConfig(ts)
	for _, p := range t.partitions {
		p.log.SetConfig(lc)
	}
	return nil
}

func (b *Broker) topicConfigs(t *topic) map[string]string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return t.configs
}

func (b *Broker) closeTopics() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for name, t := range b.mu.topics {
		for _, p := range t.partitions {
			if err := p.log.Close(); err != nil {
				errs = append(errs, fmt.Errorf("closing %s-%d: %w", name, p.index, err))
			}
		}
		delete(b.mu.topics, name)
	}
	return errors.Join(errs...)
}

func closePartitions(ps []*partition) {
	for _, p := range ps {
		p.log.Close()
	}
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

package group

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/broker/internaltopic"
)

// Config is the coordinator's settings and dependencies.
type Config struct {
	Now    func() time.Time // nil: time.Now
	NewID  func() string    // member id suffixes; nil: random UUIDs
	Logger *slog.Logger

	NumPartitions          int32         // partitions of __consumer_offsets
	MinSessionTimeout      time.Duration // group.min.session.timeout.ms
	MaxSessionTimeout      time.Duration // group.max.session.timeout.ms
	InitialRebalanceDelay  time.Duration // group.initial.rebalance.delay.ms
	OffsetsRetention       time.Duration // offsets.retention.minutes
	RetentionCheckInterval time.Duration // offsets.retention.check.interval.ms
	MaxMetadataBytes       int           // offset.metadata.max.bytes
	TickInterval           time.Duration // how often Run calls Tick; 0: 50ms

	// PartitionExists says whether a topic partition exists; commits and
	// offset deletes for others get UNKNOWN_TOPIC_OR_PARTITION. nil: all do.
	PartitionExists func(topic string, partition int32) bool

	// The consumer protocol (KIP-848).
	ConsumerHeartbeatInterval time.Duration // group.consumer.heartbeat.interval.ms; 0: 5s
	ConsumerSessionTimeout    time.Duration // group.consumer.session.timeout.ms; 0: 45s
	ConsumerMaxSize           int           // group.consumer.max.size; 0: 200
	// TopicByName resolves a subscribed topic to its id and partition
	// count; TopicByID names a topic a member reports by id. nil: no
	// topic exists.
	TopicByName func(name string) (id [16]byte, partitions int32, ok bool)
	TopicByID   func(id [16]byte) (name string, ok bool)
	// TopicNames lists every topic, for SubscribedTopicRegex (regex.go).
	// nil: none.
	TopicNames func() []string
	// RegexRefreshInterval is the least time between two resolutions of
	// a group's regexes; 0: Kafka's 10s.
	RegexRefreshInterval time.Duration
}

// Storage is where the coordinator's records go: the partitions of
// __consumer_offsets (internaltopic.Storage, the transaction
// coordinator's too). The broker's implementation appends through the
// partition logs; MemoryStorage is the in-memory one.
type Storage = internaltopic.Storage

// Client identifies who sent a request.
type Client struct {
	ID   string // the request header's client id
	Host string // the client's address, as Kafka shows it ("/127.0.0.1")
}

// Coordinator is the group coordinator for the __consumer_offsets
// partitions this broker leads.
type Coordinator struct {
	cfg    Config
	store  Storage
	logger *slog.Logger

	mu struct {
		sync.RWMutex
		groups        map[string]*Group
		partitions    internaltopic.Partitions // epochs unused: always 0
		lastRetention time.Time
		closed        bool
		// markers that reached a partition while it was loading (txn.go)
		loadingTxns map[int32][]txnEnd
	}
}

// New returns a coordinator that owns no partitions yet.
func New(cfg Config, store Storage) *Coordinator {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = randomUUID
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NumPartitions <= 0 {
		cfg.NumPartitions = 50
	}
	if cfg.MaxMetadataBytes <= 0 {
		cfg.MaxMetadataBytes = 4096
	}
	if cfg.ConsumerHeartbeatInterval <= 0 {
		cfg.ConsumerHeartbeatInterval = 5 * time.Second
	}
	if cfg.ConsumerSessionTimeout <= 0 {
		cfg.ConsumerSessionTimeout = 45 * time.Second
	}
	if cfg.ConsumerMaxSize <= 0 {
		cfg.ConsumerMaxSize = 200
	}
	if cfg.RegexRefreshInterval <= 0 {
		cfg.RegexRefreshInterval = defaultRegexRefreshInterval
	}
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = 50 * time.Millisecond
	}
	c := &Coordinator{cfg: cfg, store: store, logger: cfg.Logger}
	c.mu.groups = map[string]*Group{}
	c.mu.partitions = internaltopic.Partitions{}
	c.mu.lastRetention = cfg.Now()
	return c
}

func (c *Coordinator) now() time.Time { return c.cfg.Now() }

func (c *Coordinator) topicByName(name string) ([16]byte, int32, bool) {
	if c.cfg.TopicByName == nil {
		return [16]byte{}, 0, false
	}
	return c.cfg.TopicByName(name)
}

func (c *Coordinator) topicNames() []string {
	if c.cfg.TopicNames == nil {
		return nil
	}
	return c.cfg.TopicNames()
}

func (c *Coordinator) topicByID(id [16]byte) (string, bool) {
	if c.cfg.TopicByID == nil {
		return "", false
	}
	return c.cfg.TopicByID(id)
}

// PartitionFor is the __consumer_offsets partition holding group id, as
// Kafka computes it: Utils.abs(id.hashCode) % partitions, where abs masks
// the sign bit and hashCode is Java's over UTF-16 code units.
func (c *Coordinator) PartitionFor(id string) int32 {
	return PartitionFor(id, c.cfg.NumPartitions)
}

// PartitionFor is the __consumer_offsets partition of group id among n.
func PartitionFor(id string, n int32) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(id)) {
		h = 31*h + int32(u)
	}
	return int32(uint32(h)&0x7fffffff) % n
}

// Run calls Tick every TickInterval until ctx ends.
func (c *Coordinator) Run(ctx context.Context) {
	t := time.NewTicker(c.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.Tick()
		}
	}
}

// Close answers every waiting JoinGroup and SyncGroup with
// COORDINATOR_NOT_AVAILABLE and refuses later requests the same way.
func (c *Coordinator) Close() {
	c.mu.Lock()
	c.mu.closed = true
	groups := c.groupsLocked()
	c.mu.Unlock()
	for _, g := range groups {
		g.mu.Lock()
		g.failWaiters(kerr.CoordinatorNotAvailable)
		g.mu.Unlock()
	}
}

func (c *Coordinator) groupsLocked() []*Group {
	out := make([]*Group, 0, len(c.mu.groups))
	for _, g := range c.mu.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// snapshot returns every live group of a loaded partition.
func (c *Coordinator) snapshot() []*Group {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Group, 0, len(c.mu.groups))
	for _, g := range c.groupsLocked() {
		if c.mu.partitions.Owned(g.partition) {
			out = append(out, g)
		}
	}
	return out
}

// find returns the group (nil if absent and !create) or the error for a
// group whose partition is not served here.
func (c *Coordinator) find(id string, create bool) (*Group, *kerr.Error) {
	p := c.PartitionFor(id)
	c.mu.RLock()
	g, err := c.findLocked(id, p)
	c.mu.RUnlock()
	if err != nil || g != nil || !create {
		return g, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if g, err = c.findLocked(id, p); err != nil || g != nil {
		return g, err
	}
	g = newGroup(c, id, p)
	c.mu.groups[id] = g
	return g, nil
}

func (c *Coordinator) findLocked(id string, p int32) (*Group, *kerr.Error) {
	if c.mu.closed {
		return nil, kerr.CoordinatorNotAvailable
	}
	if err := c.mu.partitions.Err(p); err != nil {
		return nil, err
	}
	g := c.mu.groups[id]
	if g == nil || g.dead.Load() {
		return nil, nil
	}
	return g, nil
}

// lock finds (or creates) the group and returns it locked; the caller
// unlocks it with c.unlock.
func (c *Coordinator) lock(id string, create bool) (*Group, *kerr.Error) {
	for {
		g, err := c.find(id, create)
		if err != nil || g == nil {
			return nil, err
		}
		g.mu.Lock()
		if !g.dead.Load() {
			return g, nil
		}
		g.mu.Unlock()
		c.remove(g)
	}
}

// unlock releases g and drops it from the map if it died.
func (c *Coordinator) unlock(g *Group) {
	dead := g.dead.Load()
	g.mu.Unlock()
	if dead {
		c.remove(g)
	}
}

func (c *Coordinator) remove(g *Group) {
	c.mu.Lock()
	if c.mu.groups[g.id] == g {
		delete(c.mu.groups, g.id)
	}
	c.mu.Unlock()
}

// Tick fires every deadline that has passed: session and rebalance
// timeouts, the initial rebalance delay, pending syncs, and (every
// RetentionCheckInterval) offset expiry.
func (c *Coordinator) Tick() {
	now := c.now()
	c.mu.Lock()
	retention := c.cfg.RetentionCheckInterval > 0 && now.Sub(c.mu.lastRetention) >= c.cfg.RetentionCheckInterval
	if retention {
		c.mu.lastRetention = now
	}
	c.mu.Unlock()
	for _, g := range c.snapshot() {
		g.mu.Lock()
		if !g.dead.Load() {
			g.tick(now)
			if retention {
				g.expireOffsets(now)
			}
		}
		c.unlock(g)
	}
}

func randomUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

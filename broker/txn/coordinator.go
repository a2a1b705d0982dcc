package txn

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/broker/internaltopic"
)

// Config is the coordinator's settings and dependencies, with Kafka's
// names for the settings.
type Config struct {
	Now    func() time.Time // nil: time.Now
	Logger *slog.Logger

	NumPartitions       int32         // transaction.state.log.num.partitions; 0: 50
	OffsetsPartitions   int32         // offsets.topic.num.partitions (AddOffsetsToTxn); 0: 50
	MaxTimeout          time.Duration // transaction.max.timeout.ms; 0: 15m
	AbortCheckInterval  time.Duration // transaction.abort.timed.out.transaction.cleanup.interval.ms; 0: 10s
	IDExpiration        time.Duration // transactional.id.expiration.ms; 0: 7 days
	ExpireCheckInterval time.Duration // transaction.remove.expired.transaction.cleanup.interval.ms; 0: 1h
	MarkerRetryBackoff  time.Duration // wait before resending failed markers or a failed completion; 0: 100ms
	TickInterval        time.Duration // how often Run calls Tick; 0: 100ms
	TransactionVersion  int16         // the finalized transaction.version: 2 writes value version 1, else 0
	// FinalizedTransactionVersion, when set, is read at each append
	// instead of TransactionVersion (the broker's metadata image).
	FinalizedTransactionVersion func() int16
	NewProducerID               func() (int64, error)
	// PartitionExists says whether a topic partition exists;
	// AddPartitionsToTxn refuses others with UNKNOWN_TOPIC_OR_PARTITION and
	// markers to a partition that no longer exists are dropped. nil: all do.
	PartitionExists func(topic string, partition int32) bool
}

// Storage is where the coordinator's records go: the partitions of
// __transaction_state. It is the group coordinator's Storage
// (internaltopic.Storage), so the broker's implementation over its
// partition logs serves both.
type Storage = internaltopic.Storage

// MarkerWriter writes a transaction's markers to the leaders of its
// partitions (WriteTxnMarkers). WriteMarkers returns at once; it calls done
// exactly once, before returning or later from any goroutine, with the
// error of each partition whose marker was not written (nil or empty: all
// were).
type MarkerWriter interface {
	WriteMarkers(m Markers, done func(failed map[TopicPartition]error))
}

// Markers is one transaction's WriteTxnMarkers entry.
type Markers struct {
	TransactionalID  string
	ProducerID       int64
	ProducerEpoch    int16
	Commit           bool
	CoordinatorEpoch int32
	Partitions       []TopicPartition // sorted
}

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// Coordinator is the transaction coordinator for the __transaction_state
// partitions this broker leads.
type Coordinator struct {
	cfg     Config
	store   Storage
	markers MarkerWriter
	logger  *slog.Logger

	mu struct {
		sync.Mutex
		txns       map[string]*txn
		partitions internaltopic.Partitions // epoch: the coordinator epoch, the __transaction_state leader epoch
		lastAbort  time.Time
		lastExpire time.Time
		closed     bool

		committed, aborted int64 // Stats
		loads              int
		loadTime           time.Duration
	}
}

// New returns a coordinator that owns no partitions yet.
func New(cfg Config, store Storage, markers MarkerWriter) *Coordinator {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NumPartitions <= 0 {
		cfg.NumPartitions = 50
	}
	if cfg.OffsetsPartitions <= 0 {
		cfg.OffsetsPartitions = 50
	}
	setDefault(&cfg.MaxTimeout, 15*time.Minute)
	setDefault(&cfg.AbortCheckInterval, 10*time.Second)
	setDefault(&cfg.IDExpiration, 7*24*time.Hour)
	setDefault(&cfg.ExpireCheckInterval, time.Hour)
	setDefault(&cfg.MarkerRetryBackoff, 100*time.Millisecond)
	setDefault(&cfg.TickInterval, 100*time.Millisecond)
	if cfg.NewProducerID == nil {
		cfg.NewProducerID = func() (int64, error) { return 0, kerr.CoordinatorNotAvailable }
	}
	c := &Coordinator{cfg: cfg, store: store, markers: markers, logger: cfg.Logger}
	c.mu.txns = map[string]*txn{}
	c.mu.partitions = internaltopic.Partitions{}
	c.mu.lastAbort, c.mu.lastExpire = cfg.Now(), cfg.Now()
	return c
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

func (c *Coordinator) now() time.Time { return c.cfg.Now() }

// PartitionFor is the __transaction_state partition of transactional id id.
func (c *Coordinator) PartitionFor(id string) int32 { return PartitionFor(id, c.cfg.NumPartitions) }

func (c *Coordinator) partitionExists(tp TopicPartition) bool {
	return c.cfg.PartitionExists == nil || c.cfg.PartitionExists(tp.Topic, tp.Partition)
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

// Close refuses later requests with COORDINATOR_NOT_AVAILABLE and stops
// resending markers. Marker writes in flight complete or are dropped.
func (c *Coordinator) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.closed = true
}

// lookup returns the transaction (nil if absent) or the error for an id
// whose partition is not served here.
func (c *Coordinator) lookup(id string) (*txn, *kerr.Error) {
	p := c.PartitionFor(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.servedLocked(p); err != nil {
		return nil, err
	}
	return c.mu.txns[id], nil
}

func (c *Coordinator) servedLocked(p int32) *kerr.Error {
	if c.mu.closed {
		return kerr.CoordinatorNotAvailable
	}
	return c.mu.partitions.Err(p)
}

// lock returns id's transaction locked (nil if it does not exist), or the
// error for an id not served here; the caller unlocks it.
func (c *Coordinator) lock(id string) (*txn, *kerr.Error) {
	for {
		t, err := c.lookup(id)
		if err != nil || t == nil {
			return nil, err
		}
		t.mu.Lock()
		if !t.gone {
			return t, nil
		}
		t.mu.Unlock()
	}
}

// lockOrCreate is lock, creating an Empty transaction with a new producer
// id (not yet stored: its first record is the InitProducerId that follows)
// when id has none.
func (c *Coordinator) lockOrCreate(id string) (*txn, *kerr.Error) {
	if t, err := c.lock(id); err != nil || t != nil {
		return t, err
	}
	pid, err := c.cfg.NewProducerID()
	if err != nil {
		return nil, errorCode(err)
	}
	p := c.PartitionFor(id)
	c.mu.Lock()
	if err := c.servedLocked(p); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	t := c.mu.txns[id]
	if t == nil {
		t = newTxn(c, id, p, c.mu.partitions[p].Epoch)
		t.meta.producerID, t.meta.state = pid, Empty
		t.meta.lastUpdateMs = c.now().UnixMilli()
		c.mu.txns[id] = t
	}
	c.mu.Unlock()
	t.mu.Lock()
	if t.gone {
		t.mu.Unlock()
		return c.lockOrCreate(id)
	}
	return t, nil
}

// remove drops t from the map (its id expired).
func (c *Coordinator) remove(t *txn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.txns[t.id] == t {
		delete(c.mu.txns, t.id)
	}
}

// loaded returns every transaction of a loaded partition, by id.
func (c *Coordinator) loaded() []*txn {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*txn, 0, len(c.mu.txns))
	for _, t := range c.mu.txns {
		if c.mu.partitions.Owned(t.partition) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// errorCode is what a client is told of a failed append or producer id
// allocation (internaltopic.ErrorCode).
var errorCode = internaltopic.ErrorCode

// transactionVersion is the finalized transaction.version now.
func (c *Coordinator) transactionVersion() int16 {
	if f := c.cfg.FinalizedTransactionVersion; f != nil {
		return f()
	}
	return c.cfg.TransactionVersion
}

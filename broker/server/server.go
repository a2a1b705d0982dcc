package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/weirhq/weir/broker/acl"
	"github.com/weirhq/weir/broker/config"
	"github.com/weirhq/weir/broker/group"
	"github.com/weirhq/weir/broker/lifecycle"
	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/metrics"
	"github.com/weirhq/weir/broker/protocol"
	"github.com/weirhq/weir/broker/quorum"
	"github.com/weirhq/weir/broker/replication"
	"github.com/weirhq/weir/broker/txn"
	"github.com/weirhq/weir/broker/volume"
	"github.com/weirhq/weir/internal/ratelog"
	"github.com/weirhq/weir/internal/vfs"
)

// Options are the broker's dependencies.
type Options struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: a new registry, served on the admin port
	// Now is the broker's clock (nil: time.Now): every timestamp it
	// stamps or compares (append times, retention, sessions, ISR lag,
	// quotas, backoffs) is read from it, here and in the packages the
	// broker passes it to (log, group, replication, lifecycle). Timers,
	// socket deadlines and request latencies are on the wall clock.
	Now func() time.Time
	// FS is the log dirs' filesystem; nil: vfs.Default, the disk.
	FS vfs.FS
	// BootstrapFeatures are the feature levels a new metadata log starts
	// at when this broker's controller initialises it (nil:
	// quorum.BootstrapFeatures, the newest weir.metadata.version). A
	// non-nil empty map starts a cluster as an older Weir did, at level
	// 0 of everything (tests of the upgrade path).
	BootstrapFeatures map[string]int16
}

// Broker is one Kafka broker.
type Broker struct {
	cfg     *config.Config
	logger  *slog.Logger
	now     func() time.Time
	fs      vfs.FS
	metrics *metrics.Broker

	bootstrap map[string]int16 // Options.BootstrapFeatures
	gather    prometheus.Gatherer

	// The metadata quorum (quorum.go) and the loops around it.
	node    *quorum.Node
	stream  *quorum.Stream
	voters  map[int32]string      // controller.quorum.voters: id → Kafka address
	cluster string                // cluster id
	ctrl    *lifecycle.Controller // broker/lifecycle: acts while this node leads
	life    *lifecycle.Lifecycle  // broker/lifecycle: registration, heartbeats, ISR changes
	repl    *replication.Manager  // broker/replication: roles, fetchers, throttles
	pids    producerIDs           // 22_init_producer_id.go

	// featuresMu serializes the controller's feature checks with their
	// proposals: UpdateFeatures' raise and BrokerRegistration's
	// registration each check the image and propose under it, so neither
	// passes its check against an image the other is about to change
	// (Kafka's controller is one thread). Taken alone; Propose takes no lock.
	featuresMu sync.Mutex

	sentFromFiles atomic.Int64 // Fetch record sets sent with sendfile (01_fetch.go fetchFiles)

	appliedMu struct { // the metadata version this broker has applied
		sync.Mutex
		version uint64
		ch      chan struct{} // closed when version moves
	}

	volume *volume.Volume // provisioned storage (provisioned.go)

	hwStart map[replication.TopicPartition]int64 // checkpointed high watermarks, read at start
	// closedAt are the log dirs' close checkpoints (wlog.CloseAll at the
	// last shutdown), taken at start; each log's line goes to its Open once.
	closedAt struct {
		sync.Mutex
		m map[string]wlog.ClosedAt
	}

	ln      net.Listener      // the first listener's (Addr)
	lns     []*brokerListener // every listener (security.go)
	adminLn net.Listener
	admin   *http.Server

	ready atomic.Bool
	wg    sync.WaitGroup

	// ctx is cancelled when Run begins shutting down; long polls watch it.
	ctx    context.Context
	cancel context.CancelFunc

	mu struct {
		sync.RWMutex
		topics map[string]*topic
		byID   map[quorum.TopicID]*topic
	}
	// hosted is the hosted partitions' snapshot (allPartitions), nil
	// when the set changed since it was built: every change to
	// mu.topics or a topic's partitions stores nil under mu's write lock.
	hosted atomic.Pointer[hostedSet]

	connMu struct {
		sync.Mutex
		conns map[net.Conn]struct{}
	}

	groups   *group.Coordinator // groups.go
	groupsMu groupsState

	txns     *txn.Coordinator // transactions.go
	txnState txnState
	authz    *acl.Authorizer  // nil: authorizer.class.name unset (authz.go)
	authLog  *ratelog.Limiter // failed authentications' log lines
	// peerDial connects to other brokers' inter-broker listener: TLS
	// with this broker's certificate when it is SSL, else nil (TCP).
	peerDial protocol.Dialer
}

// New opens the broker's storage and binds its listeners. The broker
// serves nothing until Run.
func New(cfg *config.Config, opts Options) (*Broker, error) {
	b := &Broker{cfg: cfg, logger: opts.Logger, now: opts.Now, fs: vfs.OrDefault(opts.FS), bootstrap: opts.BootstrapFeatures}
	if b.logger == nil {
		b.logger = slog.Default()
	}
	if b.now == nil {
		b.now = time.Now
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.mu.topics = map[string]*topic{}
	b.mu.byID = map[quorum.TopicID]*topic{}
	b.connMu.conns = map[net.Conn]struct{}{}
	b.setupMetrics(opts.Registerer)
	b.setupAuthorizer()
	if err := b.setupPeerTLS(); err != nil {
		return nil, err
	}
	b.repl = replication.New(b.ctx, replication.Options{
		NodeID: cfg.NodeID, FetchMaxBytes: cfg.ReplicaFetchMaxBytes, Fetchers: cfg.NumReplicaFetchers, Logger: b.logger, Now: b.now,
		FetchMaxWait: cfg.ReplicaFetchWaitMax, SocketTimeout: cfg.ReplicaSocketTimeout,
		Addr: b.brokerAddr, Goroutine: b.goroutine, BytesIn: b.metrics.ReplicationBytesIn,
		Dial: b.peerDial, ISRChanged: b.countISRChanges,
	})
	if replication.EnableTraceFromEnv(cfg.NodeID) {
		b.logger.Warn("replication trace on (WEIR_TRACE_REPLICATION=1): served at /debug/replication/trace")
	}

	if err := b.cfg.PrepareLogDirs(); err != nil {
		return nil, err
	}
	b.volume = volume.New(cfg.LogDirs, volume.Options{NodeID: cfg.NodeID, Logger: b.logger})
	b.volume.SetProvisioned(cfg.StorageProvisionedBytes)
	if err := b.listen(); err != nil {
		return nil, err
	}
	if err := setMaxOpenFiles(cfg.LogMaxOpenFiles, b.logger); err != nil {
		b.closeListeners()
		return nil, err
	}
	if err := b.prepareStorage(); err != nil {
		b.closeListeners()
		return nil, err
	}
	b.hwStart = replication.ReadHWCheckpoints(b.fs, b.cfg.LogDirs, b.logger)
	b.takeCloseCheckpoints()
	if err := b.openQuorum(); err != nil {
		b.closeListeners()
		return nil, err
	}
	b.ctrl, b.life = b.newLifecycle()
	b.groups = b.newCoordinator()
	b.txns = b.newTxnCoordinator()
	return b, nil
}

func (b *Broker) closeListeners() {
	for _, l := range b.lns {
		l.ln.Close()
	}
	if b.adminLn != nil {
		b.adminLn.Close()
	}
}

func (b *Broker) setupMetrics(reg prometheus.Registerer) {
	if reg == nil {
		r := prometheus.NewRegistry()
		r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg, b.gather = r, r
	} else if g, ok := reg.(prometheus.Gatherer); ok {
		b.gather = g
	} else {
		b.gather = prometheus.DefaultGatherer
	}
	b.metrics = metrics.New(reg, b)
	reg.MustRegister(newTxnCollector(b))
}

func (b *Broker) listen() error {
	if len(b.cfg.Listeners) == 0 {
		return errors.New("listeners: no listener configured")
	}
	for _, l := range b.cfg.Listeners {
		bl := &brokerListener{cfg: l}
		err := b.newListenerSecurity(bl)
		if err == nil {
			bl.ln, err = net.Listen("tcp", l.Addr())
			if err != nil {
				err = fmt.Errorf("listeners: binding %s: %w", l.Addr(), err)
			}
		}
		if err != nil {
			b.closeListeners()
			return err
		}
		b.lns = append(b.lns, bl)
	}
	b.ln = b.lns[0].ln
	if b.cfg.AdminListener == "" || b.cfg.AdminListener == "off" {
		return nil
	}
	aln, err := net.Listen("tcp", b.cfg.AdminListener)
	if err != nil {
		b.closeListeners()
		return fmt.Errorf("weir.admin.listener: binding %s: %w", b.cfg.AdminListener, err)
	}
	b.adminLn = aln
	return nil
}

// Addr is the (first) Kafka listener's address.
func (b *Broker) Addr() net.Addr { return b.ln.Addr() }

// ListenerAddr is the address of the listener named name, nil if none.
func (b *Broker) ListenerAddr(name string) net.Addr {
	if l := b.listenerNamed(name); l != nil {
		return l.ln.Addr()
	}
	return nil
}

func (b *Broker) listenerNamed(name string) *brokerListener {
	for _, l := range b.lns {
		if l.cfg.Name == name {
			return l
		}
	}
	return nil
}

// AdminAddr is the admin HTTP listener's address, nil when disabled.
func (b *Broker) AdminAddr() net.Addr {
	if b.adminLn == nil {
		return nil
	}
	return b.adminLn.Addr()
}

// goroutine runs f on a tracked goroutine: Run waits for all of them.
func (b *Broker) goroutine(f func()) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f()
	}()
}

// Run serves until ctx is done, then stops accepting, closes every
// connection, waits for in-flight requests and closes the logs cleanly
// (flushing them and snapshotting producer state).
func (b *Broker) Run(ctx context.Context) error {
	for _, l := range b.lns {
		b.goroutine(func() { b.acceptLoop(l) })
	}
	if b.adminLn != nil {
		b.admin = &http.Server{Handler: b.adminMux(), ReadHeaderTimeout: 10 * time.Second}
		b.goroutine(func() {
			if err := b.admin.Serve(b.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				b.logger.Error("admin HTTP server stopped", "err", err)
			}
		})
	}
	b.goroutine(b.maintenanceLoop)
	b.goroutine(b.cleanerLoop)
	b.goroutine(b.metadataLoop)
	b.goroutine(b.ctrl.Run)
	b.goroutine(b.life.Run)
	b.goroutine(func() { b.groups.Run(b.ctx) })
	b.goroutine(func() { b.txns.Run(b.ctx) })
	b.logger.Info("broker started", "node.id", b.cfg.NodeID, "cluster.id", b.cluster,
		"listener", b.ln.Addr().String(), "admin", addrString(b.AdminAddr()), "log.dirs", b.cfg.LogDirs,
		"voters", b.cfg.ControllerQuorumVoters)

	<-ctx.Done()
	b.logger.Info("broker shutting down")
	start := time.Now()
	b.life.RequestShutdown() // controlled shutdown: leaderships move first
	controlled := time.Since(start)
	b.ready.Store(false)
	b.cancel()
	b.groups.Close()
	b.txns.Close()
	b.closeMarkerPeers()
	for _, l := range b.lns {
		l.ln.Close()
	}
	if b.admin != nil {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		b.admin.Shutdown(shutdownCtx)
		cancel()
	}
	b.closeConns()
	b.wg.Wait()
	stopped := time.Since(start)
	b.writeHWCheckpoints()
	nerr := b.node.Close()
	quorumClosed := time.Since(start)
	logs, lerr := b.closeTopics()
	err := errors.Join(nerr, lerr)
	// The phases' times say where a slow stop went (the controlled
	// shutdown, the goroutines' ends, the raft node, closing the logs).
	b.logger.Info("broker shutdown phases", "controlled_shutdown", controlled.Round(time.Millisecond),
		"goroutines_stopped", stopped.Round(time.Millisecond), "quorum_closed", quorumClosed.Round(time.Millisecond),
		"logs_write", logs.Write.Round(time.Millisecond), "logs_syncfs", logs.Sync.Round(time.Millisecond),
		"total", time.Since(start).Round(time.Millisecond))
	return err
}

func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}

func (b *Broker) adminMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(b.gather, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !b.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	// Profiles for `go tool pprof` (CPU, heap, allocations, goroutines,
	// mutex and block): the admin listener is the operator's own port
	// (weir.admin.listener, localhost by default), never the Kafka one.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// The replication trace (WEIR_TRACE_REPLICATION=1; empty otherwise).
	mux.HandleFunc("/debug/replication/trace", func(w http.ResponseWriter, _ *http.Request) {
		replication.WriteTrace(w)
	})
	return mux
}

// cleanerLoop compacts cleanup.policy=compact partitions, as Kafka's log
// cleaner thread does, on its own goroutine (log.cleaner.enable=false
// turns it off). The log paces itself: a partition is looked at every
// second and cleaned only when due.
func (b *Broker) cleanerLoop() {
	if v, _ := b.cfg.Value("log.cleaner.enable"); v == "false" {
		b.logger.Warn("log.cleaner.enable=false: compacted topics, __consumer_offsets included, are not cleaned")
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-tick.C:
		}
		for _, p := range b.allPartitions() {
			if b.ctx.Err() != nil {
				return
			}
			p.clean(b, b.now())
		}
	}
}

// hwCheckpointInterval is replica.high.watermark.checkpoint.interval.ms.
const hwCheckpointInterval = 5 * time.Second

// maintenanceLoop rolls, flushes and applies retention on a schedule,
// checkpoints high watermarks and samples the log dirs' filesystems for
// the storage limit.
func (b *Broker) maintenanceLoop() {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastRetention, lastCheckpoint := b.now(), b.now()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-tick.C:
		}
		now := b.now()
		retention := now.Sub(lastRetention) >= b.cfg.LogRetentionCheckInterval
		if retention {
			lastRetention = now
		}
		for _, p := range b.allPartitions() {
			p.maintain(b, now, retention)
		}
		b.volume.Refresh()
		if now.Sub(lastCheckpoint) >= hwCheckpointInterval {
			lastCheckpoint = now
			b.writeHWCheckpoints()
		}
	}
}

// writeHWCheckpoints checkpoints every hosted partition's high watermark.
func (b *Broker) writeHWCheckpoints() {
	replication.WriteHWCheckpoints(b.fs, b.cfg.LogDirs, b.allReplicas(), b.logger)
}

// newLifecycle wires the controller and the broker's lifecycle
// (broker/lifecycle) to the quorum node and the hosted partitions.
func (b *Broker) newLifecycle() (*lifecycle.Controller, *lifecycle.Lifecycle) {
	timing := lifecycle.TimingOf(b.cfg)
	ctrl := lifecycle.NewController(b.ctx, lifecycle.ControllerOptions{
		NodeID: b.cfg.NodeID, ClusterID: b.cluster, Timing: timing, AutoRebalance: b.cfg.AutoLeaderRebalance,
		Quorum: b.node, Logger: b.logger, Now: b.now, BootstrapFeatures: b.bootstrap,
	})
	life := lifecycle.New(b.ctx, lifecycle.Options{
		NodeID: b.cfg.NodeID, Rack: b.cfg.BrokerRack, ClusterID: b.cluster, Listener: b.advertised(), Listeners: b.otherAdvertised(), Dial: b.peerDial,
		Voters: b.voters, Timing: timing, LagMax: b.cfg.ReplicaLagTimeMax, Quorum: b.node,
		Logger: b.logger, Now: b.now, PeerAddr: b.peerAddr, Partitions: b.allReplicas,
		Lookup: func(topic string, partition int32) *replication.Replica {
			if p := b.lookup(topic, partition); p != nil {
				return p.rep
			}
			return nil
		},
		Goroutine:  b.goroutine,
		ISRChanged: b.countISRChanges,
	})
	return ctrl, life
}

// countISRChanges counts the ISR changes of led partitions this broker
// asked for and saw committed (IsrShrinksPerSec, IsrExpandsPerSec).
func (b *Broker) countISRChanges(shrinks, expands int) {
	b.metrics.ISRShrinks.Add(float64(shrinks))
	b.metrics.ISRExpands.Add(float64(expands))
}

// allReplicas are the replicas of every hosted partition.
func (b *Broker) allReplicas() []*replication.Replica {
	return b.hostedSnapshot().reps
}

func replicasOf(ps []*partition) []*replication.Replica {
	reps := make([]*replication.Replica, len(ps))
	for i, p := range ps {
		reps[i] = p.rep
	}
	return reps
}

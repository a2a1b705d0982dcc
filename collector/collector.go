package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/collector/anomaly"
	"github.com/weirhq/weir/collector/api"
	"github.com/weirhq/weir/collector/console"
	"github.com/weirhq/weir/collector/executor"
	"github.com/weirhq/weir/collector/model"
	"github.com/weirhq/weir/collector/monitor"
	"github.com/weirhq/weir/internal/httpauth"
	"github.com/weirhq/weir/internal/kafkaclient"
)

// Collector is one running collector.
type Collector struct {
	cfg    Config
	logger *slog.Logger
	reg    *prometheus.Registry
	client *kgo.Client
	mon    *monitor.Monitor
	exec   *executor.Executor
	api    *api.Server
	anom   *anomaly.Manager
	con    *console.Console
	ln     net.Listener
	token  string // the API's bearer token ("": none)
}

// New connects the parts; nothing runs until Run. The listener is bound
// here, so a port in use fails at once and Addr is known before Run.
func New(cfg Config, logger *slog.Logger) (*Collector, error) {
	c := &Collector{cfg: cfg, logger: logger, reg: prometheus.NewRegistry()}
	var history, actions string // the anomaly detector's history, the console's action log
	c.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating the data directory: %w", err)
		}
		cfg.Executor.StateFile = filepath.Join(cfg.DataDir, "execution.json")
		history = filepath.Join(cfg.DataDir, "anomalies.json")
		actions = filepath.Join(cfg.DataDir, "console-actions.jsonl")
	}
	sec, err := kafkaclient.Load(cfg.ClientConfig)
	if err != nil {
		return nil, fmt.Errorf("kafka.client.config: %w", err)
	}
	if cfg.TokenFile != "" {
		if c.token, err = httpauth.LoadOrCreateToken(cfg.TokenFile); err != nil {
			return nil, fmt.Errorf("webserver.auth.token.file: %w", err)
		}
	}
	// kadm answers Metadata from kgo's cache for MetadataMinAge (5 s by
	// default): the executor would see a finished reassignment as not
	// done, and the monitor a moved replica where it was. A short age
	// keeps every metadata read fresh; the collector reads it a few times
	// a second at most.
	c.client, err = kgo.NewClient(append(sec, kgo.SeedBrokers(cfg.BootstrapServers...), kgo.ClientID(cfg.ClientID),
		kgo.MetadataMinAge(100*time.Millisecond))...)
	if err != nil {
		return nil, fmt.Errorf("creating the Kafka client: %w", err)
	}
	if c.mon, err = monitor.New(c.client, cfg.Monitor, logger.With("part", "monitor"), c.reg); err != nil {
		c.client.Close()
		return nil, err
	}
	adm := kadm.NewClient(c.client)
	c.exec = executor.New(adm, cfg.Executor, logger.With("part", "executor"), c.reg)
	cfg.Anomaly.DiskThreshold = cfg.Planner.CapacityThreshold[model.Disk]
	c.anom, err = anomaly.New(anomaly.Options{Config: cfg.Anomaly, Planner: cfg.Planner, Monitor: c.mon, Executor: c.exec,
		Admin: adm, Proposal: func() (*model.Cluster, *model.Proposal, time.Time) { return c.api.LatestProposal() },
		HistoryFile: history, Logger: logger.With("part", "anomaly"), Registerer: c.reg})
	if err != nil {
		c.client.Close()
		return nil, err
	}
	c.api = api.New(api.Options{Monitor: c.mon, Executor: c.exec, Admin: adm, Planner: cfg.Planner, Anomalies: c.anom,
		MaxBlock: cfg.MaxBlock, TaskRetention: cfg.TaskRetention, MaxActiveTasks: cfg.MaxActiveTasks,
		Logger: logger.With("part", "api"), Registerer: c.reg})
	c.con, err = console.New(console.Options{Client: c.client, Seeds: cfg.BootstrapServers, ClientOpts: sec, API: c.api.Handler(),
		ControlPlane: cfg.ControlPlane, Autoscaler: cfg.Autoscaler, ActionLog: actions, Logger: logger.With("part", "console")})
	if err != nil {
		c.client.Close()
		return nil, err
	}
	if c.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		c.client.Close()
		return nil, fmt.Errorf("listening on %s (webserver.http.address/port): %w", cfg.Listen, err)
	}
	return c, nil
}

// Addr is the address the REST API listens on.
func (c *Collector) Addr() string { return c.ln.Addr().String() }

// Anomalies returns the anomaly detector's kept anomalies, newest first:
// what was seen, what was done and when.
func (c *Collector) Anomalies() []anomaly.Anomaly { return c.anom.Recent() }

// Token is the bearer token the API asks for ("": none).
func (c *Collector) Token() string { return c.token }

// Handler serves Cruise Control's API under /kafkacruisecontrol/, the
// web console under /console/ (/ redirects there), /metrics and /healthz;
// with a token (webserver.auth.token.file) all but the last two need it.
func (c *Collector) Handler() http.Handler {
	if c.token == "" {
		return c.routes()
	}
	return httpauth.Middleware(httpauth.Config{Token: c.token, Open: []string{"/metrics", "/healthz"}}, c.routes())
}

func (c *Collector) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(api.Prefix, c.api.Handler())
	mux.Handle(console.Prefix, c.con.Handler())
	mux.Handle("GET /{$}", http.RedirectHandler(console.Prefix, http.StatusFound))
	mux.Handle("/metrics", promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

// Run runs the monitor, the executor, the proposal refresher, the anomaly
// detector and the HTTP server until ctx ends, then stops them all and waits for them.
func (c *Collector) Run(ctx context.Context) error {
	defer c.client.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	run := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	run("monitor", func() error { return c.mon.Run(ctx) })
	run("executor", func() error { return c.exec.Run(ctx) })
	run("proposals", func() error { return c.refresh(ctx) })
	run("anomaly detector", func() error { return c.anom.Run(ctx) })
	run("http", func() error { return srv.Serve(c.ln) })
	c.logger.Info("collector up", "api", "http://"+c.Addr()+api.Prefix, "console", "http://"+c.Addr()+console.Prefix, "bootstrap", c.cfg.BootstrapServers)
	<-ctx.Done()
	shut, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	srv.Shutdown(shut)
	c.api.Close()
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func collect(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}

// refresh recomputes the default proposal every ProposalRefresh, and
// every few seconds until the first model is ready.
func (c *Collector) refresh(ctx context.Context) error {
	wait := time.Second
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		if err := c.api.RefreshProposal(); err != nil {
			c.logger.Debug("no proposal yet", "err", err)
			wait = min(c.cfg.ProposalRefresh, 5*time.Second)
			continue
		}
		wait = c.cfg.ProposalRefresh
	}
}

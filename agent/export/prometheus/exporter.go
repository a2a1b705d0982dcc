// Package prometheus serves the agent's snapshots the way MSK open
// monitoring does: a broker endpoint (default :11001, where MSK runs the JMX
// exporter) and a node endpoint (default :11002, node_exporter's place).
//
// The broker endpoint re-exports the broker's own series under their own
// (JMX exporter) names, adds kafka_exporter's names for offsets and
// consumer lag, Weir's time-lag series and the agent's health. The node
// endpoint uses node_exporter's names. Both are computed at scrape time from
// the latest snapshot by custom collectors on injected registries, so a
// scrape costs one pass over the snapshot and nothing between scrapes.
//
// The monitoring level and the topic and group filters decide which series
// exist (docs/AGENT.md lists them per level).
package prometheus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/weirhq/weir/agent/snapshot"
)

// Options configure an Exporter.
type Options struct {
	BrokerListen string // broker endpoint address, ":11001"
	NodeListen   string // node endpoint address, ":11002"
	Level        snapshot.Level
	Topics       func(string) bool // nil: all
	Groups       func(string) bool // nil: all
	Logger       *slog.Logger
}

// Exporter keeps the latest snapshot and serves it.
type Exporter struct {
	opts   Options
	latest atomic.Pointer[snapshot.Snapshot]

	brokerGatherer prometheus.Gatherer
	nodeGatherer   prometheus.Gatherer

	brokerLn, nodeLn net.Listener // set by Listen
}

// New returns an exporter with its own registries.
func New(opts Options) *Exporter {
	if opts.Topics == nil {
		opts.Topics = func(string) bool { return true }
	}
	if opts.Groups == nil {
		opts.Groups = func(string) bool { return true }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Exporter{opts: opts}
	br := prometheus.NewPedanticRegistry()
	br.MustRegister(&kafkaCollector{e: e})
	e.brokerGatherer = prometheus.Gatherers{br, prometheus.GathererFunc(e.reexport)}
	nr := prometheus.NewPedanticRegistry()
	nr.MustRegister(&nodeCollector{e: e})
	e.nodeGatherer = nr
	return e
}

// Name implements snapshot.Exporter.
func (e *Exporter) Name() string { return "prometheus" }

// Export implements snapshot.Exporter: the snapshot becomes what the next
// scrape sees.
func (e *Exporter) Export(_ context.Context, s *snapshot.Snapshot) error {
	e.latest.Store(s)
	return nil
}

// BrokerHandler serves the broker endpoint's /metrics.
func (e *Exporter) BrokerHandler() http.Handler {
	return promhttp.HandlerFor(e.brokerGatherer, promhttp.HandlerOpts{ErrorLog: slogLogger{e.opts.Logger}})
}

// NodeHandler serves the node endpoint's /metrics.
func (e *Exporter) NodeHandler() http.Handler {
	return promhttp.HandlerFor(e.nodeGatherer, promhttp.HandlerOpts{ErrorLog: slogLogger{e.opts.Logger}})
}

// Listen binds both endpoints, so a port in use fails the agent's start.
func (e *Exporter) Listen() error {
	var err error
	if e.brokerLn, err = net.Listen("tcp", e.opts.BrokerListen); err != nil {
		return fmt.Errorf("prometheus broker endpoint: %w", err)
	}
	if e.nodeLn, err = net.Listen("tcp", e.opts.NodeListen); err != nil {
		e.brokerLn.Close()
		return fmt.Errorf("prometheus node endpoint: %w", err)
	}
	return nil
}

// Addrs returns the bound broker and node addresses (after Listen).
func (e *Exporter) Addrs() (broker, node net.Addr) { return e.brokerLn.Addr(), e.nodeLn.Addr() }

// Serve serves both endpoints until ctx ends, then shuts them down.
func (e *Exporter) Serve(ctx context.Context) error {
	if e.brokerLn == nil {
		if err := e.Listen(); err != nil {
			return err
		}
	}
	servers := []*http.Server{newServer(e.BrokerHandler()), newServer(e.NodeHandler())}
	lns := []net.Listener{e.brokerLn, e.nodeLn}
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Add(1)
		go func() { // owned by Serve: it waits for wg below
			defer wg.Done()
			if err := srv.Serve(lns[i]); !errors.Is(err, http.ErrServerClosed) {
				errs[i] = err
			}
		}()
	}
	<-ctx.Done()
	for _, srv := range servers {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(sctx)
		cancel()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func newServer(h http.Handler) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "weir agent: metrics at /metrics")
	})
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
}

// slogLogger adapts slog to promhttp's Println logger.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Println(v ...any) { s.l.Warn("serving metrics", "err", fmt.Sprint(v...)) }

package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/weirhq/weir/broker/config"
)

// UpConfig is what `weir up` runs.
type UpConfig struct {
	Dir     string
	Request Request
	Agents  bool // run `weir agent` beside each broker, if the binary has it
	// Collector runs `weir collector` for the cluster (with Agents: it
	// models the load the agents sample).
	Collector bool
	// Monitoring, when not nil, runs Prometheus (Weir's rules, scraping
	// every broker, agent and the collector) and Alertmanager, if installed.
	Monitoring *MonitoringConfig
	// AutoscalerPolicy, when set (and with the collector), runs `weir
	// autoscaler` with this policy file against the control plane.
	AutoscalerPolicy string
	Executable       string        // the weir binary the children run
	ReadyTimeout     time.Duration // 0: 60 s
	StopTimeout      time.Duration // 0: 30 s
	Out              io.Writer     // the endpoint summary
	Logger           *log.Logger   // supervision events
	Version          string        // the weir version, as the control plane describes it
}

// Up prepares the cluster directory, starts every broker (and agent), waits
// until they are ready, writes endpoints.json, prints the endpoints and
// supervises until ctx ends; then it stops everything and returns nil.
func Up(ctx context.Context, cfg UpConfig) error {
	l, err := NewLayout(cfg.Dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		return fmt.Errorf("creating the cluster directory: %w", err)
	}
	release, err := lockDir(l)
	if err != nil {
		return err
	}
	defer release()
	spec, procs, sec, err := prepare(l, cfg)
	if err != nil {
		return err
	}
	defer os.Remove(l.EndpointsPath())
	deleted, err := run(ctx, cfg, l, spec, procs, sec)
	if err != nil || !deleted {
		return err
	}
	release()
	if err := removeCluster(l); err != nil {
		return fmt.Errorf("the cluster was deleted and every process stopped, but removing its files failed: %w", err)
	}
	cfg.Logger.Printf("cluster %s deleted: every process stopped, %s removed", spec.ClusterID, l.Dir)
	return nil
}

// run supervises the processes and serves the control plane until ctx
// ends.
func run(ctx context.Context, cfg UpConfig, l Layout, spec Spec, procs []Process, sec *security) (deleted bool, err error) {
	ctx, shutdown := context.WithCancel(ctx)
	defer shutdown()
	var cp *ControlPlane
	sup := NewSupervisor(procs, supervisorOptions(cfg, l, sec, func() Spec { return cp.Spec() }, func() { cp.Ready() }))
	collector := ""
	if hasCollector(procs) {
		collector = spec.Collector()
	}
	cp, err = NewControlPlane(ControlPlaneOptions{Layout: l, Spec: spec, Supervisor: sup, Executable: cfg.Executable,
		Agents: hasAgents(procs), Collector: collector, Logger: cfg.Logger,
		OnChange: func() {
			writeEndpointsNow(ctx, cfg, l, sup, cp, sec)
			rescrape(cfg, l, cp.Spec(), procs)
		},
		Shutdown: shutdown})
	if err != nil {
		return false, err
	}
	defer cp.Close()
	cp.Watch()
	ln, err := net.Listen("tcp", spec.Control())
	if err != nil {
		return false, fmt.Errorf("listening for the control plane on %s: %w", spec.Control(), err)
	}
	h, err := guard(l, spec, cp.Handler(cfg.Version, func() []Status {
		st, _ := sup.Statuses(ctx)
		return st
	}))
	if err != nil {
		ln.Close()
		return false, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	serveDone := make(chan struct{})
	go func() { // owned by run: waited for below
		defer close(serveDone)
		srv.Serve(ln)
	}()
	defer func() {
		srv.Close()
		<-serveDone
	}()
	if err := sup.Run(ctx); err != nil {
		return false, err
	}
	return cp.Deleting(), nil
}

// writeEndpointsNow rewrites endpoints.json after the control plane
// changed the cluster's shape.
func writeEndpointsNow(ctx context.Context, cfg UpConfig, l Layout, sup *Supervisor, cp *ControlPlane, sec *security) {
	st, err := sup.Statuses(ctx)
	if err != nil {
		return
	}
	if err := WriteEndpoints(l, endpoints(cp.Spec(), l, st, time.Now(), sec)); err != nil {
		cfg.Logger.Printf("%v", err)
	}
}

// rescrape rewrites Prometheus's target files after the cluster's shape
// changed, when weir up runs Prometheus: new brokers are scraped, removed
// ones are not, without a restart.
func rescrape(cfg UpConfig, l Layout, s Spec, procs []Process) {
	if !slices.ContainsFunc(procs, func(p Process) bool { return p.Name == prometheusName }) {
		return
	}
	m := monitored{agents: hasAgents(procs), collector: hasCollector(procs),
		autoscaler: slices.ContainsFunc(procs, func(p Process) bool { return p.Name == autoscalerName })}
	if err := WriteTargets(l.TargetsDir(), monitoringTargets(s, l, m)); err != nil {
		cfg.Logger.Printf("monitoring: %v", err)
	}
}

func hasCollector(procs []Process) bool {
	return slices.ContainsFunc(procs, func(p Process) bool { return p.Name == collectorName })
}

func hasAgents(procs []Process) bool {
	return slices.ContainsFunc(procs, func(p Process) bool { return strings.HasPrefix(p.Name, "agent ") })
}

// prepare resolves the spec, checks its ports, writes every config and the
// spec, and returns the processes to run.
func prepare(l Layout, cfg UpConfig) (Spec, []Process, *security, error) {
	spec, created, err := Resolve(l, cfg.Request, config.NewClusterID)
	if err != nil {
		return Spec{}, nil, nil, err
	}
	if err := removeStale(l.EndpointsPath()); err != nil {
		return Spec{}, nil, nil, err
	}
	var sec *security
	if spec.Secure {
		// Before the configs: the brokers' readiness probes read the
		// mutual-TLS client config.
		if sec, err = prepareSecurity(l, spec, cfg.Logger); err != nil {
			return Spec{}, nil, nil, err
		}
	}
	spec, procs, err := prepareProcs(l, cfg, spec, created)
	return spec, procs, sec, err
}

// prepareProcs checks the ports, writes every config and the spec, and
// returns the processes to run.
func prepareProcs(l Layout, cfg UpConfig, spec Spec, created bool) (Spec, []Process, error) {
	agents := cfg.Agents && agentAvailable(cfg.Executable, cfg.Logger)
	collector := agents && cfg.Collector
	autoscaler := collector && cfg.AutoscalerPolicy != ""
	ports := spec.ports(agents, collector)
	if autoscaler {
		ports = append(ports, namedPort{orDefault(spec.AutoscalerPort, DefaultAutoscalerPort), "the autoscaler"})
	}
	if err := checkPorts(spec.Host, ports, portsHint(created, l.Dir)); err != nil {
		return Spec{}, nil, err
	}
	procs, err := writeBrokers(spec, l, cfg.Executable)
	if err != nil {
		return Spec{}, nil, err
	}
	if agents {
		ap, err := writeAgents(spec, l, cfg.Executable)
		if err != nil {
			return Spec{}, nil, err
		}
		procs = append(procs, ap...)
	}
	if collector {
		cp, err := writeCollector(spec, l, cfg.Executable, autoscaler)
		if err != nil {
			return Spec{}, nil, err
		}
		procs = append(procs, cp)
	}
	spec.AutoscalerPolicy = ""
	if autoscaler {
		ap, err := writeAutoscaler(spec, l, cfg.Executable, cfg.AutoscalerPolicy)
		if err != nil {
			return Spec{}, nil, err
		}
		procs = append(procs, ap)
		spec.AutoscalerPolicy = ap.Args[2]
	}
	if cfg.Monitoring != nil {
		mp, err := writeMonitoring(spec, l, *cfg.Monitoring, monitored{agents, collector, autoscaler}, cfg.Logger)
		if err != nil {
			return Spec{}, nil, err
		}
		procs = append(procs, mp...)
	}
	if err := SaveSpec(l, spec); err != nil {
		return Spec{}, nil, err
	}
	if created {
		cfg.Logger.Printf("new cluster %s: %d brokers, spec saved in %s", spec.ClusterID, len(spec.Brokers), l.SpecPath())
	} else {
		cfg.Logger.Printf("cluster %s from %s: %d brokers", spec.ClusterID, l.SpecPath(), len(spec.Brokers))
	}
	return spec, procs, nil
}

// ports lists every port the cluster listens on; agent ports only with
// agents, the collector's only with the collector.
func (s Spec) ports(agents, collector bool) []namedPort {
	var out []namedPort
	for _, b := range s.Brokers {
		out = append(out, b.brokerPorts()...)
		if agents {
			out = append(out, b.agentPorts()...)
		}
	}
	if collector {
		out = append(out, namedPort{orDefault(s.CollectorPort, DefaultCollectorPort), "the collector"})
	}
	return append(out, namedPort{orDefault(s.ControlPort, DefaultControlPort), "the control plane"})
}

// removeStale removes an endpoints.json left by a `weir up` that was killed:
// it describes processes that are gone.
func removeStale(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing a stale endpoints file: %w", err)
	}
	return nil
}

// writeBrokers writes each broker's directory and server.properties and
// returns the broker processes.
func writeBrokers(s Spec, l Layout, exe string) ([]Process, error) {
	var procs []Process
	for _, b := range s.Brokers {
		p, err := brokerProcess(s, l, exe, b)
		if err != nil {
			return nil, err
		}
		procs = append(procs, p)
	}
	return procs, nil
}

// brokerProcess writes broker b's directory and config (from the whole
// spec s: the voters are its first brokers) and returns its process.
func brokerProcess(s Spec, l Layout, exe string, b BrokerSpec) (Process, error) {
	if s.Secure {
		if err := ensureBrokerCert(l, s, b.ID); err != nil {
			return Process{}, fmt.Errorf("broker %d's certificate: %w", b.ID, err)
		}
	}
	props, err := s.BrokerConfig(l, b)
	if err != nil {
		return Process{}, err
	}
	if err := os.MkdirAll(l.DataDir(b.ID), 0o755); err != nil {
		return Process{}, fmt.Errorf("creating broker %d's data directory: %w", b.ID, err)
	}
	if err := writeFileAtomic(l.ConfigPath(b.ID), props); err != nil {
		return Process{}, fmt.Errorf("writing broker %d's config: %w", b.ID, err)
	}
	return Process{
		Name:    brokerName(b.ID),
		Path:    exe,
		Args:    []string{"broker", "--config", l.ConfigPath(b.ID)},
		LogPath: l.LogPath(b.ID),
		PIDPath: l.PIDPath(b.ID),
		Where:   fmt.Sprintf("on %s with its data in %s", b.Kafka(s.Host), l.DataDir(b.ID)),
		Ready:   s.brokerReady(l, b),
	}, nil
}

// supervisorOptions wires the supervisor's reports to endpoints.json, the
// printed summary and the control plane (ready: ACTIVE). spec is read at
// each report: the control plane may have changed the cluster's shape.
func supervisorOptions(cfg UpConfig, l Layout, sec *security, spec func() Spec, ready func()) Options {
	return Options{
		Logger:       cfg.Logger,
		ReadyTimeout: cfg.ReadyTimeout,
		StopTimeout:  cfg.StopTimeout,
		OnReady: func(st []Status) error {
			if s := spec(); s.Secure {
				ctx, cancel := context.WithTimeout(context.Background(), adminUserTimeout)
				defer cancel()
				if err := ensureAdminUser(ctx, l, s); err != nil {
					return err
				}
			}
			// The summary first: a script that waits for endpoints.json
			// finds the summary printed when the file appears.
			e := endpoints(spec(), l, st, time.Now(), sec)
			PrintEndpoints(cfg.Out, e, l.EndpointsPath())
			if err := WriteEndpoints(l, e); err != nil {
				return err
			}
			ready()
			return nil
		},
		OnChange: func(st []Status) {
			if err := WriteEndpoints(l, endpoints(spec(), l, st, time.Now(), sec)); err != nil {
				cfg.Logger.Printf("%v", err)
			}
		},
	}
}

// agentAvailable reports whether the binary has an `agent` subcommand, by
// running `<exe> agent --help` once.
func agentAvailable(exe string, logger *log.Logger) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, exe, "agent", "--help").Run(); err != nil {
		logger.Printf("agents are unavailable: this weir has no agent command (%s agent --help: %v); running brokers only", exe, err)
		return false
	}
	return true
}

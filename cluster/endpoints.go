package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"text/tabwriter"
	"time"
)

// Endpoints is `<dir>/endpoints.json`: where the running cluster listens,
// for scripts and for `weir up status`. `weir up` writes it once every
// broker is ready, rewrites it on every change (a restart, a new pid), and
// removes it when it stops; its presence means a cluster is up.
type Endpoints struct {
	ClusterID string             `json:"cluster_id"`
	Bootstrap string             `json:"bootstrap"`
	UpPID     int                `json:"up_pid"` // the `weir up` process
	Updated   time.Time          `json:"updated"`
	Brokers   []BrokerEndpoint   `json:"brokers"`
	Agents    []AgentEndpoint    `json:"agents,omitempty"`
	Collector *CollectorEndpoint `json:"collector,omitempty"`
	// Autoscaler is `weir autoscaler`, when weir up runs it (a policy).
	Autoscaler *AutoscalerEndpoint `json:"autoscaler,omitempty"`
	// Monitoring is Prometheus and Alertmanager, when weir up runs them.
	Monitoring *MonitoringEndpoint `json:"monitoring,omitempty"`
	// ControlPlane is the control plane's REST API (MSK's paths, /v1/...).
	ControlPlane string `json:"control_plane"`
	// Security is a secure cluster's (weir up --secure): client configs,
	// the admin user, the API token, encryption at rest.
	Security *SecurityEndpoint `json:"security,omitempty"`
}

// CollectorEndpoint is the collector in endpoints.json.
type CollectorEndpoint struct {
	API      string `json:"api"`     // Cruise Control's REST API base
	Console  string `json:"console"` // the web console
	Metrics  string `json:"metrics"`
	Config   string `json:"config"`
	Log      string `json:"log"`
	PID      int    `json:"pid"`
	State    State  `json:"state"`
	Restarts int    `json:"restarts"`
}

// AutoscalerEndpoint is the autoscaler in endpoints.json.
type AutoscalerEndpoint struct {
	API      string `json:"api"` // /v1/plan, /v1/last
	Metrics  string `json:"metrics"`
	Policy   string `json:"policy"`
	State    string `json:"state_file"`
	Log      string `json:"log"`
	PID      int    `json:"pid"`
	Process  State  `json:"state"`
	Restarts int    `json:"restarts"`
}

// BrokerEndpoint is one broker in endpoints.json.
type BrokerEndpoint struct {
	ID    int    `json:"id"`
	Kafka string `json:"kafka"`
	// InterBroker is a secure cluster's inter-broker (SSL) listener.
	InterBroker string `json:"inter_broker,omitempty"`
	Admin       string `json:"admin"`
	Metrics     string `json:"metrics"`
	Rack        string `json:"rack"`
	DataDir     string `json:"data_dir"`
	Config      string `json:"config"`
	Log         string `json:"log"`
	PID         int    `json:"pid"` // 0 while it is not running
	State       State  `json:"state"`
	Restarts    int    `json:"restarts"`
}

// AgentEndpoint is one broker's agent in endpoints.json (--agents).
type AgentEndpoint struct {
	BrokerID    int    `json:"broker_id"`
	Metrics     string `json:"metrics"`
	NodeMetrics string `json:"node_metrics"`
	Config      string `json:"config"`
	Log         string `json:"log"`
	PID         int    `json:"pid"`
	State       State  `json:"state"`
	Restarts    int    `json:"restarts"`
}

// endpoints builds the document from the spec and the supervisor's
// statuses, matched by process name ("broker N", "agent N", "collector"),
// so processes added while the cluster runs find their place.
func endpoints(s Spec, l Layout, st []Status, now time.Time, sec *security) Endpoints {
	byName := make(map[string]Status, len(st))
	for _, x := range st {
		byName[x.Name] = x
	}
	e := Endpoints{ClusterID: s.ClusterID, Bootstrap: s.Bootstrap(), UpPID: os.Getpid(), Updated: now.UTC(),
		ControlPlane: "http://" + s.Control(), Security: securityEndpoint(l, s, sec)}
	for _, b := range s.Brokers {
		admin := "http://" + b.Admin(s.Host)
		bs := byName[brokerName(b.ID)]
		e.Brokers = append(e.Brokers, BrokerEndpoint{
			ID: b.ID, Kafka: b.Kafka(s.Host), Admin: admin, Metrics: admin + "/metrics", Rack: b.Rack,
			DataDir: l.DataDir(b.ID), Config: l.ConfigPath(b.ID), Log: l.LogPath(b.ID),
			PID: bs.PID, State: orState(bs.State), Restarts: bs.Restarts,
		})
		if s.Secure {
			e.Brokers[len(e.Brokers)-1].InterBroker = b.InterBroker(s.Host)
		}
		if a, ok := byName[agentName(b.ID)]; ok {
			e.Agents = append(e.Agents, AgentEndpoint{
				BrokerID: b.ID, Metrics: "http://" + b.Agent(s.Host) + "/metrics",
				NodeMetrics: "http://" + b.AgentNode(s.Host) + "/metrics",
				Config:      l.AgentConfig(b.ID), Log: l.AgentLog(b.ID),
				PID: a.PID, State: a.State, Restarts: a.Restarts,
			})
		}
	}
	if c, ok := byName[collectorName]; ok {
		base := "http://" + s.Collector()
		e.Collector = &CollectorEndpoint{API: base + "/kafkacruisecontrol/", Console: base + "/console/", Metrics: base + "/metrics",
			Config: l.CollectorConfig(), Log: l.CollectorLog(), PID: c.PID, State: c.State, Restarts: c.Restarts}
	}
	if a, ok := byName[autoscalerName]; ok {
		base := "http://" + s.Autoscaler()
		e.Autoscaler = &AutoscalerEndpoint{API: base + "/v1/", Metrics: base + "/metrics", Policy: s.AutoscalerPolicy,
			State: l.AutoscalerState(), Log: l.AutoscalerLog(), PID: a.PID, Process: a.State, Restarts: a.Restarts}
	}
	e.Monitoring = monitoringEndpoint(l, byName)
	return e
}

// Process names, as the supervisor and endpoints.json know them.
func brokerName(id int) string { return fmt.Sprintf("broker %d", id) }
func agentName(id int) string  { return fmt.Sprintf("agent %d", id) }

const collectorName = "collector"

// orState is a broker's state, stopped when the supervisor does not run it.
func orState(s State) State {
	if s == "" {
		return Stopped
	}
	return s
}

// WriteEndpoints writes e to the layout's endpoints.json atomically.
func WriteEndpoints(l Layout, e Endpoints) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding endpoints: %w", err)
	}
	if err := writeFileAtomic(l.EndpointsPath(), append(data, '\n')); err != nil {
		return fmt.Errorf("writing endpoints: %w", err)
	}
	return nil
}

// ReadEndpoints reads the layout's endpoints.json.
func ReadEndpoints(l Layout) (Endpoints, error) {
	var e Endpoints
	data, err := os.ReadFile(l.EndpointsPath())
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return e, fmt.Errorf("reading %s: %w", l.EndpointsPath(), err)
	}
	return e, nil
}

// PrintEndpoints writes the human summary `weir up` prints once the
// cluster is up.
func PrintEndpoints(w io.Writer, e Endpoints, endpointsPath string) {
	fmt.Fprintf(w, "cluster %s is up: %d brokers\n\n", e.ClusterID, len(e.Brokers))
	fmt.Fprintf(w, "bootstrap: %s\n\n", e.Bootstrap)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BROKER\tKAFKA\tMETRICS\tRACK\tDATA\tLOG")
	for _, b := range e.Brokers {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", b.ID, b.Kafka, b.Metrics, b.Rack, b.DataDir, b.Log)
	}
	tw.Flush()
	if len(e.Agents) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "AGENT\tMETRICS\tNODE METRICS\tLOG")
		for _, a := range e.Agents {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", a.BrokerID, a.Metrics, a.NodeMetrics, a.Log)
		}
		tw.Flush()
	}
	if c := e.Collector; c != nil {
		fmt.Fprintf(w, "\ncollector: %s (Cruise Control's API; try `weir rebalance`), metrics %s, log %s\n", c.API, c.Metrics, c.Log)
		if e.Security != nil {
			fmt.Fprintf(w, "console: %s?token=<the token in %s> (the web console; the browser keeps the token in a cookie)\n", c.Console, e.Security.APIToken)
		} else {
			fmt.Fprintf(w, "console: %s (the web console)\n", c.Console)
		}
	}
	if a := e.Autoscaler; a != nil {
		fmt.Fprintf(w, "\nautoscaler: %s (policy %s; try `weir autoscaler plan`), metrics %s, log %s\n", a.API, a.Policy, a.Metrics, a.Log)
	}
	if m := e.Monitoring; m != nil {
		fmt.Fprintf(w, "\nprometheus: %s (Weir's rules from %s)\n", m.Prometheus, m.Rules)
		if m.Alertmanager != "" {
			fmt.Fprintf(w, "alertmanager: %s\n", m.Alertmanager)
		}
	}
	fmt.Fprintf(w, "\ncontrol plane: %s (MSK's API: try `weir cluster describe`)\n", e.ControlPlane)
	if sec := e.Security; sec != nil {
		printSecurity(w, sec)
	}
	fmt.Fprintf(w, "\nendpoints for scripts: %s\nCtrl-C stops the cluster.\n", endpointsPath)
}

// PrintStatus writes one line per process with its state, pid and restart
// count: `weir up status`.
func PrintStatus(w io.Writer, e Endpoints) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROCESS\tADDRESS\tSTATE\tPID\tRESTARTS")
	for _, b := range e.Brokers {
		fmt.Fprintf(tw, "broker %d\t%s\t%s\t%d\t%d\n", b.ID, b.Kafka, b.State, b.PID, b.Restarts)
	}
	for _, a := range e.Agents {
		fmt.Fprintf(tw, "agent %d\t%s\t%s\t%d\t%d\n", a.BrokerID, a.Metrics, a.State, a.PID, a.Restarts)
	}
	if c := e.Collector; c != nil {
		fmt.Fprintf(tw, "collector\t%s\t%s\t%d\t%d\n", c.API, c.State, c.PID, c.Restarts)
	}
	if a := e.Autoscaler; a != nil {
		fmt.Fprintf(tw, "autoscaler\t%s\t%s\t%d\t%d\n", a.API, a.Process, a.PID, a.Restarts)
	}
	tw.Flush()
}

// ErrNotUp says that no `weir up` is running from a directory.
var ErrNotUp = errors.New("no cluster is up")

// Current returns the endpoints of the cluster a running `weir up` serves
// from the layout's directory, or ErrNotUp when none runs there (no
// endpoints.json, or one left by a `weir up` that was killed).
func Current(l Layout) (Endpoints, error) {
	e, err := ReadEndpoints(l)
	if errors.Is(err, fs.ErrNotExist) || err == nil && !lockHeld(l) {
		return Endpoints{}, ErrNotUp
	}
	return e, err
}

// printSecurity is the summary's part for a secure cluster.
func printSecurity(w io.Writer, s *SecurityEndpoint) {
	fmt.Fprintf(w, "\nsecurity: clients on %s (%s, user %s, password in %s), ACLs on; brokers to each other on mutual TLS\n",
		s.Protocol, s.Mechanism, s.AdminUser, s.AdminPassword)
	fmt.Fprintf(w, "client configs: %s (Java, --command-config), %s (librdkafka: kcat -F), %s (mutual TLS)\n",
		s.ClientProperties, s.ClientLibrdkafka, s.ClientMTLS)
	fmt.Fprintf(w, "CA: %s\n", s.CA)
	fmt.Fprintf(w, "HTTP APIs: bearer token in %s (weir cluster and weir rebalance send it; /metrics and /healthz open)\n", s.APIToken)
	if s.AtRestDetail != "" {
		fmt.Fprintf(w, "encryption at rest: %s\n", s.AtRestDetail)
	} else {
		fmt.Fprintf(w, "encryption at rest: %s\n", s.AtRest)
	}
}

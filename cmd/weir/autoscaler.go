package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/weirhq/weir/autoscaler"
	"github.com/weirhq/weir/autoscaler/policy"
	"github.com/weirhq/weir/autoscaler/provision"
	"github.com/weirhq/weir/cluster"
	"github.com/weirhq/weir/collector/ccclient"
	"github.com/weirhq/weir/internal/httpauth"
)

type autoscalerFlags struct {
	policy, controlPlane, dir, listen, state string
	agents, nodes                            []string
	interval                                 time.Duration
	mskARN, mskEndpoint, collector           string
	tokenFile                                string
}

func newAutoscalerCmd() *cobra.Command {
	var af autoscalerFlags
	cmd := &cobra.Command{
		Use:   "autoscaler --policy FILE [--dir DIR | --control-plane ADDR]",
		Short: "Run the autoscaler: storage and broker count that follow the load, from a policy file",
		Long: `Run Weir's autoscaler. On every interval it reads each broker's agent
(Prometheus metrics: storage used and provisioned, CPU, bytes in and out,
partitions and leaders), decides with the policy file (docs/AUTOSCALER.md is
the reference; autoscaler/policies/ has examples), and acts through the
control plane: update-broker-storage when a broker's storage crosses the
target, update-broker-count (with the collector's add-broker or remove-broker
rebalance) when a load stays above its target, or every broker stays well
under it. One operation at a time, each awaited. Every action and every hold
(COOLDOWN, MAXIMUM_REACHED, NOT_ACTIVE, ...) is logged once and exported on
/metrics; 'weir autoscaler plan' shows what it would do now and why.

The policy file is re-read on every interval: a bad edit is logged and the
last good policy stays in force (weir_autoscaler_policy_loaded is 0).

The agents are found through the control plane's describe (weir up), or
given with --agent ID=URL for brokers that are not Weir's (Apache Kafka with
Weir's agents beside it).

Against Amazon MSK (--msk-cluster-arn; credentials the AWS CLI's way), the
autoscaler calls MSK's UpdateBrokerStorage and UpdateBrokerCount. MSK moves
no partitions when the count changes: give --collector (a weir collector
pointed at the MSK cluster) and the autoscaler runs add_broker after a
scale-out and remove_broker before a scale-in; without it, a policy with a
brokers section is refused.`,
		Example: `  weir autoscaler --policy autoscaler/policies/local-small.yaml
  weir autoscaler --policy prod.yaml --control-plane 127.0.0.1:9099 --listen :9097
  weir autoscaler --policy msk.yaml --msk-cluster-arn arn:aws:kafka:eu-west-1:123456789012:cluster/prod/uuid \
      --collector http://collector:9090 --agent 1=http://b-1:11001/metrics --agent 2=http://b-2:11001/metrics ...
  weir autoscaler plan
  weir autoscaler plan --policy candidate.yaml
  weir autoscaler check autoscaler/policies/*.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return af.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&af.policy, "policy", "", "the policy file (YAML; required)")
	f.StringVar(&af.dir, "dir", "./weir-data", "the cluster directory of the weir up whose control plane to use")
	f.StringVar(&af.controlPlane, "control-plane", "", "the control plane's address (default: from DIR/endpoints.json)")
	f.StringVar(&af.listen, "listen", fmt.Sprintf("127.0.0.1:%d", cluster.DefaultAutoscalerPort), "address of the autoscaler's HTTP API (/metrics, /healthz, /v1/plan, /v1/last)")
	f.StringVar(&af.state, "state", "", "file that keeps the actions taken, for cooldowns across restarts (default: none)")
	f.StringArrayVar(&af.agents, "agent", nil, "ID=URL of broker ID's agent metrics (repeatable; default: from the control plane)")
	f.StringArrayVar(&af.nodes, "agent-node", nil, "ID=URL of broker ID's agent node metrics, for CPU (repeatable)")
	f.DurationVar(&af.interval, "interval", autoscaler.DefaultInterval, "how often to read the agents and decide")
	f.StringVar(&af.mskARN, "msk-cluster-arn", "", "act on this Amazon MSK cluster instead of a weir up control plane (needs --agent)")
	f.StringVar(&af.mskEndpoint, "msk-endpoint", "", "MSK API endpoint override (a VPC endpoint; default: the region's)")
	f.StringVar(&af.collector, "collector", "", "with --msk-cluster-arn, the collector that moves replicas around broker-count changes")
	f.StringVar(&af.tokenFile, "token-file", "", "a secure cluster's API token file (weir up --secure): the autoscaler's API asks for it (but /metrics and /healthz), and the control plane and collector are sent it")
	cmd.MarkFlagRequired("policy")
	cmd.AddCommand(newAutoscalerPlanCmd(), newAutoscalerCheckCmd())
	return cmd
}

func (af autoscalerFlags) run(cmd *cobra.Command) error {
	prov, agents, where, closeProv, err := af.provisioner()
	if err != nil {
		return fmt.Errorf("autoscaler: %w", err)
	}
	defer closeProv()
	logger := log.New(cmd.ErrOrStderr(), "autoscaler: ", log.LstdFlags)
	a, err := autoscaler.New(autoscaler.Config{PolicyPath: af.policy, Provisioner: prov, Agents: agents,
		Interval: af.interval, StatePath: af.state, Logger: logger})
	if err != nil {
		return fmt.Errorf("autoscaler: %w", err)
	}
	ln, err := net.Listen("tcp", af.listen)
	if err != nil {
		return fmt.Errorf("autoscaler: listening on %s: %w", af.listen, err)
	}
	h, err := af.secure(a.Handler())
	if err != nil {
		ln.Close()
		return fmt.Errorf("autoscaler: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { // owned here: waited for below
		defer close(done)
		srv.Serve(ln)
	}()
	defer func() {
		srv.Close()
		<-done
	}()
	fmt.Fprintf(cmd.OutOrStdout(), "autoscaler: policy %s, %s (%s), plan on http://%s/v1/plan, metrics on http://%s/metrics\n",
		af.policy, where, prov.Name(), ln.Addr(), ln.Addr())
	return a.Run(cmd.Context())
}

// provisioner is the local control plane (its describe names the agents)
// or MSK (the agents from --agent, the collector around count changes).
func (af autoscalerFlags) provisioner() (provision.Provisioner, func(context.Context) ([]provision.Agent, error), string, func(), error) {
	var fixed []provision.Agent
	if len(af.agents) > 0 {
		var err error
		if fixed, err = agentList(af.agents, af.nodes); err != nil {
			return nil, nil, "", nil, err
		}
	}
	static := func(context.Context) ([]provision.Agent, error) { return fixed, nil }
	if af.mskARN == "" {
		addr := af.controlPlane
		if addr == "" {
			c, err := (&clusterFlags{dir: af.dir}).client()
			if err != nil {
				return nil, nil, "", nil, err
			}
			addr = c.Base
		}
		local := provision.NewLocal(addr)
		agents := local.Agents
		if fixed != nil {
			agents = static
		}
		return local, agents, "control plane " + addr, func() {}, nil
	}
	if fixed == nil {
		return nil, nil, "", nil, errors.New("--msk-cluster-arn needs --agent ID=URL for every broker (MSK's brokers are not described with agents)")
	}
	m, err := provision.NewMSK(provision.MSKConfig{ClusterARN: af.mskARN, Endpoint: af.mskEndpoint})
	if err != nil {
		return nil, nil, "", nil, err
	}
	p, err := policy.Load(af.policy)
	if err != nil {
		return nil, nil, "", nil, err
	}
	if p.Storage != nil && p.Storage.PerBroker {
		return nil, nil, "", nil, fmt.Errorf("%s: storage.per_broker: MSK sets one volume size for every broker (kafkaBrokerNodeId \"All\"); remove per_broker", af.policy)
	}
	if af.collector == "" {
		if p.Brokers != nil {
			return nil, nil, "", nil, fmt.Errorf("%s has a brokers section, but MSK moves no partitions when the broker count changes: give --collector", af.policy)
		}
		return m, static, "MSK cluster " + af.mskARN, func() {}, nil
	}
	r := provision.WithRebalance(m, ccclient.New(af.collector))
	return r, static, "MSK cluster " + af.mskARN + " with the collector at " + af.collector, r.Close, nil
}

// agentList reads --agent ID=URL and --agent-node ID=URL.
func agentList(agents, nodes []string) ([]provision.Agent, error) {
	byID := map[int32]*provision.Agent{}
	var order []int32
	parse := func(flag, kv string) (int32, string, error) {
		k, v, ok := strings.Cut(kv, "=")
		id, err := strconv.Atoi(strings.TrimSpace(k))
		if !ok || err != nil || v == "" {
			return 0, "", fmt.Errorf("--%s %q: want BROKER_ID=URL", flag, kv)
		}
		if _, err := url.ParseRequestURI(v); err != nil {
			return 0, "", fmt.Errorf("--%s %q: %w", flag, kv, err)
		}
		return int32(id), v, nil
	}
	for _, kv := range agents {
		id, u, err := parse("agent", kv)
		if err != nil {
			return nil, err
		}
		if byID[id] != nil {
			return nil, fmt.Errorf("--agent: broker %d given twice", id)
		}
		byID[id] = &provision.Agent{Broker: id, Metrics: u}
		order = append(order, id)
	}
	for _, kv := range nodes {
		id, u, err := parse("agent-node", kv)
		if err != nil {
			return nil, err
		}
		if byID[id] == nil {
			return nil, fmt.Errorf("--agent-node: broker %d has no --agent", id)
		}
		byID[id].Node = u
	}
	out := make([]provision.Agent, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	return out, nil
}

func newAutoscalerPlanCmd() *cobra.Command {
	var addr, dir, pol, output string
	cmd := &cobra.Command{
		Use:   "plan [--policy FILE] [--autoscaler ADDR | --dir DIR]",
		Short: "What the running autoscaler would do now, and why (dry run)",
		Long: `Ask the running autoscaler what it would do now, and why: each broker's
latest figures, the actions it would take and the holds (COOLDOWN,
MAXIMUM_REACHED, NOT_SUSTAINED, ...) with their reasons. Nothing is changed.
With --policy, the decision is made with that file instead, against the same
live metrics: try a policy before putting it in force.`,
		Example: "  weir autoscaler plan\n  weir autoscaler plan --policy candidate.yaml -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if addr == "" {
				e, err := currentEndpoints(dir)
				if err != nil {
					return fmt.Errorf("autoscaler plan: %w", err)
				}
				if e.Autoscaler == nil {
					return fmt.Errorf("autoscaler plan: the cluster in %s runs no autoscaler: start it with `weir up --agents --autoscaler-policy FILE`, or name one with --autoscaler", dir)
				}
				addr = strings.TrimSuffix(e.Autoscaler.API, "/v1/")
			}
			if !strings.Contains(addr, "://") {
				addr = "http://" + addr
			}
			format := "text"
			if output == "json" {
				format = "json"
			}
			u := addr + "/v1/plan?format=" + format
			rt, err := clusterTransport(dir)
			if err != nil {
				return fmt.Errorf("autoscaler plan: %w", err)
			}
			hc := &http.Client{Transport: rt}
			var resp *http.Response
			if pol != "" {
				data, rerr := os.ReadFile(pol)
				if rerr != nil {
					return fmt.Errorf("autoscaler plan: %w", rerr)
				}
				if _, perr := policy.Parse(data, pol); perr != nil {
					return fmt.Errorf("autoscaler plan: %w", perr)
				}
				resp, err = hc.Post(u+"&name="+url.QueryEscape(pol), "application/yaml", strings.NewReader(string(data)))
			} else {
				resp, err = hc.Get(u)
			}
			if err != nil {
				return fmt.Errorf("autoscaler plan: %w", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
			if err != nil {
				return fmt.Errorf("autoscaler plan: %w", err)
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("autoscaler plan: %s: %s", resp.Status, strings.TrimSpace(string(body)))
			}
			_, err = cmd.OutOrStdout().Write(body)
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "autoscaler", "", "the autoscaler's address (default: from DIR/endpoints.json)")
	cmd.Flags().StringVar(&dir, "dir", "./weir-data", "the cluster directory of the weir up that runs the autoscaler")
	cmd.Flags().StringVar(&pol, "policy", "", "decide with this policy file instead of the one in force")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

func currentEndpoints(dir string) (cluster.Endpoints, error) {
	l, err := cluster.NewLayout(dir)
	if err != nil {
		return cluster.Endpoints{}, err
	}
	e, err := cluster.Current(l)
	if errors.Is(err, cluster.ErrNotUp) {
		return e, fmt.Errorf("no cluster is up in %s", l.Dir)
	}
	return e, err
}

func newAutoscalerCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "check FILE...",
		Short:   "Validate policy files",
		Long:    "Load each policy file as the autoscaler would and print its refusals (file, line, rule), or that it is valid. Exits non-zero if any file is bad.",
		Example: "  weir autoscaler check autoscaler/policies/*.yaml",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, f := range args {
				if _, err := policy.Load(f); err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					bad++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: valid\n", f)
			}
			if bad > 0 {
				return fmt.Errorf("autoscaler check: %d of %d files refused", bad, len(args))
			}
			return nil
		},
	}
}

// secure puts h behind --token-file's token (/metrics and /healthz open,
// for Prometheus and probes) and sends the token to the control plane and
// the collector, which ask for it. Without --token-file h is served as is.
func (af autoscalerFlags) secure(h http.Handler) (http.Handler, error) {
	if af.tokenFile == "" {
		return h, nil
	}
	tok, err := httpauth.ReadToken(af.tokenFile)
	if err != nil {
		return nil, err
	}
	cp := af.controlPlane
	if cp != "" && !strings.Contains(cp, "://") {
		cp = "http://" + cp
	}
	// provision.Local and ccclient use http.DefaultTransport.
	if hosts := hostsOf(cp, af.collector); len(hosts) > 0 {
		http.DefaultTransport = httpauth.Transport(tok, hosts, http.DefaultTransport)
	}
	return httpauth.Middleware(httpauth.Config{Token: tok, Open: []string{"/metrics", "/healthz"}}, h), nil
}

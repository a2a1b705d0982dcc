package autoscaler

import (
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/weirhq/weir/autoscaler/policy"
	"github.com/weirhq/weir/autoscaler/provision"
	"github.com/weirhq/weir/internal/bytesize"
)

// DefaultInterval is how often the autoscaler scrapes the agents and
// decides: a few scrapes per agent interval (5 s under weir up, 60 s on
// MSK), so a threshold crossing is seen within seconds.
const DefaultInterval = 10 * time.Second

// Config configures an Autoscaler.
type Config struct {
	PolicyPath  string
	Provisioner provision.Provisioner
	// Agents lists each broker's agent endpoints on every tick (the local
	// control plane's describe, or a fixed list).
	Agents    func(ctx context.Context) ([]provision.Agent, error)
	Interval  time.Duration // 0: DefaultInterval
	StatePath string        // the actions taken, for cooldowns across restarts; "" keeps them in memory
	Logger    *log.Logger
	Now       func() time.Time // nil: time.Now
}

// Autoscaler scrapes the agents, decides with policy.Decide and acts
// through a provisioner, one operation at a time, waiting for each to end.
type Autoscaler struct {
	cfg     Config
	src     *Source
	metrics *metrics

	mu struct {
		sync.Mutex
		policy   *policy.Policy
		history  []policy.Record
		pending  *pending // the operation the autoscaler started and waits on
		last     Report
		holdKeys map[string]bool // the holds logged, so each is logged once while it lasts
	}
}

type pending struct {
	id     string
	action policy.Action
}

// Report is one evaluation: its inputs, the decision, and what was done.
type Report struct {
	At       time.Time                 `json:"at"`
	Policy   string                    `json:"policy"`
	Cluster  policy.Cluster            `json:"cluster"`
	Latest   map[int32]policy.Sample   `json:"latest"` // each broker's last sample
	Samples  map[int32]int             `json:"samples"`
	Decision policy.Decision           `json:"decision"`
	Started  []StartedAction           `json:"started,omitempty"`
	Errors   []string                  `json:"errors,omitempty"`
	Window   map[int32][]policy.Sample `json:"-"`
}

// StartedAction is an action handed to the provisioner, with the
// operation it became.
type StartedAction struct {
	Action    policy.Action `json:"action"`
	Operation string        `json:"operation,omitempty"`
	Error     string        `json:"error,omitempty"`
}

// New loads the policy (a bad file is an error) and the saved history.
func New(cfg Config) (*Autoscaler, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = log.Default()
	}
	if cfg.Provisioner == nil || cfg.Agents == nil {
		return nil, errors.New("autoscaler: a provisioner and the agents are required")
	}
	p, err := policy.Load(cfg.PolicyPath)
	if err != nil {
		return nil, err
	}
	hist, err := loadHistory(cfg.StatePath)
	if err != nil {
		return nil, err
	}
	a := &Autoscaler{cfg: cfg, src: NewSource(keepFor(p, cfg.Interval)), metrics: newMetrics()}
	a.mu.policy, a.mu.history, a.mu.holdKeys = p, hist, map[string]bool{}
	a.metrics.policy(p, true)
	return a, nil
}

// keepFor is how far back a policy looks: its longest window, plus a few
// intervals so the window's first point has a sample at or before it.
func keepFor(p *policy.Policy, interval time.Duration) time.Duration {
	d := time.Minute
	if b := p.Brokers; b != nil {
		d = max(d, b.Window, b.Stabilization)
	}
	return d + 4*interval
}

// Policy returns the policy in force.
func (a *Autoscaler) Policy() *policy.Policy {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.mu.policy
}

// Run evaluates on every interval until ctx ends: reload the policy (a bad
// file keeps the last good one), scrape the agents, follow the pending
// operation, decide and act.
func (a *Autoscaler) Run(ctx context.Context) error {
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		a.Tick(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick is one round of Run.
func (a *Autoscaler) Tick(ctx context.Context) Report {
	a.reload()
	now := a.cfg.Now()
	var errs []string
	agents, err := a.cfg.Agents(ctx)
	if err != nil {
		errs = append(errs, err.Error())
	}
	if err := a.src.Scrape(ctx, now, agents); err != nil {
		errs = append(errs, err.Error())
		a.metrics.scrapeErrors.Inc()
	}
	a.follow(ctx)
	r := a.evaluate(ctx, a.Policy(), now, true)
	r.Errors = append(errs, r.Errors...)
	a.mu.Lock()
	a.mu.last = r
	a.mu.Unlock()
	return r
}

// Plan evaluates p (nil: the policy in force) against the current window
// and cluster without acting: what the autoscaler would do now, and why.
func (a *Autoscaler) Plan(ctx context.Context, p *policy.Policy) Report {
	if p == nil {
		p = a.Policy()
	}
	return a.evaluate(ctx, p, a.cfg.Now(), false)
}

// Last is the last evaluation Run made.
func (a *Autoscaler) Last() Report {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.mu.last
}

func (a *Autoscaler) reload() {
	a.mu.Lock()
	last := a.mu.policy
	a.mu.Unlock()
	p, err := policy.Reload(a.cfg.PolicyPath, last)
	if err != nil {
		if a.metrics.policyOK() {
			a.cfg.Logger.Printf("policy %s: keeping the last good policy: %v", a.cfg.PolicyPath, err)
		}
		a.metrics.policy(last, false)
		return
	}
	if !a.metrics.policyOK() {
		a.cfg.Logger.Printf("policy %s: loaded", a.cfg.PolicyPath)
	}
	a.metrics.policy(p, true)
	a.src.SetKeep(keepFor(p, a.cfg.Interval))
	a.mu.Lock()
	a.mu.policy = p
	a.mu.Unlock()
}

// follow checks the operation the autoscaler waits on and logs its end.
func (a *Autoscaler) follow(ctx context.Context) {
	a.mu.Lock()
	p := a.mu.pending
	a.mu.Unlock()
	if p == nil {
		return
	}
	op, err := a.cfg.Provisioner.Operation(ctx, p.id)
	if err != nil {
		a.cfg.Logger.Printf("following operation %s: %v", p.id, err)
		return
	}
	if !op.Done() {
		return
	}
	if op.State == provision.Failed {
		a.cfg.Logger.Printf("operation %s (%s) failed: %s", op.ID, p.action, op.Error)
	} else {
		a.cfg.Logger.Printf("operation %s (%s) complete", op.ID, p.action)
	}
	a.metrics.operation(p.action.Kind, op.State)
	a.mu.Lock()
	a.mu.pending = nil
	a.mu.Unlock()
}

func (a *Autoscaler) evaluate(ctx context.Context, p *policy.Policy, now time.Time, act bool) Report {
	r := Report{At: now, Policy: p.Name, Window: a.src.Window()}
	cl, err := a.cfg.Provisioner.Describe(ctx)
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
		return r
	}
	a.mu.Lock()
	hist := slices.Clone(a.mu.history)
	if a.mu.pending != nil && cl.Operation == "" {
		cl.Operation = a.mu.pending.id // started, not yet visible
	}
	a.mu.Unlock()
	r.Cluster = cl
	r.Latest, r.Samples = map[int32]policy.Sample{}, map[int32]int{}
	for b, ss := range r.Window {
		if len(ss) > 0 {
			r.Latest[b] = ss[len(ss)-1]
		}
		r.Samples[b] = len(ss)
	}
	r.Decision = policy.Decide(policy.Input{Now: now, Policy: p, Cluster: cl, Metrics: r.Window, History: hist})
	if !act {
		return r
	}
	a.metrics.observe(r, p)
	a.logHolds(r.Decision.Holds)
	for _, action := range r.Decision.Actions {
		r.Started = append(r.Started, a.act(ctx, now, action))
		if r.Started[len(r.Started)-1].Operation != "" {
			break // one operation at a time
		}
	}
	return r
}

// act hands one action to the provisioner and records it.
func (a *Autoscaler) act(ctx context.Context, now time.Time, action policy.Action) StartedAction {
	var id string
	var err error
	switch action.Kind {
	case policy.GrowStorage:
		id, err = a.cfg.Provisioner.UpdateBrokerStorage(ctx, action.Brokers, action.StorageBytes)
	case policy.SetBrokerCount:
		id, err = a.cfg.Provisioner.UpdateBrokerCount(ctx, action.BrokerCount)
	}
	if err != nil {
		if errors.Is(err, provision.ErrBusy) {
			a.cfg.Logger.Printf("hold %s %s: the control plane refused, the cluster is busy (would %s): %v", action.Kind, policy.OperationInProgress, action, err)
		} else {
			a.cfg.Logger.Printf("%s: %v", action, err)
		}
		a.metrics.operation(action.Kind, "REFUSED")
		return StartedAction{Action: action, Error: err.Error()}
	}
	a.cfg.Logger.Printf("%s: operation %s", action, id)
	rec := policy.Record{Kind: action.Kind, At: now, Brokers: action.Brokers}
	a.mu.Lock()
	if action.Kind == policy.SetBrokerCount {
		rec.From, rec.To = a.mu.last.Cluster.Brokers, action.BrokerCount
	}
	a.mu.history = appendHistory(a.mu.history, rec)
	a.mu.pending = &pending{id: id, action: action}
	hist := slices.Clone(a.mu.history)
	a.mu.Unlock()
	if err := saveHistory(a.cfg.StatePath, hist); err != nil {
		a.cfg.Logger.Printf("%v", err)
	}
	a.metrics.acted(action, now)
	return StartedAction{Action: action, Operation: id}
}

// logHolds logs each hold when it starts (and says when a kind stops
// being held), so a hold that lasts an hour is one line, not 360.
func (a *Autoscaler) logHolds(holds []policy.Hold) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := map[string]bool{}
	for _, h := range holds {
		key := string(h.Kind) + " " + string(h.Blocked)
		now[key] = true
		if !a.mu.holdKeys[key] {
			a.cfg.Logger.Printf("%s", h)
		}
	}
	for key := range a.mu.holdKeys {
		if !now[key] {
			a.cfg.Logger.Printf("hold %s lifted", strings.TrimSpace(key))
		}
	}
	a.mu.holdKeys = now
}

// String summarizes a report in a few lines, as `weir autoscaler plan`
// prints it.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "at %s, policy %s\n", r.At.UTC().Format(time.RFC3339), r.Policy)
	fmt.Fprintf(&b, "cluster %s, %d brokers", orDash(r.Cluster.State), r.Cluster.Brokers)
	if r.Cluster.Operation != "" {
		fmt.Fprintf(&b, ", operation %s in progress", r.Cluster.Operation)
	}
	b.WriteString("\n")
	for _, id := range slices.Sorted(maps.Keys(r.Latest)) {
		s := r.Latest[id]
		prov := r.Cluster.Provisioned[id]
		if prov == 0 {
			prov = s.StorageProvisioned
		}
		util := "-"
		if prov > 0 {
			util = fmt.Sprintf("%.1f%%", 100*float64(s.StorageUsed)/float64(prov))
		}
		fmt.Fprintf(&b, "  broker %d: storage %s of %s (%s), cpu %.0f%%, in %s/s, out %s/s, %d partitions, %d leaders (%d samples)\n",
			id, bytesize.Human(s.StorageUsed), bytesize.Human(prov), util, s.CPUPercent,
			bytesize.Human(int64(s.NetworkIn)), bytesize.Human(int64(s.NetworkOut)), s.Partitions, s.Leaders, r.Samples[id])
	}
	if len(r.Decision.Actions) == 0 && len(r.Decision.Holds) == 0 {
		b.WriteString("nothing to do: every load is under its target\n")
	}
	for _, act := range r.Decision.Actions {
		fmt.Fprintf(&b, "would %s\n", act)
	}
	for _, h := range r.Decision.Holds {
		fmt.Fprintf(&b, "%s\n", h)
	}
	for _, s := range r.Started {
		if s.Operation != "" {
			fmt.Fprintf(&b, "started operation %s\n", s.Operation)
		} else {
			fmt.Fprintf(&b, "refused: %s\n", s.Error)
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "error: %s\n", e)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

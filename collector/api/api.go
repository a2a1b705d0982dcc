package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/weirhq/weir/collector/anomaly"
	"github.com/weirhq/weir/collector/executor"
	"github.com/weirhq/weir/collector/model"
	"github.com/weirhq/weir/collector/monitor"
	"github.com/weirhq/weir/collector/planner"
)

// Prefix is where Cruise Control serves its API.
const Prefix = "/kafkacruisecontrol/"

// Version is what the Cruise-Control-Version header says: a version at or
// above 2.0.61 tells cccli that a 200 is final.
const Version = "2.5.142-weir"

// Monitor is the load monitor as the API uses it (*monitor.Monitor).
type Monitor interface {
	Model(now time.Time) (*model.Cluster, error)
	// RefreshMetadata reads the assignment now, before a plan.
	RefreshMetadata(ctx context.Context) error
	State(now time.Time) monitor.State
	Pause(reason string) error
	Resume(reason string) error
}

// Executor is the executor as the API uses it (*executor.Executor).
type Executor interface {
	Execute(executor.Request) error
	Stop() error
	State() executor.State
}

// Anomalies is the anomaly detector as the API shows it
// (*anomaly.Manager); nil: no detector, every list empty.
type Anomalies interface {
	State() anomaly.State
	// SetSelfHealing turns self-healing on and off per type (admin).
	SetSelfHealing(enable, disable []anomaly.Type) (before, after [anomaly.NumTypes]bool)
}

// Options configure a Server.
type Options struct {
	Monitor  Monitor
	Executor Executor
	Admin    *kadm.Client // kafka_cluster_state, demote_broker's in-sync check
	// Anomalies is rendered by state?substates=anomaly_detector.
	Anomalies Anomalies
	Planner   planner.Config
	// MaxBlock is webserver.request.maxBlockTimeMs: how long a request
	// waits for its task before answering 202 (default 10 s).
	MaxBlock time.Duration
	// TaskRetention is completed.user.task.retention.time.ms (default
	// 6 h); MaxActiveTasks is max.active.user.tasks (default 25).
	TaskRetention  time.Duration
	MaxActiveTasks int
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
	Now            func() time.Time
}

// Server is the REST API. Close stops its tasks.
type Server struct {
	o       Options
	tasks   *tasks
	cancel  context.CancelFunc
	metrics *metrics

	mu    sync.Mutex
	cache *cachedProposal // the last default-goal proposal (proposals' cache)
}

// New returns a Server; register its Handler under Prefix.
func New(o Options) *Server {
	if o.MaxBlock <= 0 {
		o.MaxBlock = 10 * time.Second
	}
	if o.TaskRetention <= 0 {
		o.TaskRetention = 6 * time.Hour
	}
	if o.MaxActiveTasks <= 0 {
		o.MaxActiveTasks = 25
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{o: o, tasks: newTasks(ctx, o.TaskRetention, o.MaxActiveTasks, o.Now), cancel: cancel, metrics: newMetrics(o.Registerer)}
}

// Close cancels the running tasks and waits for them.
func (s *Server) Close() {
	s.cancel()
	s.tasks.wait()
}

// handlerFunc serves one endpoint: t is the user task for asynchronous
// endpoints, nil for the others.
type handlerFunc func(ctx context.Context, p *params, t *userTask) (any, error)

// endpoint is one of Cruise Control's endpoints.
type endpoint struct {
	name   string
	method string
	async  bool
	params []string
	handle handlerFunc
}

func (s *Server) endpoints() map[string]endpoint {
	list := []endpoint{
		s.stateEndpoint(), s.loadEndpoint(), s.partitionLoadEndpoint(), s.proposalsEndpoint(),
		s.kafkaClusterStateEndpoint(), s.userTasksEndpoint(),
		s.rebalanceEndpoint(), s.addBrokerEndpoint(), s.removeBrokerEndpoint(), s.demoteBrokerEndpoint(),
		s.fixOfflineReplicasEndpoint(), s.stopProposalExecutionEndpoint(),
		s.pauseSamplingEndpoint(), s.resumeSamplingEndpoint(), s.adminEndpoint(),
	}
	m := make(map[string]endpoint, len(list))
	for _, e := range list {
		m[e.name] = e
	}
	return m
}

// Handler serves every endpoint under Prefix.
func (s *Server) Handler() http.Handler {
	eps := s.endpoints()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cruise-Control-Version", Version)
		name := strings.ToLower(strings.Trim(strings.TrimPrefix(r.URL.Path, Prefix), "/"))
		e, ok := eps[name]
		if !ok {
			writeError(w, r, http.StatusNotFound, userErr("Unrecognized endpoint in request '%s'. Supported endpoints: %s", r.URL.Path, endpointNames(eps)))
			return
		}
		if r.Method != e.method {
			writeError(w, r, http.StatusMethodNotAllowed, userErr("Unsupported request method: %s %s takes %s", r.Method, e.name, e.method))
			return
		}
		s.serve(w, r, e)
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, e endpoint) {
	if err := r.ParseForm(); err != nil {
		writeError(w, r, http.StatusBadRequest, userErr("reading the request's parameters: %v", err))
		return
	}
	p, err := parseParams(e.name, e.method, r.Form, e.params)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err)
		return
	}
	if !e.async {
		res, err := e.handle(r.Context(), p, nil)
		s.respond(w, r, p, res, err)
		return
	}
	s.serveAsync(w, r, e, p)
}

// serveAsync runs the endpoint as a user task, or follows the one the
// request refers to, answering within MaxBlock.
func (s *Server) serveAsync(w http.ResponseWriter, r *http.Request, e endpoint, p *params) {
	t, err := s.tasks.find(r)
	if err == nil && t == nil {
		t, err = s.tasks.start(w, r, e.name, func(ctx context.Context, t *userTask) (any, error) { return e.handle(ctx, p, t) })
	}
	if err != nil {
		writeError(w, r, statusOf(err), err)
		return
	}
	w.Header().Set(userTaskHeader, t.id)
	timer := time.NewTimer(s.o.MaxBlock)
	defer timer.Stop()
	select {
	case <-t.done:
		s.tasks.deliver(t)
		s.respond(w, r, p, t.result, t.err)
	case <-timer.C:
		s.respondProgress(w, t, e.name)
	case <-r.Context().Done():
	}
}

// respond writes a result (JSON, or text when json=false) or an error.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, p *params, res any, err error) {
	if err != nil {
		writeError(w, r, statusOf(err), err)
		return
	}
	asJSON, _ := p.boolean("json", false)
	if t, ok := res.(texter); ok && !asJSON {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, t.Text())
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// texter is a result with a plain-text form for json=false.
type texter interface{ Text() string }

// respondProgress is the 202 answer of a task still running.
func (s *Server) respondProgress(w http.ResponseWriter, t *userTask, op string) {
	s.tasks.mu.Lock()
	step := t.step
	s.tasks.mu.Unlock()
	if step == "" {
		step = "Pending"
	}
	elapsed := s.o.Now().Sub(t.start).Milliseconds()
	writeJSON(w, http.StatusAccepted, map[string]any{
		"version": 1,
		"progress": []any{map[string]any{
			"operation": operationName(op),
			"operationProgress": []any{map[string]any{
				"step": step, "description": stepDescriptions[step], "time-in-ms": elapsed, "completionPercentage": 0.0,
			}},
		}},
	})
}

var stepDescriptions = map[string]string{
	"Pending":                "Waiting to start.",
	"WaitingForClusterModel": "The job requires a cluster model and it is waiting to get the cluster model lock.",
	"GeneratingClusterModel": "Generating the load model of the cluster from the collected samples.",
	"OptimizationForGoal":    "Optimizing the proposal for the goals, in priority order.",
	"StartingExecution":      "Handing the proposal to the executor.",
	"RetrievingMetadata":     "Retrieving the cluster's metadata from Kafka.",
}

func operationName(endpoint string) string {
	parts := strings.Split(endpoint, "_")
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, "")
}

func endpointNames(eps map[string]endpoint) string {
	var names []string
	for n := range eps {
		names = append(names, n)
	}
	return strings.Join(sortedStrings(names), ", ")
}

func statusOf(err error) int {
	var br *badRequest
	switch {
	case errors.As(err, &br):
		return http.StatusBadRequest
	case errors.Is(err, errConflict):
		return http.StatusConflict
	case errors.Is(err, errNotReady):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errConflict marks a request refused because of what is running.
var errConflict = errors.New("conflict")

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// writeError writes Cruise Control's error body.
func writeError(w http.ResponseWriter, r *http.Request, code int, err error) {
	if !strings.EqualFold(r.FormValue("json"), "true") {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		fmt.Fprintln(w, err.Error())
		return
	}
	writeJSON(w, code, map[string]any{"errorMessage": err.Error(), "stackTrace": "", "version": 1})
}

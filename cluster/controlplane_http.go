package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// The control plane's REST API follows MSK's paths and JSON (camelCase),
// so MSK's words carry over and `weir cluster` is a thin client of it:
//
//	GET  /v1/clusters                              ListClusters
//	GET  /v1/clusters/{arn}                        DescribeCluster
//	GET  /v1/clusters/{arn}/operations             ListClusterOperations
//	GET  /v1/operations/{operationArn}             DescribeClusterOperation
//	PUT  /v1/clusters/{arn}/nodes/count            UpdateBrokerCount {currentVersion, targetNumberOfBrokerNodes}
//	PUT  /v1/clusters/{arn}/reboot-broker          RebootBroker {brokerIds}
//	PUT  /v1/clusters/{arn}/configuration          UpdateClusterConfiguration {currentVersion, serverProperties}
//	PUT  /v1/clusters/{arn}/version                UpdateClusterKafkaVersion {currentVersion, targetBinary}: a new weir binary
//
// {arn} is the cluster's ARN (URL-encoded), its name, or "current".
// Errors are {"message": ...} with 400 (bad request), 404 (unknown
// cluster or operation) or 409 (the cluster is not ACTIVE), as MSK's
// BadRequestException, NotFoundException and ConflictException.

// ClusterInfo is MSK's ClusterInfo, with Weir's brokers and storage.
type ClusterInfo struct {
	ClusterARN          string           `json:"clusterArn"`
	ClusterName         string           `json:"clusterName"`
	ClusterID           string           `json:"clusterId"`
	State               string           `json:"state"`
	CurrentVersion      string           `json:"currentVersion"`
	NumberOfBrokerNodes int              `json:"numberOfBrokerNodes"`
	SoftwareVersion     string           `json:"currentBrokerSoftwareInfo"`
	Bootstrap           string           `json:"bootstrapBrokerString"`
	Brokers             []BrokerNodeInfo `json:"brokerNodes"`
	ActiveOperationARN  string           `json:"activeOperationArn,omitempty"`
	// ConfigurationRevision and Configuration are the broker config
	// overrides the cluster runs with.
	ConfigurationRevision int               `json:"configurationRevision"`
	Configuration         map[string]string `json:"configuration"`
}

// BrokerNodeInfo is one broker of ClusterInfo.
type BrokerNodeInfo struct {
	ID           int    `json:"brokerId"`
	Endpoint     string `json:"endpoint"`
	Rack         string `json:"rack"`
	State        State  `json:"processState"`
	StorageBytes int64  `json:"storageUsedBytes"` // -1 when the broker did not answer
	// ProvisionedBytes is the broker's provisioned storage (0: none, the
	// filesystem is the limit).
	ProvisionedBytes int64 `json:"provisionedStorageBytes"`
	// AgentMetrics is the broker's agent's Prometheus endpoint, when the
	// cluster runs agents.
	AgentMetrics string `json:"agentMetrics,omitempty"`
	// AgentNodeMetrics is its node (host) metrics endpoint.
	AgentNodeMetrics string `json:"agentNodeMetrics,omitempty"`
}

// Handler serves the REST API.
func (cp *ControlPlane) Handler(version string, statuses func() []Status) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := pathParts(r)
		switch {
		case len(parts) == 2 && parts[0] == "v1" && parts[1] == "clusters" && r.Method == http.MethodGet:
			info, err := cp.Describe(r.Context(), version, statuses())
			reply(w, map[string]any{"clusterInfoList": []ClusterInfo{info}}, err)
		case len(parts) == 3 && parts[0] == "v1" && parts[1] == "operations" && r.Method == http.MethodGet:
			op, ok := cp.Operation(parts[2])
			if !ok {
				replyErr(w, http.StatusNotFound, fmt.Errorf("no operation %s", parts[2]))
				return
			}
			reply(w, map[string]any{"clusterOperationInfo": op}, nil)
		case len(parts) == 3 && parts[0] == "v1" && parts[1] == "clusters" && r.Method == http.MethodDelete:
			if err := cp.Delete(parts[2], r.URL.Query().Get("currentVersion")); err != nil {
				replyErr(w, statusFor(err), err)
				return
			}
			reply(w, map[string]any{"clusterArn": cp.ClusterARN(), "state": StateDeleting}, nil)
		case len(parts) >= 3 && parts[0] == "v1" && parts[1] == "clusters":
			if !cp.isThisCluster(parts[2]) {
				replyErr(w, http.StatusNotFound, fmt.Errorf("no cluster %s here (this is %s)", parts[2], cp.ClusterARN()))
				return
			}
			cp.serveCluster(w, r, strings.Join(parts[3:], "/"), version, statuses)
		default:
			replyErr(w, http.StatusNotFound, fmt.Errorf("no %s %s in the control plane's API", r.Method, r.URL.Path))
		}
	})
}

func (cp *ControlPlane) serveCluster(w http.ResponseWriter, r *http.Request, rest, version string, statuses func() []Status) {
	switch {
	case rest == "" && r.Method == http.MethodGet:
		info, err := cp.Describe(r.Context(), version, statuses())
		reply(w, map[string]any{"clusterInfo": info}, err)
	case rest == "operations" && r.Method == http.MethodGet:
		reply(w, map[string]any{"clusterOperationInfoList": cp.Operations()}, nil)
	case rest == "nodes/count" && r.Method == http.MethodPut:
		var req struct {
			CurrentVersion string `json:"currentVersion"`
			Target         int    `json:"targetNumberOfBrokerNodes"`
		}
		if !decode(w, r, &req) {
			return
		}
		arn, err := cp.UpdateBrokerCount(context.WithoutCancel(r.Context()), req.Target, req.CurrentVersion)
		cp.replyOp(w, arn, err)
	case rest == "nodes/storage" && r.Method == http.MethodPut:
		var req struct {
			CurrentVersion string         `json:"currentVersion"`
			Volumes        []BrokerVolume `json:"targetBrokerEBSVolumeInfo"`
		}
		if !decode(w, r, &req) {
			return
		}
		arn, err := cp.UpdateBrokerStorage(context.WithoutCancel(r.Context()), req.Volumes, req.CurrentVersion)
		cp.replyOp(w, arn, err)
	case rest == "reboot-broker" && r.Method == http.MethodPut:
		var req struct {
			BrokerIDs []string `json:"brokerIds"`
		}
		if !decode(w, r, &req) {
			return
		}
		ids, err := atois(req.BrokerIDs)
		if err != nil {
			replyErr(w, http.StatusBadRequest, err)
			return
		}
		arn, err := cp.RebootBroker(context.WithoutCancel(r.Context()), ids)
		cp.replyOp(w, arn, err)
	case rest == "configuration" && r.Method == http.MethodPut:
		var req struct {
			CurrentVersion   string `json:"currentVersion"`
			ServerProperties string `json:"serverProperties"`
		}
		if !decode(w, r, &req) {
			return
		}
		props, err := ParseProperties(req.ServerProperties)
		if err != nil {
			replyErr(w, http.StatusBadRequest, fmt.Errorf("serverProperties: %w", err))
			return
		}
		arn, err := cp.UpdateConfiguration(context.WithoutCancel(r.Context()), props, req.CurrentVersion)
		cp.replyOp(w, arn, err)
	case rest == "version" && r.Method == http.MethodPut:
		var req struct {
			CurrentVersion string `json:"currentVersion"`
			TargetBinary   string `json:"targetBinary"`
		}
		if !decode(w, r, &req) {
			return
		}
		arn, err := cp.Upgrade(context.WithoutCancel(r.Context()), req.TargetBinary, req.CurrentVersion)
		cp.replyOp(w, arn, err)
	default:
		replyErr(w, http.StatusNotFound, fmt.Errorf("no %s %s in the control plane's API", r.Method, r.URL.Path))
	}
}

// pathParts splits the escaped path and unescapes each segment, so an
// ARN with its slashes encoded stays one segment.
func pathParts(r *http.Request) []string {
	var out []string
	for _, p := range strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/") {
		if u, err := url.PathUnescape(p); err == nil {
			p = u
		}
		out = append(out, p)
	}
	return out
}

func (cp *ControlPlane) isThisCluster(ref string) bool {
	return ref == "current" || ref == cp.ClusterARN() || ref == clusterName(cp.l) || ref == cp.Spec().ClusterID
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		replyErr(w, http.StatusBadRequest, fmt.Errorf("reading the request body: %w", err))
		return false
	}
	return true
}

func atois(ss []string) ([]int, error) {
	out := make([]int, len(ss))
	for i, s := range ss {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("broker id %q is not a number", s)
		}
		out[i] = n
	}
	return out, nil
}

func (cp *ControlPlane) replyOp(w http.ResponseWriter, arn string, err error) {
	if err != nil {
		replyErr(w, statusFor(err), err)
		return
	}
	reply(w, map[string]any{"clusterArn": cp.ClusterARN(), "clusterOperationArn": arn}, nil)
}

func statusFor(err error) int {
	switch {
	case errors.Is(err, errBusy):
		return http.StatusConflict
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		replyErr(w, statusFor(err), err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func replyErr(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"message": err.Error()})
}

// Describe is DescribeCluster: the state, the shape, each broker's
// process state and storage used (DescribeLogDirs), the running operation.
func (cp *ControlPlane) Describe(ctx context.Context, version string, st []Status) (ClusterInfo, error) {
	cp.mu.Lock()
	s, state, ver := cp.mu.spec, cp.mu.state, cp.versionLocked()
	var active string
	if op := cp.mu.ops.running(); op != nil {
		active = op.ARN
	}
	cp.mu.Unlock()
	info := ClusterInfo{ClusterARN: cp.ClusterARN(), ClusterName: clusterName(cp.l), ClusterID: s.ClusterID, State: state,
		CurrentVersion: ver, NumberOfBrokerNodes: len(s.Brokers), SoftwareVersion: version, Bootstrap: s.Bootstrap(),
		ActiveOperationARN: active, ConfigurationRevision: s.ConfigRevision, Configuration: s.ConfigOverrides}
	used := cp.storageUsed(ctx, s.Brokers)
	byName := map[string]State{}
	for _, x := range st {
		byName[x.Name] = x.State
	}
	for _, b := range s.Brokers {
		u, ok := used[int32(b.ID)]
		if !ok {
			u = -1
		}
		node := BrokerNodeInfo{ID: b.ID, Endpoint: b.Kafka(s.Host), Rack: b.Rack,
			State: orState(byName[brokerName(b.ID)]), StorageBytes: u, ProvisionedBytes: b.StorageBytes}
		if cp.agents {
			node.AgentMetrics = "http://" + b.Agent(s.Host) + "/metrics"
			node.AgentNodeMetrics = "http://" + b.AgentNode(s.Host) + "/metrics"
		}
		info.Brokers = append(info.Brokers, node)
	}
	return info, nil
}

// storageUsed sums each broker's log dirs (DescribeLogDirs, one broker at
// a time so a broker that does not answer costs only its own figure).
func (cp *ControlPlane) storageUsed(ctx context.Context, brokers []BrokerSpec) map[int32]int64 {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out := map[int32]int64{}
	for _, b := range brokers {
		dirs, err := cp.adm.DescribeBrokerLogDirs(ctx, int32(b.ID), nil)
		if err != nil {
			continue
		}
		var sum int64
		dirs.Each(func(d kadm.DescribedLogDir) {
			d.Topics.Each(func(p kadm.DescribedLogDirPartition) { sum += p.Size })
		})
		out[int32(b.ID)] = sum
	}
	return out
}

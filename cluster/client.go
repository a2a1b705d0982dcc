package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client speaks the control plane's REST API (weir cluster uses it).
type Client struct {
	Base string // http://host:port
	HTTP *http.Client
}

// NewClient returns a client for the control plane at base (host:port or
// a URL).
func NewClient(base string) *Client {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &Client{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Describe is DescribeCluster.
func (c *Client) Describe(ctx context.Context) (ClusterInfo, error) {
	var out struct {
		Info ClusterInfo `json:"clusterInfo"`
	}
	err := c.call(ctx, http.MethodGet, "/v1/clusters/current", nil, &out)
	return out.Info, err
}

// Operations is ListClusterOperations, newest first.
func (c *Client) Operations(ctx context.Context) ([]Operation, error) {
	var out struct {
		Ops []Operation `json:"clusterOperationInfoList"`
	}
	err := c.call(ctx, http.MethodGet, "/v1/clusters/current/operations", nil, &out)
	return out.Ops, err
}

// Operation is DescribeClusterOperation.
func (c *Client) Operation(ctx context.Context, arn string) (Operation, error) {
	var out struct {
		Op Operation `json:"clusterOperationInfo"`
	}
	err := c.call(ctx, http.MethodGet, "/v1/operations/"+url.PathEscape(arn), nil, &out)
	return out.Op, err
}

// UpdateBrokerCount starts an UPDATE_BROKER_COUNT operation.
func (c *Client) UpdateBrokerCount(ctx context.Context, target int, currentVersion string) (string, error) {
	body := map[string]any{"targetNumberOfBrokerNodes": target, "currentVersion": currentVersion}
	return c.operation(ctx, "/v1/clusters/current/nodes/count", body)
}

// UpdateBrokerStorage starts an UPDATE_BROKER_STORAGE operation that sets
// the provisioned storage of the given brokers (none: all) to bytes.
func (c *Client) UpdateBrokerStorage(ctx context.Context, brokers []int, bytes int64, currentVersion string) (string, error) {
	var vols []BrokerVolume
	if len(brokers) == 0 {
		vols = []BrokerVolume{{BrokerID: AllBrokers, SizeBytes: bytes}}
	}
	for _, b := range brokers {
		vols = append(vols, BrokerVolume{BrokerID: strconv.Itoa(b), SizeBytes: bytes})
	}
	body := map[string]any{"targetBrokerEBSVolumeInfo": vols, "currentVersion": currentVersion}
	return c.operation(ctx, "/v1/clusters/current/nodes/storage", body)
}

// Delete is DeleteCluster: ref is the cluster's ARN (or name, or id).
func (c *Client) Delete(ctx context.Context, ref, currentVersion string) error {
	q := ""
	if currentVersion != "" {
		q = "?currentVersion=" + url.QueryEscape(currentVersion)
	}
	var out struct {
		State string `json:"state"`
	}
	return c.call(ctx, http.MethodDelete, "/v1/clusters/"+url.PathEscape(ref)+q, nil, &out)
}

// RebootBroker starts a REBOOT_NODE operation.
func (c *Client) RebootBroker(ctx context.Context, ids []string) (string, error) {
	return c.operation(ctx, "/v1/clusters/current/reboot-broker", map[string]any{"brokerIds": ids})
}

// UpdateConfiguration starts an UPDATE_CLUSTER_CONFIGURATION operation.
func (c *Client) UpdateConfiguration(ctx context.Context, serverProperties, currentVersion string) (string, error) {
	body := map[string]any{"serverProperties": serverProperties, "currentVersion": currentVersion}
	return c.operation(ctx, "/v1/clusters/current/configuration", body)
}

// Upgrade starts a rolling restart onto another weir binary.
func (c *Client) Upgrade(ctx context.Context, binary, currentVersion string) (string, error) {
	body := map[string]any{"targetBinary": binary, "currentVersion": currentVersion}
	return c.operation(ctx, "/v1/clusters/current/version", body)
}

func (c *Client) operation(ctx context.Context, path string, body any) (string, error) {
	var out struct {
		ARN string `json:"clusterOperationArn"`
	}
	err := c.call(ctx, http.MethodPut, path, body, &out)
	return out.ARN, err
}

// Wait polls the operation until it ends, calling progress on each change
// of its steps, and returns it.
func (c *Client) Wait(ctx context.Context, arn string, progress func(Operation)) (Operation, error) {
	last := -1
	for {
		op, err := c.Operation(ctx, arn)
		if err != nil {
			return op, err
		}
		if n := len(op.Steps); progress != nil && (n != last || op.State != OpInProgress) {
			progress(op)
			last = n
		}
		if op.State != OpInProgress && op.State != OpPending {
			return op, nil
		}
		select {
		case <-ctx.Done():
			return op, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("calling the control plane at %s: %w", c.Base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("reading the control plane's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		return &APIError{Status: resp.StatusCode, Message: e.Message}
	}
	return json.Unmarshal(data, out)
}

// APIError is the control plane's refusal: its HTTP status (400 a bad
// request, 404 unknown, 409 the cluster is not ACTIVE) and message.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status) }

// Busy reports whether the control plane refused because the cluster is
// not ACTIVE (another operation, healing, a reboot).
func (e *APIError) Busy() bool { return e.Status == http.StatusConflict }

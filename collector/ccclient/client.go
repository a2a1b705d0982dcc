// Package ccclient is a Go client for Cruise Control's REST API: Weir's
// collector, or Cruise Control itself. It follows the asynchronous
// protocol (202 + User-Task-ID until the result is ready) and decodes the
// answers `weir rebalance` shows; summary.go sums a proposal up per broker
// (MovesPerBroker) and a load per resource (BrokerStats.Spread).
package ccclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one collector.
type Client struct {
	Base string // e.g. http://127.0.0.1:9090
	HTTP *http.Client
	// Poll is how often a 202 is asked again (default 1 s).
	Poll time.Duration
	// Progress, if set, sees each 202's step.
	Progress func(step string)
}

// New returns a client for the collector at base (host:port or a URL).
func New(base string) *Client {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &Client{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: 2 * time.Minute}, Poll: time.Second}
}

// SetSelfHealing switches self-healing on and off per anomaly type
// (Cruise Control's admin endpoint).
func (c *Client) SetSelfHealing(ctx context.Context, enable, disable []string) error {
	q := url.Values{}
	if len(enable) > 0 {
		q.Set("enable_self_healing_for", strings.Join(enable, ","))
	}
	if len(disable) > 0 {
		q.Set("disable_self_healing_for", strings.Join(disable, ","))
	}
	return c.Do(ctx, "POST", "admin", q, nil)
}

// Anomalies returns the anomaly detector's state.
func (c *Client) Anomalies(ctx context.Context) (*AnomalyState, error) {
	var st State
	if err := c.Do(ctx, "GET", "state", url.Values{"substates": {"anomaly_detector"}}, &st); err != nil {
		return nil, err
	}
	if st.Anomaly == nil {
		return nil, fmt.Errorf("the collector's state has no anomaly detector")
	}
	return st.Anomaly, nil
}

// Error is an error answer of the API.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status) }

// Do calls an endpoint with params (json=true is added) and decodes the
// final answer into out, following 202s.
func (c *Client) Do(ctx context.Context, method, endpoint string, params url.Values, out any) error {
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("json", "true")
	u := c.Base + "/kafkacruisecontrol/" + endpoint + "?" + q.Encode()
	taskID := ""
	for {
		body, status, id, err := c.once(ctx, method, u, taskID)
		if err != nil {
			return err
		}
		if status == http.StatusAccepted {
			taskID = id
			c.report(body)
			if err := sleep(ctx, c.Poll); err != nil {
				return err
			}
			continue
		}
		if status != http.StatusOK {
			return apiError(status, body)
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("decoding the %s answer: %w", endpoint, err)
		}
		return nil
	}
}

func (c *Client) once(ctx context.Context, method, u, taskID string) ([]byte, int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, 0, "", err
	}
	if taskID != "" {
		req.Header.Set("User-Task-ID", taskID)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, 0, "", fmt.Errorf("calling the collector at %s: %w", c.Base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, 0, "", fmt.Errorf("reading the collector's answer: %w", err)
	}
	return body, resp.StatusCode, resp.Header.Get("User-Task-ID"), nil
}

func (c *Client) report(body []byte) {
	if c.Progress == nil {
		return
	}
	var p struct {
		Progress []struct {
			OperationProgress []struct{ Step, Description string } `json:"operationProgress"`
		} `json:"progress"`
	}
	if json.Unmarshal(body, &p) == nil && len(p.Progress) > 0 && len(p.Progress[0].OperationProgress) > 0 {
		st := p.Progress[0].OperationProgress[0]
		c.Progress(st.Step + ": " + st.Description)
	}
}

func apiError(status int, body []byte) error {
	var e struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &e) == nil && e.ErrorMessage != "" {
		return &Error{Status: status, Message: e.ErrorMessage}
	}
	return &Error{Status: status, Message: strings.TrimSpace(string(body))}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

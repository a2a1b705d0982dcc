package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/collector/ccclient"
	"github.com/weirhq/weir/internal/await"
)

// TestUpRunsTheCollector: `weir up --agents` (what `make run` runs) starts
// the collector beside the brokers and agents, prints its endpoint, writes
// it to endpoints.json, and the agents' samples give it a valid model: a
// proposal. The time from `weir up` to the first proposal is logged (the
// collector's defaults aim at well under a minute; `make bench` has no
// cluster to measure it on, so the figure comes from here).
func TestUpRunsTheCollector(t *testing.T) {
	t.Parallel()
	bin := brokertest.Binary(t)
	dir := filepath.Join(t.TempDir(), "cluster")
	base := freeRange(t, 1, 0)
	adminBase := freeRange(t, 1, base)
	agentBase := freeRange(t, 2, adminBase)
	collectorPort := freeRange(t, 1, agentBase)
	start := time.Now()
	up := startUp(t, bin, "--brokers", "1", "--dir", dir, "--agents", "--no-monitoring", "--base-port", fmt.Sprint(base),
		"--admin-base-port", fmt.Sprint(adminBase), "--agent-base-port", fmt.Sprint(agentBase),
		"--collector-port", fmt.Sprint(collectorPort))
	e := up.waitEndpoints(t, dir)
	want := fmt.Sprintf("http://127.0.0.1:%d/kafkacruisecontrol/", collectorPort)
	if e.Collector == nil || e.Collector.API != want {
		t.Fatalf("endpoints.json collector: %+v, want the API at %s", e.Collector, want)
	}
	// endpoints.json is written just before the summary is printed.
	await.For(t, 10*time.Second, "weir up to print the collector's endpoint", func() error {
		if !strings.Contains(up.stdout(), "collector: "+want) {
			return fmt.Errorf("not in:\n%s", up.stdout())
		}
		return nil
	})
	api := ccclient.New(fmt.Sprintf("127.0.0.1:%d", collectorPort))
	var o ccclient.Optimization
	await.For(t, 2*time.Minute, "the collector's first proposal", func() error {
		return api.Do(context.Background(), "GET", "proposals", nil, &o)
	})
	t.Logf("first valid proposal %v after weir up started (%d windows, %.1f%% of partitions)",
		time.Since(start).Round(100*time.Millisecond), o.Summary.RecentWindows, o.Summary.MonitoredPartitionsPercentage)
	if len(o.LoadAfter.Brokers) != 1 || o.LoadAfter.Brokers[0].Broker != 1 {
		t.Errorf("the model's brokers: %+v", o.LoadAfter.Brokers)
	}
}

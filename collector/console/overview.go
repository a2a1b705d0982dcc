package console

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/weirhq/weir/collector/ccclient"
)

// brokerRow is one broker on the overview.
type brokerRow struct {
	ID                int32
	Host              string
	Rack              string
	Controller        bool
	Used, Provisioned int64 // bytes; -1 when unknown
	HasLoad           bool
	CPU               float64 // percent
	In, Out           float64 // KB/s
	Replicas, Leaders int
	State             string // the model's broker state
}

// clusterView is what the overview shows.
type clusterView struct {
	ClusterID   string
	State       string // the control plane's, "" when not configured
	StateErr    string
	Controller  int32
	Brokers     []brokerRow
	Topics      int
	Partitions  int
	URP         int // under-replicated partitions
	Offline     int // partitions without a leader
	LoadErr     string
	LogDirsErr  string
	Elapsed     time.Duration
	PlaneConfig bool
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := c.ctx(r)
	defer cancel()
	v, err := c.gatherCluster(ctx)
	if err != nil {
		return err
	}
	return c.render(w, r, http.StatusOK, "overview", view{Title: "Overview", Nav: "overview", Refresh: 5, Data: v})
}

// gatherCluster asks the cluster (metadata, log dirs), the collector's
// model (load) and the control plane (state) at once.
func (c *Console) gatherCluster(ctx context.Context) (clusterView, error) {
	start := time.Now()
	var (
		wg      sync.WaitGroup
		md      kadm.Metadata
		mdErr   error
		dirs    kadm.DescribedAllLogDirs
		dirsErr error
		load    ccclient.BrokerStats
		loadErr error
		state   string
		cpErr   error
	)
	wg.Add(4)
	go func() { defer wg.Done(); md, mdErr = c.adm.Metadata(ctx) }()
	go func() { defer wg.Done(); dirs, dirsErr = c.adm.DescribeAllLogDirs(ctx, nil) }()
	go func() {
		defer wg.Done()
		loadErr = c.cc.Do(ctx, http.MethodGet, "load", url.Values{}, &load)
	}()
	go func() { defer wg.Done(); state, cpErr = c.clusterState(ctx) }()
	wg.Wait()
	if mdErr != nil {
		return clusterView{}, mdErr
	}
	v := buildCluster(md, dirs, load)
	v.State, v.PlaneConfig = state, c.o.ControlPlane != ""
	v.LoadErr, v.LogDirsErr, v.StateErr = errText(loadErr), errText(dirsErr), errText(cpErr)
	v.Elapsed = time.Since(start)
	return v, nil
}

// buildCluster joins the metadata, the log dirs and the model's loads
// into the overview's rows (pure).
func buildCluster(md kadm.Metadata, dirs kadm.DescribedAllLogDirs, load ccclient.BrokerStats) clusterView {
	v := clusterView{ClusterID: md.Cluster, Controller: md.Controller}
	loads := map[int32]ccclient.BrokerLoad{}
	for _, b := range load.Brokers {
		loads[b.Broker] = b
	}
	for _, b := range md.Brokers {
		row := brokerRow{ID: b.NodeID, Host: b.Host, Controller: b.NodeID == md.Controller, Used: -1, Provisioned: -1}
		if b.Rack != nil {
			row.Rack = *b.Rack
		}
		if ds, ok := dirs[b.NodeID]; ok {
			row.Used, row.Provisioned = dirTotals(ds)
		}
		if l, ok := loads[b.NodeID]; ok {
			row.HasLoad, row.CPU, row.In, row.Out = true, l.CPUPct, l.LeaderNwInRate+l.FollowerNwInRate, l.NwOutRate
			row.State = l.BrokerState
		}
		v.Brokers = append(v.Brokers, row)
	}
	sort.Slice(v.Brokers, func(i, j int) bool { return v.Brokers[i].ID < v.Brokers[j].ID })
	for _, t := range md.Topics {
		v.Topics++
		for _, p := range t.Partitions {
			v.Partitions++
			if len(p.ISR) < len(p.Replicas) {
				v.URP++
			}
			if p.Leader < 0 {
				v.Offline++
			}
		}
	}
	counts := map[int32][2]int{}
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			for _, id := range p.Replicas {
				n := counts[id]
				n[0]++
				if id == p.Leader {
					n[1]++
				}
				counts[id] = n
			}
		}
	}
	for i := range v.Brokers {
		n := counts[v.Brokers[i].ID]
		v.Brokers[i].Replicas, v.Brokers[i].Leaders = n[0], n[1]
	}
	return v
}

// dirTotals sums a broker's log dirs: the partitions' bytes and the
// dirs' total (the provisioned size on Weir's brokers, KIP-827).
func dirTotals(ds kadm.DescribedLogDirs) (used, total int64) {
	total = 0
	for _, d := range ds {
		if d.Err != nil {
			continue
		}
		used += d.Size()
		if d.TotalBytes > 0 {
			total += d.TotalBytes
		}
	}
	if total == 0 {
		total = -1
	}
	return used, total
}

// clusterState is the control plane's state of the cluster.
func (c *Console) clusterState(ctx context.Context) (string, error) {
	if c.o.ControlPlane == "" {
		return "", nil
	}
	var out struct {
		Info struct {
			State string `json:"state"`
		} `json:"clusterInfo"`
	}
	if err := c.getJSON(ctx, c.o.ControlPlane, "/v1/clusters/current", &out); err != nil {
		return "", err
	}
	return out.Info.State, nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// loadView is the broker × resource heatmap.
type loadView struct {
	Resources []string
	Rows      []loadRow
	Err       string
}

// loadRow is one broker's utilization per resource, in percent of its
// capacity (replicas and leaders: of the busiest broker).
type loadRow struct {
	Broker int32
	Rack   string
	State  string
	Cells  []loadCell
}

type loadCell struct {
	Pct   float64
	Label string
}

func (c *Console) load(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := c.ctx(r)
	defer cancel()
	var st ccclient.BrokerStats
	v := loadView{Resources: heatResources}
	if err := c.cc.Do(ctx, http.MethodGet, "load", url.Values{}, &st); err != nil {
		v.Err = err.Error()
	} else {
		v.Rows = heatRows(st)
	}
	return c.render(w, r, http.StatusOK, "load", view{Title: "Load", Nav: "load", Refresh: 10, Data: v})
}

var heatResources = []string{"CPU", "Disk", "Network in", "Network out", "Replicas", "Leaders"}

// heatRows turns the model's loads into heatmap rows (pure). Replicas
// and leaders have no capacity: their cells are hot by how far a broker
// is above the brokers' mean (green at or below it, red 40 % above).
func heatRows(st ccclient.BrokerStats) []loadRow {
	var sumReplicas, sumLeaders float64
	for _, b := range st.Brokers {
		sumReplicas += float64(b.Replicas)
		sumLeaders += float64(b.Leaders)
	}
	n := float64(max(1, len(st.Brokers)))
	var rows []loadRow
	for _, b := range st.Brokers {
		in := b.LeaderNwInRate + b.FollowerNwInRate
		rows = append(rows, loadRow{Broker: b.Broker, Rack: b.Rack, State: b.BrokerState, Cells: []loadCell{
			{b.CPUPct, pctLabel(b.CPUPct)},
			{b.DiskPct, pctLabel(b.DiskPct) + " · " + humanMB(b.DiskMB)},
			{share(in, b.NetworkInCap), pctLabel(share(in, b.NetworkInCap)) + " · " + humanRate(in)},
			{share(b.NwOutRate, b.NetworkOutCap), pctLabel(share(b.NwOutRate, b.NetworkOutCap)) + " · " + humanRate(b.NwOutRate)},
			aboveMean(b.Replicas, sumReplicas/n),
			aboveMean(b.Leaders, sumLeaders/n),
		}})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Broker < rows[j].Broker })
	return rows
}

// aboveMean is a count's cell: 0 at or below the mean, 100 at 40 % above.
func aboveMean(count int, mean float64) loadCell {
	label := fmt.Sprintf("%d (mean %.1f)", count, mean)
	if mean <= 0 {
		return loadCell{0, label}
	}
	return loadCell{math.Max(0, float64(count)/mean-1) * 250, label}
}

func share(v, capacity float64) float64 {
	if capacity <= 0 {
		return -1
	}
	return 100 * v / capacity
}

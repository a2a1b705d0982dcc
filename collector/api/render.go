package api

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/weirhq/weir/collector/model"
)

// Cruise Control's units at the REST edge.
const (
	mb = 1 << 20
	kb = 1 << 10
)

// brokerStats is Cruise Control's BrokerStats (load, loadAfterOptimization).
type brokerStats struct {
	Hosts   []hostStats   `json:"hosts"`
	Brokers []singleStats `json:"brokers"`
	Version int           `json:"version"`
}

type hostStats struct {
	Host string `json:"Host"`
	loadFields
}

type singleStats struct {
	Host        string `json:"Host"`
	Broker      int32  `json:"Broker"`
	BrokerState string `json:"BrokerState"`
	loadFields
}

// loadFields are the figures a broker and a host share.
type loadFields struct {
	Rack               string  `json:"Rack"`
	DiskMB             float64 `json:"DiskMB"`
	DiskPct            float64 `json:"DiskPct"`
	CPUPct             float64 `json:"CpuPct"`
	LeaderNwInRate     float64 `json:"LeaderNwInRate"`
	FollowerNwInRate   float64 `json:"FollowerNwInRate"`
	NwOutRate          float64 `json:"NwOutRate"`
	PnwOutRate         float64 `json:"PnwOutRate"`
	Replicas           int     `json:"Replicas"`
	Leaders            int     `json:"Leaders"`
	DiskCapacityMB     float64 `json:"DiskCapacityMB"`
	NetworkInCapacity  float64 `json:"NetworkInCapacity"`
	NetworkOutCapacity float64 `json:"NetworkOutCapacity"`
	NumCore            float64 `json:"NumCore"`
}

func (f *loadFields) add(o loadFields) {
	f.DiskMB += o.DiskMB
	f.LeaderNwInRate += o.LeaderNwInRate
	f.FollowerNwInRate += o.FollowerNwInRate
	f.NwOutRate += o.NwOutRate
	f.PnwOutRate += o.PnwOutRate
	f.Replicas += o.Replicas
	f.Leaders += o.Leaders
	f.DiskCapacityMB += o.DiskCapacityMB
	f.NetworkInCapacity += o.NetworkInCapacity
	f.NetworkOutCapacity += o.NetworkOutCapacity
	f.NumCore += o.NumCore
	f.CPUPct += o.CPUPct * o.NumCore // weighted; divided in finish
}

func (f *loadFields) finish() {
	f.DiskPct = pct(f.DiskMB, f.DiskCapacityMB)
	if f.NumCore > 0 {
		f.CPUPct /= f.NumCore
	}
}

func renderBrokerStats(c *model.Cluster) brokerStats {
	loads := c.BrokerLoads()
	out := brokerStats{Version: 1}
	hosts := map[string]*hostStats{}
	for i := range c.Brokers {
		b := &c.Brokers[i]
		f := brokerFields(b, loads[i])
		out.Brokers = append(out.Brokers, singleStats{Host: b.Host, Broker: b.ID, BrokerState: b.State.String(), loadFields: f})
		h, ok := hosts[b.Host]
		if !ok {
			h = &hostStats{Host: b.Host, loadFields: loadFields{Rack: b.Rack}}
			hosts[b.Host] = h
		}
		h.add(f)
	}
	for _, h := range hosts {
		h.finish()
		out.Hosts = append(out.Hosts, *h)
	}
	slices.SortFunc(out.Hosts, func(a, b hostStats) int { return cmp.Compare(a.Host, b.Host) })
	return out
}

func brokerFields(b *model.Broker, l model.BrokerLoad) loadFields {
	return loadFields{
		Rack:   b.Rack,
		DiskMB: round(l.Load[model.Disk] / mb), DiskPct: pct(l.Load[model.Disk], b.Capacity[model.Disk]),
		CPUPct:             pct(l.Load[model.CPU], b.Capacity[model.CPU]),
		LeaderNwInRate:     round(l.LeaderBytesIn / kb),
		FollowerNwInRate:   round(l.FollowerBytesIn / kb),
		NwOutRate:          round(l.Load[model.NetworkOut] / kb),
		PnwOutRate:         round(l.PotentialNetworkOut / kb),
		Replicas:           l.Replicas,
		Leaders:            l.Leaders,
		DiskCapacityMB:     round(b.Capacity[model.Disk] / mb),
		NetworkInCapacity:  round(b.Capacity[model.NetworkIn] / kb),
		NetworkOutCapacity: round(b.Capacity[model.NetworkOut] / kb),
		NumCore:            b.Capacity[model.CPU],
	}
}

// Text renders the load as Cruise Control's plain-text table.
func (s brokerStats) Text() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%7s%20s%15s%12s%11s%11s%18s%20s%15s%15s%12s%10s\n", "BROKER", "HOST", "RACK", "STATE",
		"DISK(MB)", "DISK(%)", "CPU(%)", "LEADER_NW_IN(KB/s)", "FOLLOWER_NW_IN", "NW_OUT(KB/s)", "REPLICAS", "LEADERS")
	for _, b := range s.Brokers {
		fmt.Fprintf(&sb, "%7d%20s%15s%12s%11.1f%11.2f%18.2f%20.1f%15.1f%15.1f%12d%10d\n", b.Broker, b.Host, b.Rack, b.BrokerState,
			b.DiskMB, b.DiskPct, b.CPUPct, b.LeaderNwInRate, b.FollowerNwInRate, b.NwOutRate, b.Replicas, b.Leaders)
	}
	return sb.String()
}

// clusterModelStats is Cruise Control's ClusterModelStats: utilization in
// the resources' units (cpu in percent, disk in MB, network in KB/s).
type clusterModelStats struct {
	Metadata   statsMetadata          `json:"metadata"`
	Statistics map[string]statsHolder `json:"statistics"`
}

type statsMetadata struct {
	Brokers  int `json:"brokers"`
	Replicas int `json:"replicas"`
	Topics   int `json:"topics"`
}

type statsHolder struct {
	CPU             float64 `json:"cpu"`
	NetworkInbound  float64 `json:"networkInbound"`
	NetworkOutbound float64 `json:"networkOutbound"`
	Disk            float64 `json:"disk"`
	PotentialNwOut  float64 `json:"potentialNwOut"`
	Replicas        float64 `json:"replicas"`
	LeaderReplicas  float64 `json:"leaderReplicas"`
	TopicReplicas   float64 `json:"topicReplicas"`
}

func renderModelStats(st model.Stats) clusterModelStats {
	out := clusterModelStats{
		Metadata:   statsMetadata{Brokers: st.Brokers, Replicas: st.Replicas, Topics: st.Topics},
		Statistics: map[string]statsHolder{},
	}
	pick := map[string]func(model.Spread) float64{
		"AVG": func(s model.Spread) float64 { return s.Avg }, "MAX": func(s model.Spread) float64 { return s.Max },
		"MIN": func(s model.Spread) float64 { return s.Min }, "STD": func(s model.Spread) float64 { return s.Std },
	}
	for name, f := range pick {
		out.Statistics[name] = statsHolder{
			CPU: round(f(st.Utilization[model.CPU]) * 100), NetworkInbound: round(f(st.Load[model.NetworkIn]) / kb),
			NetworkOutbound: round(f(st.Load[model.NetworkOut]) / kb), Disk: round(f(st.Load[model.Disk]) / mb),
			PotentialNwOut: round(f(st.PotentialNetworkOut) / kb), Replicas: round(f(st.ReplicaCount)),
			LeaderReplicas: round(f(st.LeaderCount)),
		}
	}
	return out
}

func pct(v, capacity float64) float64 {
	if capacity <= 0 {
		return 0
	}
	return round(v / capacity * 100)
}

// round keeps three decimals, as Cruise Control's output does.
func round(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*1000) / 1000
}

func sortedStrings(s []string) []string {
	slices.Sort(s)
	return s
}

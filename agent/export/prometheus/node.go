package prometheus

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirhq/weir/agent/snapshot"
)

// node_exporter's names.
var (
	dCPUSeconds   = desc("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", "cpu", "mode")
	dMemTotal     = desc("node_memory_MemTotal_bytes", "Memory information field MemTotal_bytes.")
	dMemFree      = desc("node_memory_MemFree_bytes", "Memory information field MemFree_bytes.")
	dMemAvailable = desc("node_memory_MemAvailable_bytes", "Memory information field MemAvailable_bytes.")
	dNetRx        = desc("node_network_receive_bytes_total", "Network device statistic receive_bytes.", "device")
	dNetTx        = desc("node_network_transmit_bytes_total", "Network device statistic transmit_bytes.", "device")
	dNetRxPackets = desc("node_network_receive_packets_total", "Network device statistic receive_packets.", "device")
	dNetTxPackets = desc("node_network_transmit_packets_total", "Network device statistic transmit_packets.", "device")
	dFSSize       = desc("node_filesystem_size_bytes", "Filesystem size in bytes.", "mountpoint")
	dFSAvail      = desc("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.", "mountpoint")
	dFSFree       = desc("node_filesystem_free_bytes", "Filesystem free space in bytes.", "mountpoint")
)

// nodeCollector emits the node endpoint's series from the latest snapshot.
// The node endpoint is the same at every level, as node_exporter's is.
type nodeCollector struct{ e *Exporter }

func (c *nodeCollector) Describe(chan<- *prometheus.Desc) {}

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.e.latest.Load()
	if s == nil || s.Host == nil {
		return
	}
	h := s.Host
	for _, t := range h.CPUTimes {
		cpuModes(ch, t)
	}
	ch <- gauge(dMemTotal, float64(h.Memory.TotalBytes))
	ch <- gauge(dMemFree, float64(h.Memory.FreeBytes))
	ch <- gauge(dMemAvailable, float64(h.Memory.AvailableBytes))
	for _, d := range h.Network {
		ch <- counter(dNetRx, float64(d.RxBytesTotal), d.Device)
		ch <- counter(dNetTx, float64(d.TxBytesTotal), d.Device)
		ch <- counter(dNetRxPackets, float64(d.RxPacketsTotal), d.Device)
		ch <- counter(dNetTxPackets, float64(d.TxPacketsTotal), d.Device)
	}
	for _, d := range h.Disks {
		mp := d.MountPoint
		if mp == "" {
			mp = d.LogDirs[0]
		}
		ch <- gauge(dFSSize, float64(d.TotalBytes), mp)
		ch <- gauge(dFSAvail, float64(d.AvailBytes), mp)
		ch <- gauge(dFSFree, float64(d.TotalBytes-d.UsedBytes), mp)
	}
}

func cpuModes(ch chan<- prometheus.Metric, t snapshot.CPUTimes) {
	for _, m := range []struct {
		mode string
		v    float64
	}{{"user", t.User}, {"nice", t.Nice}, {"system", t.System}, {"idle", t.Idle}, {"iowait", t.IOWait},
		{"irq", t.IRQ}, {"softirq", t.SoftIRQ}, {"steal", t.Steal}} {
		ch <- counter(dCPUSeconds, m.v, t.CPU, m.mode)
	}
}

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

	dMemCached  = desc("node_memory_Cached_bytes", "Memory information field Cached_bytes.")
	dMemBuffers = desc("node_memory_Buffers_bytes", "Memory information field Buffers_bytes.")
	dSwapTotal  = desc("node_memory_SwapTotal_bytes", "Memory information field SwapTotal_bytes.")
	dSwapFree   = desc("node_memory_SwapFree_bytes", "Memory information field SwapFree_bytes.")
	dNetRxErrs  = desc("node_network_receive_errs_total", "Network device statistic receive_errs.", "device")
	dNetTxErrs  = desc("node_network_transmit_errs_total", "Network device statistic transmit_errs.", "device")
	dNetRxDrop  = desc("node_network_receive_drop_total", "Network device statistic receive_drop.", "device")
	dNetTxDrop  = desc("node_network_transmit_drop_total", "Network device statistic transmit_drop.", "device")
	dTCPActive  = desc("node_netstat_Tcp_ActiveOpens", "Statistic TcpActiveOpens.")
	dTCPPassive = desc("node_netstat_Tcp_PassiveOpens", "Statistic TcpPassiveOpens.")
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
	ch <- info(s)
	h := s.Host
	for _, t := range h.CPUTimes {
		cpuModes(ch, t)
	}
	memory(ch, h.Memory)
	for _, d := range h.Network {
		ch <- counter(dNetRx, float64(d.RxBytesTotal), d.Device)
		ch <- counter(dNetTx, float64(d.TxBytesTotal), d.Device)
		ch <- counter(dNetRxPackets, float64(d.RxPacketsTotal), d.Device)
		ch <- counter(dNetTxPackets, float64(d.TxPacketsTotal), d.Device)
		ch <- counter(dNetRxErrs, float64(d.RxErrorsTotal), d.Device)
		ch <- counter(dNetTxErrs, float64(d.TxErrorsTotal), d.Device)
		ch <- counter(dNetRxDrop, float64(d.RxDroppedTotal), d.Device)
		ch <- counter(dNetTxDrop, float64(d.TxDroppedTotal), d.Device)
	}
	if h.TCP.Valid {
		ch <- prometheus.MustNewConstMetric(dTCPActive, prometheus.UntypedValue, float64(h.TCP.ActiveOpens))
		ch <- prometheus.MustNewConstMetric(dTCPPassive, prometheus.UntypedValue, float64(h.TCP.PassiveOpens))
	}
	filesystems(ch, h)
}

func memory(ch chan<- prometheus.Metric, m snapshot.Memory) {
	ch <- gauge(dMemTotal, float64(m.TotalBytes))
	ch <- gauge(dMemFree, float64(m.FreeBytes))
	ch <- gauge(dMemAvailable, float64(m.AvailableBytes))
	ch <- gauge(dMemCached, float64(m.CachedBytes))
	ch <- gauge(dMemBuffers, float64(m.BuffersBytes))
	ch <- gauge(dSwapTotal, float64(m.SwapTotalBytes))
	ch <- gauge(dSwapFree, float64(m.SwapFreeBytes))
}

// filesystems are the log dirs' filesystems, the root (MSK's RootDiskUsed)
// and the application logs' (KafkaAppLogsDiskUsed), each mount point once.
func filesystems(ch chan<- prometheus.Metric, h *snapshot.Host) {
	seen := map[string]bool{}
	fs := func(d snapshot.Disk) {
		mp := d.Label()
		if seen[mp] {
			return
		}
		seen[mp] = true
		ch <- gauge(dFSSize, float64(d.TotalBytes), mp)
		ch <- gauge(dFSAvail, float64(d.AvailBytes), mp)
		ch <- gauge(dFSFree, float64(d.TotalBytes-d.UsedBytes), mp)
	}
	for _, d := range h.Disks {
		fs(d)
	}
	for _, d := range []*snapshot.Disk{h.RootDisk, h.AppLogDisk} {
		if d != nil {
			fs(*d)
		}
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

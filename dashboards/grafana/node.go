package grafana

// Node is the host under a broker, from the agent's node endpoint
// (node_exporter's names).
func Node() *Dashboard {
	return New("weir-node", "Weir / Node",
		"The host under each broker: CPU, memory, network and the log dirs' filesystems (the agent's node endpoint, node_exporter's names).").
		Var("broker", "Broker", `label_values(node_memory_MemTotal_bytes{cluster=~"$cluster"}, broker)`,
			"The broker label the scrape config sets on the agent's node endpoint.").
		Row("CPU and memory").
		Add(
			TimeSeries("CPU by mode", "Share of all CPUs in each mode but idle (MSK's CpuUser, CpuSystem, CpuIoWait).").
				Query(`100 * sum by (broker, mode) (rate(node_cpu_seconds_total{`+onBroker+`,mode!="idle"}`+window+`)) / on (broker) group_left count by (broker) (node_cpu_seconds_total{`+onBroker+`,mode="idle"})`, "{{mode}} {{broker}}").
				Unit(UnitPercent).Min(0).Max(100),
			TimeSeries("Memory", "Memory in use (total − available) and available, as MSK's MemoryUsed and MemoryFree.").
				Query(`node_memory_MemTotal_bytes{`+onBroker+`} - node_memory_MemAvailable_bytes{`+onBroker+`}`, "used {{broker}}").
				Query(`node_memory_MemAvailable_bytes{`+onBroker+`}`, "available {{broker}}").Unit(UnitBytes),
		).
		Row("Network").
		Add(
			TimeSeries("Network bytes", "Bytes per second received and transmitted per interface (loopback excluded by the agent).").
				Query(`rate(node_network_receive_bytes_total{`+onBroker+`}`+window+`)`, "rx {{device}} {{broker}}").
				Query(`rate(node_network_transmit_bytes_total{`+onBroker+`}`+window+`)`, "tx {{device}} {{broker}}").Unit(UnitBytesPerSec),
			TimeSeries("Network packets", "Packets per second received and transmitted per interface.").
				Query(`rate(node_network_receive_packets_total{`+onBroker+`}`+window+`)`, "rx {{device}} {{broker}}").
				Query(`rate(node_network_transmit_packets_total{`+onBroker+`}`+window+`)`, "tx {{device}} {{broker}}").Unit(UnitPerSec),
		).
		Row("Log-dir filesystems").
		Add(
			TimeSeries("Used", "Used share of each filesystem holding a log dir (85 %: alert KafkaStorageAbove85Percent).").
				Query(`cluster_broker_mountpoint:node_filesystem_used:percent{`+onBroker+`}`, "{{mountpoint}} {{broker}}").
				Unit(UnitPercent).Min(0).Max(100).Thresholds(Green, At(85, Red)),
			TimeSeries("Size and available", "Size of each log-dir filesystem and the bytes left for the broker.").
				Query(`node_filesystem_size_bytes{`+onBroker+`}`, "size {{mountpoint}} {{broker}}").
				Query(`node_filesystem_avail_bytes{`+onBroker+`}`, "available {{mountpoint}} {{broker}}").Unit(UnitBytes),
		).
		Dashboard()
}

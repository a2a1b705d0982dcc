package grafana

// Broker is one broker (or several) in detail.
func Broker() *Dashboard {
	return New("weir-broker", "Weir / Broker",
		"One broker in detail: its traffic, partitions, requests and latencies, connections and its agent.").
		Var("broker", "Broker", `label_values(up{job="weir-broker",cluster=~"$cluster"}, broker)`,
			"The broker label the scrape config sets on the broker's and its agent's targets.").
		Row("Traffic").
		Add(
			TimeSeries("Bytes in and out", "Bytes per second produced to and fetched from the broker.").
				Query(`cluster_broker:kafka_bytes_in:rate1m{`+onBroker+`}`, "in {{broker}}").
				Query(`cluster_broker:kafka_bytes_out:rate1m{`+onBroker+`}`, "out {{broker}}").Unit(UnitBytesPerSec),
			TimeSeries("Messages in", "Records produced per second to the broker.").
				Query(`cluster_broker:kafka_messages_in:rate1m{`+onBroker+`}`, "{{broker}}").Unit(UnitRecsPerSec),
		).
		Row("Partitions").
		Add(
			TimeSeries("Partitions and leaders", "Replicas on the broker and the partitions it leads (ReplicaManager PartitionCount, LeaderCount).").
				Query(`kafka_server_replicamanager_partitioncount{`+onBroker+`}`, "partitions {{broker}}").
				Query(`kafka_server_replicamanager_leadercount{`+onBroker+`}`, "leaders {{broker}}").Unit(UnitNone),
			TimeSeries("Partition health", "Partitions the broker leads that are under-replicated, under min.insync.replicas or at it (one more failure from under).").
				Query(`kafka_server_replicamanager_underreplicatedpartitions{`+onBroker+`}`, "under-replicated {{broker}}").
				Query(`kafka_server_replicamanager_underminisrpartitioncount{`+onBroker+`}`, "under min ISR {{broker}}").
				Query(`kafka_server_replicamanager_atminisrpartitioncount{`+onBroker+`}`, "at min ISR {{broker}}").
				Unit(UnitNone).Thresholds(Green, At(1, Red)),
			TimeSeries("Log size on disk", "Bytes of all partition logs on the broker (Log Size summed; agent level PER_TOPIC_PER_PARTITION).").
				Query(`sum by (broker) (kafka_log_log_size{`+onBroker+`})`, "{{broker}}").Unit(UnitBytes),
			TimeSeries("Active controller", "1 while the broker is the active controller.").
				Query(`kafka_controller_kafkacontroller_activecontrollercount{`+onBroker+`}`, "{{broker}}").Unit(UnitNone).Min(0),
		).
		Row("Requests").
		Add(
			TimeSeries("Requests by API", "Requests per second the broker handled, by API key.").
				Query(`cluster_broker_request:kafka_requests:rate1m{`+onBroker+`}`, "{{request}} {{broker}}").Unit(UnitPerSec),
			TimeSeries("Request errors by API", "Responses per second carrying an error code, by API key and error.").
				Query(`sum by (broker, request, error) (rate(kafka_network_requestmetrics_errors_total{`+onBroker+`,error!="NONE"}`+window+`))`, "{{request}} {{error}} {{broker}}").Unit(UnitPerSec),
			TimeSeries("Produce time quantiles", "Total time of Produce requests over the broker's last minute (TotalTimeMs): median, p99 and p99.9.").
				Query(`kafka_network_requestmetrics_totaltimems{`+onBroker+`,request="Produce",quantile=~"0.5|0.99|0.999"}`, "p{{quantile}} {{broker}}").Unit(UnitMillis),
			TimeSeries("Fetch time quantiles", "Total time of Fetch requests (consumers and followers; long polls included) over the broker's last minute.").
				Query(`kafka_network_requestmetrics_totaltimems{`+onBroker+`,request="Fetch",quantile=~"0.5|0.99|0.999"}`, "p{{quantile}} {{broker}}").Unit(UnitMillis),
		).
		Row("Connections").
		Add(
			TimeSeries("Connections", "Open connections per listener.").
				Query(`kafka_server_socketservermetrics_connection_count{`+onBroker+`}`, "{{listener}} {{broker}}").Unit(UnitNone),
			TimeSeries("Connections opened and closed", "Connections created and closed per second; churn costs CPU (TLS, SASL).").
				Query(`sum by (broker) (rate(kafka_server_socketservermetrics_connection_creation_total{`+onBroker+`}`+window+`))`, "opened {{broker}}").
				Query(`sum by (broker) (rate(kafka_server_socketservermetrics_connection_close_total{`+onBroker+`}`+window+`))`, "closed {{broker}}").Unit(UnitPerSec),
			TimeSeries("Protocol errors", "Connections closed per second because a client broke the Kafka protocol.").
				Query(`rate(weir_broker_protocol_errors_total{`+onBroker+`}`+window+`)`, "{{broker}}").Unit(UnitPerSec),
		).
		Row("Agent").
		Add(
			TimeSeries("Agent up", "1 when the agent's last collection reached a source; a scrape that fails shows as a gap (alert WeirAgentDown).").
				Query(`weir_agent_up{`+onBroker+`}`, "{{broker}}").Unit(UnitNone).Min(0).Max(1),
			TimeSeries("Agent collection time", "How long the agent's last collection took; it is bounded by its interval.").
				Query(`weir_agent_collect_duration_seconds{`+onBroker+`}`, "{{broker}}").Unit(UnitSeconds),
			TimeSeries("Agent source and exporter errors", "Failed collections per source and failed exports per exporter, per second.").
				Query(`sum by (broker, source) (rate(weir_agent_source_errors_total{`+onBroker+`}`+window+`))`, "source {{source}} {{broker}}").
				Query(`sum by (broker, exporter) (rate(weir_agent_exporter_errors_total{`+onBroker+`}`+window+`))`, "exporter {{exporter}} {{broker}}").Unit(UnitPerSec),
		).
		Dashboard()
}

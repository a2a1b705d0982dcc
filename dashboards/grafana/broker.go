package grafana

// Broker is one broker (or several) in detail.
func Broker() *Dashboard {
	return New("weir-broker", "Weir / Broker",
		"One broker in detail: its traffic and replication, storage against provisioned, partitions, requests with their phases and latencies, idle shares, connections and its agent.").
		Var("broker", "Broker", `label_values(up{job="weir-broker",cluster=~"$cluster"}, broker)`,
			"The broker label the scrape config sets on the broker's and its agent's targets.").
		Row("Traffic").
		Add(
			TimeSeries("Bytes in and out", "Bytes per second produced to and fetched from the broker.").
				Query(`cluster_broker:kafka_bytes_in:rate1m{`+onBroker+`}`, "in {{broker}}").
				Query(`cluster_broker:kafka_bytes_out:rate1m{`+onBroker+`}`, "out {{broker}}").Unit(UnitBytesPerSec),
			TimeSeries("Messages in", "Records produced per second to the broker.").
				Query(`cluster_broker:kafka_messages_in:rate1m{`+onBroker+`}`, "{{broker}}").Unit(UnitRecsPerSec),
			TimeSeries("Replication bytes in and out", "Record bytes the broker's followers fetched from leaders (in) and its leaders sent to followers (out), per second (MSK's ReplicationBytesInPerSec and ReplicationBytesOutPerSec; agent level PER_BROKER).").
				Query(`rate(kafka_server_brokertopicmetrics_replicationbytesin_total{`+onBroker+`}`+window+`)`, "in {{broker}}").
				Query(`rate(kafka_server_brokertopicmetrics_replicationbytesout_total{`+onBroker+`}`+window+`)`, "out {{broker}}").Unit(UnitBytesPerSec),
		).
		Row("Storage").
		Add(
			TimeSeries("Storage used, provisioned and limit", "Bytes the broker's logs use and its provisioned storage, from its agent's DescribeLogDirs (the filesystem's size where none is provisioned), and the limit produce is refused at: provisioned, capped by used + the filesystem's free bytes (the broker's own gauge; agent level PER_BROKER).").
				Query(`weir_broker_storage_used_bytes{`+onBroker+`}`, "used {{broker}}").
				Query(`weir_broker_storage_provisioned_bytes{`+onBroker+`}`, "provisioned {{broker}}").
				Query(`weir_broker_storage_limit_bytes{`+onBroker+`}`, "limit {{broker}}").
				Unit(UnitBytes).Min(0),
			TimeSeries("Storage use", "Used over provisioned storage (90 %: alert WeirBrokerStorageNearlyFull; produce is refused with KAFKA_STORAGE_ERROR at 100 %).").
				Query(`cluster_broker:weir_broker_storage_used:percent{`+onBroker+`}`, "{{broker}}").
				Unit(UnitPercent).Min(0).Max(100).Thresholds(Green, At(90, Red)),
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
			TimeSeries("ISR shrinks and expansions", "ISR changes per second that the broker's leaders asked for and saw committed (ReplicaManager IsrShrinksPerSec, IsrExpandsPerSec). Shrinks with every broker up mean a live follower fell replica.lag.time.max.ms behind (alert KafkaIsrShrinking); a stopped broker's removal is the controller's and not counted.").
				Query(`sum by (broker) (rate(kafka_server_replicamanager_isrshrinks_total{`+onBroker+`}`+window+`))`, "shrinks {{broker}}").
				Query(`sum by (broker) (rate(kafka_server_replicamanager_isrexpands_total{`+onBroker+`}`+window+`))`, "expansions {{broker}}").Unit(UnitPerSec),
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
		Row("Request phases and idle").
		Add(
			phasePanel("Produce time by phase", "Mean time of a Produce request in each phase, stacked to its total: request queue (read to decoded), local (worked on), remote (waiting for the ISR with acks=all; agent level PER_BROKER), response queue and response send (MSK's Produce*TimeMsMean).",
				onBroker, "Produce", "broker"),
			phasePanel("Consumer fetch time by phase", "Mean time of a consumer's Fetch in each phase, stacked: remote is the long poll waiting for records (agent level PER_BROKER), local the reading (MSK's FetchConsumer*TimeMsMean).",
				onBroker, "FetchConsumer", "broker"),
			phasePanel("Follower fetch time by phase", "Mean time of a follower's Fetch in each phase, stacked: a growing local or response-send time slows replication (MSK's FetchFollower*TimeMsMean).",
				onBroker, "FetchFollower", "broker"),
			idlePanel(onBroker),
		).
		Row("Connections").
		Add(
			TimeSeries("Connections", "Open connections per listener, and those from clients (other brokers' left out: MSK's ClientConnectionCount).").
				Query(`kafka_server_socketservermetrics_connection_count{`+onBroker+`}`, "{{listener}} {{broker}}").
				Query(`weir_broker_client_connection_count{`+onBroker+`}`, "clients {{listener}} {{broker}}").Unit(UnitNone),
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

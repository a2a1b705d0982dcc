package grafana

// Label selectors the dashboards share.
const (
	inCluster = `cluster=~"$cluster"`
	onBroker  = `cluster=~"$cluster",broker=~"$broker"`
	onTopic   = `cluster=~"$cluster",topic=~"$topic"`
	ofGroup   = `cluster=~"$cluster",consumergroup=~"$consumergroup",topic=~"$topic"`
	window    = `[$__rate_interval]`
)

// All returns every dashboard, in the order of the files.
func All() []*Dashboard {
	return []*Dashboard{Cluster(), Broker(), Topic(), ConsumerLag(), Collector(), Autoscaler(), Node()}
}

// Cluster is the overview: health, throughput, requests and resources.
func Cluster() *Dashboard {
	return New("weir-cluster", "Weir / Cluster overview",
		"A Weir (or Kafka) cluster at a glance: brokers, controller, partition health, throughput, requests and their phases, idle shares, storage against provisioned, and CPU.").
		Row("Health").
		Add(
			Stat("Brokers up", "Brokers whose admin endpoint Prometheus reaches (up of job weir-broker).").
				Query(`sum(up{job="weir-broker",`+inCluster+`})`, "").Unit(UnitNone),
			Stat("Brokers in metadata", "Brokers registered in the cluster's metadata, as the agents see it over Kafka.").
				Query(`max(kafka_brokers{`+inCluster+`})`, "").Unit(UnitNone),
			Stat("Active controllers", "Brokers that are the active controller: exactly 1 is healthy (alerts KafkaNoActiveController, KafkaMultipleActiveControllers).").
				Query(`sum(kafka_controller_kafkacontroller_activecontrollercount{`+inCluster+`})`, "").Unit(UnitNone).
				Thresholds(Red, At(1, Green), At(2, Red)),
			Stat("Offline partitions", "Partitions without a live leader, reported by the active controller (alert KafkaOfflinePartitions).").
				Query(`max(kafka_controller_kafkacontroller_offlinepartitionscount{`+inCluster+`})`, "").Unit(UnitNone).
				Thresholds(Green, At(1, Red)),
			Stat("Under-replicated partitions", "Led partitions whose ISR is smaller than their replica set, summed over brokers (alert KafkaUnderReplicatedPartitions).").
				Query(`sum(kafka_server_replicamanager_underreplicatedpartitions{`+inCluster+`})`, "").Unit(UnitNone).
				Thresholds(Green, At(1, Yellow)),
			Stat("Under min ISR", "Led partitions whose ISR is below min.insync.replicas: acks=all producers fail (alert KafkaUnderMinIsrPartitions; agent level PER_BROKER).").
				Query(`sum(kafka_server_replicamanager_underminisrpartitioncount{`+inCluster+`})`, "").Unit(UnitNone).
				Thresholds(Green, At(1, Red)),
		).
		Add(
			Stat("Topics", "Topics in the cluster (the active controller's GlobalTopicCount).").
				Query(`max(kafka_controller_kafkacontroller_globaltopiccount{`+inCluster+`})`, "").Unit(UnitNone),
			Stat("Partitions", "Partitions in the cluster (the active controller's GlobalPartitionCount).").
				Query(`max(kafka_controller_kafkacontroller_globalpartitioncount{`+inCluster+`})`, "").Unit(UnitNone),
			Stat("Connections", "Client and inter-broker connections open on all brokers.").
				Query(`sum(kafka_server_socketservermetrics_connection_count{`+inCluster+`})`, "").Unit(UnitNone),
			Stat("Bytes in", "Bytes produced per second to all brokers (recording rule cluster:kafka_bytes_in:rate1m).").
				Query(`sum(cluster:kafka_bytes_in:rate1m{`+inCluster+`})`, "").Unit(UnitBytesPerSec),
			Stat("Highest storage use", "The fullest broker's storage, used over provisioned, from the agents' DescribeLogDirs (the log dirs' filesystem where no storage is provisioned; alert WeirBrokerStorageNearlyFull at 90 %: produce is refused at 100 %).").
				Query(`max(cluster_broker:weir_broker_storage_used:percent{`+inCluster+`})`, "").Unit(UnitPercent).
				Min(0).Max(100).Thresholds(Green, At(80, Yellow), At(90, Red)),
			Stat("Highest broker CPU", "CPU user + system of the busiest broker's host (alert KafkaBrokerCpuHigh at 60 %).").
				Query(`max(cluster_broker:node_cpu_user_system:percent{`+inCluster+`})`, "").Unit(UnitPercent).
				Min(0).Max(100).Thresholds(Green, At(50, Yellow), At(60, Red)),
		).
		Row("Throughput").
		Add(
			TimeSeries("Bytes in and out", "Bytes per second produced to and fetched from the cluster (fetches by followers included in out).").
				Query(`sum by (cluster) (cluster:kafka_bytes_in:rate1m{`+inCluster+`})`, "in {{cluster}}").
				Query(`sum by (cluster) (cluster:kafka_bytes_out:rate1m{`+inCluster+`})`, "out {{cluster}}").Unit(UnitBytesPerSec),
			TimeSeries("Messages in", "Records produced per second.").
				Query(`sum by (cluster) (cluster:kafka_messages_in:rate1m{`+inCluster+`})`, "{{cluster}}").Unit(UnitRecsPerSec),
			TimeSeries("Bytes in by broker", "Bytes produced per second to each broker: an uneven spread is what the collector's rebalance fixes.").
				Query(`cluster_broker:kafka_bytes_in:rate1m{`+inCluster+`}`, "broker {{broker}}").Unit(UnitBytesPerSec),
			TimeSeries("Bytes in by topic", "Bytes produced per second to each topic (agent level PER_TOPIC_PER_BROKER or finer).").
				Query(`topk(10, cluster_topic:kafka_bytes_in:rate1m{`+inCluster+`})`, "{{topic}}").Unit(UnitBytesPerSec),
			TimeSeries("Replication bytes by broker", "Record bytes each broker's followers fetched from leaders (in) and its leaders sent to followers (out), per second: MSK's ReplicationBytesInPerSec and ReplicationBytesOutPerSec (agent level PER_BROKER).").
				Query(`sum by (broker) (rate(kafka_server_brokertopicmetrics_replicationbytesin_total{`+inCluster+`}`+window+`))`, "in {{broker}}").
				Query(`sum by (broker) (rate(kafka_server_brokertopicmetrics_replicationbytesout_total{`+inCluster+`}`+window+`))`, "out {{broker}}").Unit(UnitBytesPerSec),
		).
		Row("Requests").
		Add(
			TimeSeries("Requests by API", "Requests per second handled by all brokers, by API key.").
				Query(`sum by (request) (cluster_broker_request:kafka_requests:rate1m{`+inCluster+`})`, "{{request}}").Unit(UnitPerSec),
			TimeSeries("Produce and fetch time, p99", "99th percentile of the total time of Produce and Fetch requests over the broker's last minute, on the slowest broker.").
				Query(`max by (request) (kafka_network_requestmetrics_totaltimems{`+inCluster+`,request=~"Produce|Fetch",quantile="0.99"})`, "{{request}}").Unit(UnitMillis),
			phasePanel("Produce time by phase", "Mean time of a Produce request in each phase over all brokers, stacked to its total: waiting to be decoded, worked on, waiting for the ISR (acks=all; remote needs agent level PER_BROKER), waiting to be encoded and being written back (MSK's Produce*TimeMsMean).",
				inCluster, "Produce", ""),
			phasePanel("Consumer fetch time by phase", "Mean time of a consumer's Fetch in each phase over all brokers, stacked: remote is the long poll waiting for records (agent level PER_BROKER), so a high total with a high remote is an idle consumer, not a slow broker (MSK's FetchConsumer*TimeMsMean).",
				inCluster, "FetchConsumer", ""),
			idlePanel(inCluster),
		).
		Row("Resources").
		Add(
			TimeSeries("Storage used and provisioned by broker", "Bytes each broker's logs use and the storage provisioned for it (weir.storage.provisioned.bytes; the filesystem's size where none is set), from its agent's DescribeLogDirs; the autoscaler grows provisioned (the Autoscaler dashboard).").
				Query(`max by (broker) (weir_broker_storage_used_bytes{`+inCluster+`})`, "used {{broker}}").
				Query(`max by (broker) (weir_broker_storage_provisioned_bytes{`+inCluster+`})`, "provisioned {{broker}}").
				Unit(UnitBytes).Min(0),
			TimeSeries("Storage use by broker", "Used over provisioned storage of each broker (90 %: alert WeirBrokerStorageNearlyFull; produce is refused at 100 %).").
				Query(`cluster_broker:weir_broker_storage_used:percent{`+inCluster+`}`, "broker {{broker}}").
				Unit(UnitPercent).Min(0).Max(100).Thresholds(Green, At(90, Red)),
			TimeSeries("Log-dir disk use by broker", "Used share of the filesystem holding each broker's log dir (85 %: alert KafkaStorageAbove85Percent).").
				Query(`max by (broker) (cluster_broker_mountpoint:node_filesystem_used:percent{`+inCluster+`})`, "broker {{broker}}").
				Unit(UnitPercent).Min(0).Max(100).Thresholds(Green, At(85, Red)),
			TimeSeries("CPU user + system by broker", "CPU user + system of each broker's host, MSK's CpuUser + CpuSystem (60 %: alert KafkaBrokerCpuHigh).").
				Query(`cluster_broker:node_cpu_user_system:percent{`+inCluster+`}`, "broker {{broker}}").
				Unit(UnitPercent).Min(0).Max(100).Thresholds(Green, At(60, Red)),
			TimeSeries("Connections by broker", "Open connections on each broker, and those from clients (without other brokers': MSK's ClientConnectionCount).").
				Query(`sum by (broker) (kafka_server_socketservermetrics_connection_count{`+inCluster+`})`, "all {{broker}}").
				Query(`sum by (broker) (weir_broker_client_connection_count{`+inCluster+`})`, "clients {{broker}}").Unit(UnitNone),
			TimeSeries("Partitions and leaders by broker", "Replicas each broker hosts and partitions it leads (agent level PER_BROKER for leaders).").
				Query(`sum by (broker) (kafka_server_replicamanager_partitioncount{`+inCluster+`})`, "partitions {{broker}}").
				Query(`sum by (broker) (kafka_server_replicamanager_leadercount{`+inCluster+`})`, "leaders {{broker}}").Unit(UnitNone),
		).
		Dashboard()
}

// Package cloudwatch builds Weir's CloudWatch dashboard body and alarms on
// MSK's AWS/Kafka metric names and dimensions, as the agent's CloudWatch
// exporter publishes them (docs/AGENT.md, "CloudWatch names"), for a named
// cluster: `go run ./dashboards/cloudwatch/gen -cluster NAME -brokers 1,2,3`.
// example-dashboard.json and example-alarms.json are that output for the
// cluster `make run` starts; a test fails when they are stale, and another
// checks every metric they name against what the agent emits at the level
// each one needs, with the same dimensions.
package cloudwatch

import "github.com/weirhq/weir/agent/snapshot"

// MSK's dimension names.
const (
	DimCluster   = "Cluster Name"
	DimBroker    = "Broker ID"
	DimTopic     = "Topic"
	DimGroup     = "Consumer Group"
	DimPartition = "Partition"
	// DimClientAuth is ClientConnectionCount's extra dimension; the agent
	// sends Unauthenticated (plaintext listeners).
	DimClientAuth = "Client Authentication"
)

// Metric is one AWS/Kafka metric a widget or alarm reads: its name, its
// dimension names in MSK's order, and the agent level that publishes it.
type Metric struct {
	Name  string
	Dims  []string
	Level snapshot.Level
}

var (
	cluster         = []string{DimCluster}
	perBroker       = []string{DimCluster, DimBroker}
	perBrokerTopic  = []string{DimCluster, DimBroker, DimTopic}
	perGroupTopic   = []string{DimCluster, DimGroup, DimTopic}
	perGroupPartion = []string{DimCluster, DimGroup, DimTopic, DimPartition}
	perBrokerAuth   = []string{DimCluster, DimBroker, DimClientAuth}
)

func perBrokerLevel(name string) Metric { return Metric{name, perBroker, snapshot.LevelPerBroker} }

func def(name string, dims []string) Metric { return Metric{name, dims, snapshot.LevelDefault} }

// The metrics the dashboard and alarms read.
var (
	ActiveControllerCount     = def("ActiveControllerCount", cluster)
	OfflinePartitionsCount    = def("OfflinePartitionsCount", cluster)
	GlobalTopicCount          = def("GlobalTopicCount", cluster)
	GlobalPartitionCount      = def("GlobalPartitionCount", cluster)
	UnderReplicatedPartitions = def("UnderReplicatedPartitions", perBroker)
	UnderMinIsrPartitionCount = def("UnderMinIsrPartitionCount", perBroker)
	PartitionCount            = def("PartitionCount", perBroker)
	LeaderCount               = def("LeaderCount", perBroker)
	BytesInPerSec             = def("BytesInPerSec", perBroker)
	BytesOutPerSec            = def("BytesOutPerSec", perBroker)
	MessagesInPerSec          = def("MessagesInPerSec", perBroker)
	CpuUser                   = def("CpuUser", perBroker)
	CpuSystem                 = def("CpuSystem", perBroker)
	MemoryUsed                = def("MemoryUsed", perBroker)
	MemoryFree                = def("MemoryFree", perBroker)
	KafkaDataLogsDiskUsed     = def("KafkaDataLogsDiskUsed", perBroker)
	ProduceTotalTimeMsMean    = def("ProduceTotalTimeMsMean", perBroker)
	FetchTotalTimeMsMean      = def("FetchConsumerTotalTimeMsMean", perBroker)
	ConnectionCount           = def("ConnectionCount", perBroker)
	ClientConnectionCount     = def("ClientConnectionCount", perBrokerAuth)
	ConnectionCreationRate    = perBrokerLevel("ConnectionCreationRate")
	ConnectionCloseRate       = perBrokerLevel("ConnectionCloseRate")

	RequestHandlerAvgIdlePercent   = perBrokerLevel("RequestHandlerAvgIdlePercent")
	NetworkProcessorAvgIdlePercent = perBrokerLevel("NetworkProcessorAvgIdlePercent")
	ReplicationBytesInPerSec       = perBrokerLevel("ReplicationBytesInPerSec")
	ReplicationBytesOutPerSec      = perBrokerLevel("ReplicationBytesOutPerSec")

	ProduceRequestQueueTimeMsMean        = perBrokerLevel("ProduceRequestQueueTimeMsMean")
	ProduceLocalTimeMsMean               = perBrokerLevel("ProduceLocalTimeMsMean")
	ProduceResponseQueueTimeMsMean       = perBrokerLevel("ProduceResponseQueueTimeMsMean")
	ProduceResponseSendTimeMsMean        = perBrokerLevel("ProduceResponseSendTimeMsMean")
	FetchConsumerRequestQueueTimeMsMean  = perBrokerLevel("FetchConsumerRequestQueueTimeMsMean")
	FetchConsumerLocalTimeMsMean         = perBrokerLevel("FetchConsumerLocalTimeMsMean")
	FetchConsumerResponseQueueTimeMsMean = perBrokerLevel("FetchConsumerResponseQueueTimeMsMean")
	FetchConsumerResponseSendTimeMsMean  = perBrokerLevel("FetchConsumerResponseSendTimeMsMean")

	TopicBytesInPerSec    = Metric{"BytesInPerSec", perBrokerTopic, snapshot.LevelPerTopicPerBroker}
	TopicBytesOutPerSec   = Metric{"BytesOutPerSec", perBrokerTopic, snapshot.LevelPerTopicPerBroker}
	TopicMessagesInPerSec = Metric{"MessagesInPerSec", perBrokerTopic, snapshot.LevelPerTopicPerBroker}
	SumOffsetLag          = def("SumOffsetLag", perGroupTopic)
	MaxOffsetLag          = def("MaxOffsetLag", perGroupTopic)
	EstimatedMaxTimeLag   = def("EstimatedMaxTimeLag", perGroupTopic)
	OffsetLag             = Metric{"OffsetLag", perGroupPartion, snapshot.LevelPerTopicPerPartition}
	EstimatedTimeLag      = Metric{"EstimatedTimeLag", perGroupPartion, snapshot.LevelPerTopicPerPartition}
)

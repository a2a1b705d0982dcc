package config

import (
	"strconv"
	"strings"
)

// fieldGetters report the effective value of keys that have a typed field,
// so that Value reflects fields set in code as well as in the file.
var fieldGetters = map[string]func(c *Config) string{
	"node.id":                               func(c *Config) string { return itoa(int64(c.NodeID)) },
	"listeners":                             func(c *Config) string { return joinListeners(c.Listeners) },
	"advertised.listeners":                  func(c *Config) string { return joinListeners(c.AdvertisedListeners) },
	"log.dirs":                              func(c *Config) string { return strings.Join(c.LogDirs, ",") },
	"num.partitions":                        func(c *Config) string { return itoa(int64(c.NumPartitions)) },
	"default.replication.factor":            func(c *Config) string { return itoa(int64(c.DefaultReplicationFactor)) },
	"min.insync.replicas":                   func(c *Config) string { return itoa(int64(c.MinInsyncReplicas)) },
	"auto.create.topics.enable":             func(c *Config) string { return strconv.FormatBool(c.AutoCreateTopics) },
	"delete.topic.enable":                   func(c *Config) string { return strconv.FormatBool(c.DeleteTopicEnable) },
	"message.max.bytes":                     func(c *Config) string { return itoa(int64(c.MessageMaxBytes)) },
	"socket.request.max.bytes":              func(c *Config) string { return itoa(int64(c.SocketRequestMaxBytes)) },
	"replica.fetch.max.bytes":               func(c *Config) string { return itoa(int64(c.ReplicaFetchMaxBytes)) },
	"fetch.max.bytes":                       func(c *Config) string { return itoa(int64(c.FetchMaxBytes)) },
	"replica.fetch.wait.max.ms":             func(c *Config) string { return durMs(c.ReplicaFetchWaitMax) },
	"replica.socket.timeout.ms":             func(c *Config) string { return durMs(c.ReplicaSocketTimeout) },
	"log.retention.ms":                      func(c *Config) string { return durMs(c.LogRetention) },
	"log.retention.bytes":                   func(c *Config) string { return itoa(c.LogRetentionBytes) },
	"log.segment.bytes":                     func(c *Config) string { return itoa(c.LogSegmentBytes) },
	"log.roll.ms":                           func(c *Config) string { return durMs(c.LogRoll) },
	"log.flush.interval.messages":           func(c *Config) string { return itoa(c.LogFlushIntervalMessages) },
	"log.flush.interval.ms":                 flushIntervalValue,
	"log.flush.scheduler.interval.ms":       func(c *Config) string { return durMs(c.LogFlushSchedulerInterval) },
	"log.retention.check.interval.ms":       func(c *Config) string { return durMs(c.LogRetentionCheckInterval) },
	"log.index.interval.bytes":              func(c *Config) string { return itoa(int64(c.LogIndexIntervalBytes)) },
	"log.index.size.max.bytes":              func(c *Config) string { return itoa(int64(c.LogIndexSizeMaxBytes)) },
	"log.cleanup.policy":                    func(c *Config) string { return c.LogCleanupPolicy },
	"log.message.timestamp.type":            func(c *Config) string { return c.LogMessageTimestampType },
	"compression.type":                      func(c *Config) string { return c.CompressionType },
	"offsets.topic.replication.factor":      func(c *Config) string { return itoa(int64(c.OffsetsTopicReplicationFactor)) },
	"offsets.topic.num.partitions":          func(c *Config) string { return itoa(int64(c.OffsetsTopicNumPartitions)) },
	"offsets.retention.minutes":             func(c *Config) string { return itoa(int64(c.OffsetsRetention.Minutes())) },
	"group.initial.rebalance.delay.ms":      func(c *Config) string { return durMs(c.GroupInitialRebalanceDelay) },
	"group.min.session.timeout.ms":          func(c *Config) string { return durMs(c.GroupMinSessionTimeout) },
	"group.max.session.timeout.ms":          func(c *Config) string { return durMs(c.GroupMaxSessionTimeout) },
	"transactional.id.expiration.ms":        func(c *Config) string { return durMs(c.TransactionalIDExpiration) },
	"producer.id.expiration.ms":             func(c *Config) string { return durMs(c.ProducerIDExpiration) },
	"unclean.leader.election.enable":        func(c *Config) string { return strconv.FormatBool(c.UncleanLeaderElection) },
	"auto.leader.rebalance.enable":          func(c *Config) string { return strconv.FormatBool(c.AutoLeaderRebalance) },
	"replica.lag.time.max.ms":               func(c *Config) string { return durMs(c.ReplicaLagTimeMax) },
	"broker.rack":                           func(c *Config) string { return c.BrokerRack },
	"process.roles":                         func(c *Config) string { return strings.Join(c.ProcessRoles, ",") },
	"controller.quorum.voters":              func(c *Config) string { return c.ControllerQuorumVoters },
	"controller.quorum.election.timeout.ms": func(c *Config) string { return durMs(c.QuorumElectionTimeout) },
	"controller.quorum.fetch.timeout.ms":    func(c *Config) string { return durMs(c.QuorumFetchTimeout) },
	"weir.cluster.id":                       func(c *Config) string { return c.ClusterID },
	"weir.admin.listener":                   func(c *Config) string { return c.AdminListener },
	"weir.storage.provisioned.bytes":        func(c *Config) string { return itoa(c.StorageProvisionedBytes) },
	"weir.fetch.sendfile":                   func(c *Config) string { return strconv.FormatBool(c.FetchSendfile) },
	"weir.log.max.open.files":               func(c *Config) string { return itoa(int64(c.LogMaxOpenFiles)) },
	"num.network.threads":                   func(c *Config) string { return itoa(int64(c.NumNetworkThreads)) },
	"num.io.threads":                        func(c *Config) string { return itoa(int64(c.NumIOThreads)) },
	"inter.broker.listener.name":            func(c *Config) string { return c.InterBrokerListenerName },
}

// defaults is the Default config, read only, for isDefault comparisons.
var defaults = Default()

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func joinListeners(ls []Listener) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = l.String()
	}
	return strings.Join(s, ",")
}

// flushIntervalValue is "" (Kafka's null) while log.flush.interval.ms is
// unset, meaning topics fall back to log.flush.scheduler.interval.ms.
func flushIntervalValue(c *Config) string {
	if c.LogFlushInterval == 0 {
		return ""
	}
	return durMs(c.LogFlushInterval)
}

// Value returns the effective value of a broker key for DescribeConfigs, and
// whether it is the default (neither set in the file or overrides nor changed
// in code). Keys with a typed field report the field; others report what was
// given, else the table default. Sensitive keys (Key.Sensitive) must be
// reported as null by the caller. Unknown keys return "", true.
func (c *Config) Value(name string) (value string, isDefault bool) {
	get := fieldGetters[name]
	raw, given := c.Raw[name]
	switch {
	case get != nil:
		value = get(c)
		return value, !given && value == get(defaults)
	case given:
		return raw, false
	}
	if d, ok := brokerIndex[name]; ok {
		return d.Default, true
	}
	return "", true
}

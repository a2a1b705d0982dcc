package config

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/weirhq/weir/broker/sasl"
)

// Key describes one broker config key as DescribeConfigs reports it.
type Key struct {
	Name    string
	Type    string // Kafka's ConfigDef type: boolean, string, int, short, long, double, list, class, password
	Default string // Weir's default as a string; "" is Kafka's null
	Doc     string
	Dynamic string // Kafka's update mode: "read-only", "per-broker" or "cluster-wide"
	// Sensitive values must be reported as null by DescribeConfigs.
	Sensitive bool
}

// Kafka's dynamic update modes.
const (
	ReadOnly    = "read-only"
	PerBroker   = "per-broker"
	ClusterWide = "cluster-wide"
)

// Kafka ConfigDef type names used in Key.Type and TopicKey.Type.
const (
	TypeBoolean  = "boolean"
	TypeString   = "string"
	TypeInt      = "int"
	TypeShort    = "short"
	TypeLong     = "long"
	TypeDouble   = "double"
	TypeList     = "list"
	TypeClass    = "class"
	TypePassword = "password"
)

// ConfigType maps a type name to DescribeConfigs' ConfigType code
// (BOOLEAN 1, STRING 2, INT 3, SHORT 4, LONG 5, DOUBLE 6, LIST 7, CLASS 8,
// PASSWORD 9; 0 UNKNOWN).
func ConfigType(typ string) int8 {
	switch typ {
	case TypeBoolean:
		return 1
	case TypeString:
		return 2
	case TypeInt:
		return 3
	case TypeShort:
		return 4
	case TypeLong:
		return 5
	case TypeDouble:
		return 6
	case TypeList:
		return 7
	case TypeClass:
		return 8
	case TypePassword:
		return 9
	}
	return 0
}

// longMax is Java's Long.MAX_VALUE, Kafka's "never" for many settings.
const longMax = "9223372036854775807"

// rule is a value constraint beyond the type: Kafka's ConfigDef validators.
type rule struct {
	lo, hi       float64
	hasLo, hasHi bool
	oneOf        []string            // for strings; for lists, each element
	custom       func(string) string // returns a reason, "" when valid
}

func atLeast(n float64) rule            { return rule{lo: n, hasLo: true} }
func between(lo, hi float64) rule       { return rule{lo: lo, hi: hi, hasLo: true, hasHi: true} }
func oneOf(vals ...string) rule         { return rule{oneOf: vals} }
func custom(f func(string) string) rule { return rule{custom: f} }

// keyDef is one row of the broker table.
type keyDef struct {
	Key
	rules []rule
}

func k(name, typ, def, dyn, doc string, rules ...rule) keyDef {
	return keyDef{Key: Key{Name: name, Type: typ, Default: def, Doc: doc, Dynamic: dyn}, rules: rules}
}

func secret(name, doc string) keyDef {
	d := k(name, TypePassword, "", PerBroker, doc)
	d.Sensitive = true
	return d
}

// brokerTable is every broker key Weir accepts. Keys marked "accepted for
// compatibility" in their doc have no effect yet.
var brokerTable = []keyDef{
	k("advertised.listeners", TypeList, "", PerBroker, "Listeners published to clients; default: listeners with an empty or 0.0.0.0 host replaced by localhost.", custom(checkListenerList)),
	k("allow.everyone.if.no.acl.found", TypeBoolean, "", ReadOnly, "With an authorizer: allow access to a resource no ACL matches. Default: true when every listener is PLAINTEXT, else false."),
	k("authorizer.class.name", TypeString, "", ReadOnly, "Non-empty turns ACL authorization on: "+standardAuthorizer+" (Kafka's StandardAuthorizer name) or weir.", oneOf(standardAuthorizer, aclAuthorizer, "weir")),
	k("auto.create.topics.enable", TypeBoolean, "true", ReadOnly, "Create a topic on Metadata or Produce for an unknown topic."),
	k("auto.leader.rebalance.enable", TypeBoolean, "true", ReadOnly, "Move leadership back to the preferred replica in the background."),
	k("background.threads", TypeInt, "10", ClusterWide, "Background task threads (accepted for compatibility, ignored).", atLeast(1)),
	k("broker.id", TypeInt, "", ReadOnly, "Alias of node.id.", atLeast(0)),
	k("broker.heartbeat.interval.ms", TypeInt, "500", ReadOnly, "How often a broker heartbeats the active controller. Weir's default is 500 (Kafka's 2000) for failover within about 2 s.", atLeast(1)),
	k("broker.id.generation.enable", TypeBoolean, "true", ReadOnly, "Accepted for compatibility, ignored."),
	k("broker.rack", TypeString, "", ReadOnly, "Rack (availability zone) of this broker, used for rack-aware placement."),
	k("broker.session.timeout.ms", TypeInt, "2000", ReadOnly, "The controller fences a broker whose heartbeats stop for this long, moving its leaderships. Weir's default is 2000 (Kafka's 9000).", atLeast(1)),
	k("compression.type", TypeString, "producer", ClusterWide, "Final compression of topic data; 'producer' keeps the producer's codec.", oneOf(compressionTypes...)),
	k("connections.max.reauth.ms", TypeLong, "0", ReadOnly, "SASL session lifetime (KIP-368): a client must re-authenticate within it or is disconnected; 0: sessions do not expire.", atLeast(0)),
	k("connections.max.idle.ms", TypeLong, "600000", ReadOnly, "Close connections idle for this long.", atLeast(0)),
	k("controlled.shutdown.enable", TypeBoolean, "true", ReadOnly, "Move leadership away before shutting down."),
	k("controller.listener.names", TypeList, "", ReadOnly, "Listener names used by the metadata quorum; excluded from the default advertised.listeners."),
	k("controller.quorum.election.backoff.max.ms", TypeInt, "1000", ReadOnly, "Maximum backoff before starting a new quorum election.", atLeast(0)),
	// Kafka's defaults: at 500 ms the quorum lost its leader past 4,000
	// partitions on a loaded 2-core machine (docs/QUORUM.md); tests that
	// want fast failover set 500 ms themselves (brokertest does).
	k("controller.quorum.election.timeout.ms", TypeInt, "1000", ReadOnly, "How long a candidate waits for votes before a new election (raft's election timeout is the larger of this and controller.quorum.fetch.timeout.ms).", between(10, 3_600_000)),
	k("controller.quorum.fetch.timeout.ms", TypeInt, "2000", ReadOnly, "Time a voter goes without hearing from the leader before it starts an election; the leader steps down after as long without hearing from a majority.", between(10, 3_600_000)),
	k("controller.quorum.voters", TypeList, "", ReadOnly, "Metadata quorum voters as id@host:port,... (kept raw for now)."),
	k("default.replication.factor", TypeInt, "1", ReadOnly, "Replication factor of automatically created topics and of CreateTopics with -1.", between(1, math.MaxInt16)),
	k("delete.topic.enable", TypeBoolean, "true", ReadOnly, "Allow DeleteTopics."),
	k("fetch.max.bytes", TypeInt, "57671680", ReadOnly, "Maximum bytes returned for a fetch request.", atLeast(1024)),
	k("group.consumer.heartbeat.interval.ms", TypeInt, "5000", ReadOnly, "Heartbeat interval the coordinator gives consumer-protocol (KIP-848) members.", atLeast(1)),
	k("group.consumer.max.size", TypeInt, "200", ReadOnly, "Maximum members in one consumer-protocol group.", atLeast(1)),
	k("group.consumer.session.timeout.ms", TypeInt, "45000", ReadOnly, "A consumer-protocol member whose heartbeats stop for this long is removed.", atLeast(1)),
	k("group.coordinator.rebalance.protocols", TypeList, "classic,consumer", ReadOnly, "Enabled group rebalance protocols; without consumer, ConsumerGroupHeartbeat answers UNSUPPORTED_VERSION and clients fall back to classic.", oneOf("classic", "consumer")),
	k("group.coordinator.threads", TypeInt, "1", ReadOnly, "Group coordinator threads (accepted for compatibility, ignored).", atLeast(1)),
	k("group.initial.rebalance.delay.ms", TypeInt, "3000", ReadOnly, "Delay of the first rebalance of an empty group, to let more members join.", atLeast(0)),
	k("group.max.session.timeout.ms", TypeInt, "1800000", ReadOnly, "Largest session timeout a member may ask for.", atLeast(1)),
	k("group.max.size", TypeInt, "2147483647", ReadOnly, "Maximum members in one consumer group.", atLeast(1)),
	k("group.min.session.timeout.ms", TypeInt, "6000", ReadOnly, "Smallest session timeout a member may ask for.", atLeast(1)),
	k("leader.replication.throttled.rate", TypeLong, "9223372036854775807", PerBroker, "Bytes per second a leader sends to out-of-sync replicas listed in a topic's leader.replication.throttled.replicas (reassignment traffic).", atLeast(1)),
	k("follower.replication.throttled.rate", TypeLong, "9223372036854775807", PerBroker, "Bytes per second a follower fetches for its out-of-sync replicas listed in a topic's follower.replication.throttled.replicas.", atLeast(1)),
	k("replica.alter.log.dirs.io.max.bytes.per.second", TypeLong, "9223372036854775807", PerBroker, "Accepted for compatibility, ignored (no log dir moves yet).", atLeast(1)),
	k("leader.imbalance.check.interval.seconds", TypeLong, "300", ReadOnly, "How often the controller moves leadership back to preferred replicas (auto.leader.rebalance.enable).", atLeast(1)),
	k("inter.broker.listener.name", TypeString, "", ReadOnly, "Listener that brokers use to reach each other; default: the first listener."),
	k("inter.broker.protocol.version", TypeString, "", ReadOnly, "Accepted for compatibility, ignored."),
	k("listener.security.protocol.map", TypeString, defaultProtocolMap, PerBroker, "Listener name to security protocol, NAME:PROTOCOL,...", custom(checkProtocolMap)),
	k("listeners", TypeList, "PLAINTEXT://:9092", PerBroker, "Addresses to listen on, NAME://host:port,...; an empty host binds every interface.", custom(checkListenerList)),
	k("log.cleaner.backoff.ms", TypeLong, "15000", ClusterWide, "Sleep of the cleaner when there is nothing to clean.", atLeast(0)),
	k("log.cleaner.dedupe.buffer.size", TypeLong, "134217728", ClusterWide, "Memory for log deduplication across all cleaner threads."),
	k("log.cleaner.delete.retention.ms", TypeLong, "86400000", ClusterWide, "Default delete.retention.ms: how long tombstones are kept.", atLeast(0)),
	k("log.cleaner.enable", TypeBoolean, "true", ReadOnly, "Run the log cleaner (needed for compacted topics such as __consumer_offsets)."),
	k("log.cleaner.io.buffer.load.factor", TypeDouble, "0.9", ClusterWide, "Dedupe buffer load factor."),
	k("log.cleaner.io.buffer.size", TypeInt, "524288", ClusterWide, "I/O buffer memory across all cleaner threads.", atLeast(0)),
	k("log.cleaner.io.max.bytes.per.second", TypeDouble, "1.7976931348623157E308", ClusterWide, "Cleaner I/O throttle."),
	k("log.cleaner.max.compaction.lag.ms", TypeLong, longMax, ClusterWide, "Default max.compaction.lag.ms.", atLeast(1)),
	k("log.cleaner.min.cleanable.ratio", TypeDouble, "0.5", ClusterWide, "Default min.cleanable.dirty.ratio.", between(0, 1)),
	k("log.cleaner.min.compaction.lag.ms", TypeLong, "0", ClusterWide, "Default min.compaction.lag.ms.", atLeast(0)),
	k("log.cleaner.threads", TypeInt, "1", ClusterWide, "Log cleaner threads.", atLeast(0)),
	k("log.cleanup.policy", TypeList, "delete", ClusterWide, "Default cleanup.policy: delete, compact or both.", oneOf("compact", "delete")),
	k("log.dir", TypeString, "./weir-data", ReadOnly, "Log directory; used when log.dirs is not set."),
	k("log.dirs", TypeList, "", ReadOnly, "Comma-separated log directories; default: log.dir.", custom(checkDirList)),
	k("log.flush.interval.messages", TypeLong, longMax, ClusterWide, "Default flush.messages: fsync after this many messages.", atLeast(1)),
	k("log.flush.interval.ms", TypeLong, "", ClusterWide, "Default flush.ms: fsync when data is older than this; unset: log.flush.scheduler.interval.ms.", atLeast(0)),
	k("log.flush.offset.checkpoint.interval.ms", TypeInt, "60000", ReadOnly, "How often the recovery point checkpoint is written.", atLeast(0)),
	k("log.flush.scheduler.interval.ms", TypeLong, longMax, ReadOnly, "How often the flusher checks whether a log needs flushing.", atLeast(0)),
	k("log.flush.start.offset.checkpoint.interval.ms", TypeInt, "60000", ReadOnly, "How often the log start offset checkpoint is written.", atLeast(0)),
	k("log.index.interval.bytes", TypeInt, "4096", ClusterWide, "Default index.interval.bytes.", atLeast(0)),
	k("log.index.size.max.bytes", TypeInt, "10485760", ClusterWide, "Default segment.index.bytes.", atLeast(4)),
	k("log.local.retention.bytes", TypeLong, "-2", ClusterWide, "Default local.retention.bytes (tiered storage; accepted, ignored).", atLeast(-2)),
	k("log.local.retention.ms", TypeLong, "-2", ClusterWide, "Default local.retention.ms (tiered storage; accepted, ignored).", atLeast(-2)),
	k("log.message.downconversion.enable", TypeBoolean, "true", ClusterWide, "Default message.downconversion.enable."),
	k("log.message.timestamp.after.max.ms", TypeLong, longMax, ClusterWide, "Default message.timestamp.after.max.ms.", atLeast(0)),
	k("log.message.timestamp.before.max.ms", TypeLong, longMax, ClusterWide, "Default message.timestamp.before.max.ms.", atLeast(0)),
	k("log.message.timestamp.difference.max.ms", TypeLong, longMax, ClusterWide, "Default message.timestamp.difference.max.ms.", atLeast(0)),
	k("log.message.timestamp.type", TypeString, "CreateTime", ClusterWide, "Default message.timestamp.type: CreateTime or LogAppendTime.", oneOf("CreateTime", "LogAppendTime")),
	k("log.preallocate", TypeBoolean, "false", ClusterWide, "Default preallocate."),
	k("log.retention.bytes", TypeLong, "-1", ClusterWide, "Default retention.bytes: maximum partition size before old segments are deleted; -1 no limit."),
	k("log.retention.check.interval.ms", TypeLong, "300000", ReadOnly, "How often retention is enforced.", atLeast(1)),
	k("log.retention.hours", TypeInt, "168", ReadOnly, "Default retention in hours; log.retention.minutes and log.retention.ms take precedence.", atLeast(-1)),
	k("log.retention.minutes", TypeInt, "", ReadOnly, "Default retention in minutes; log.retention.ms takes precedence.", atLeast(-1)),
	k("log.retention.ms", TypeLong, "", ClusterWide, "Default retention.ms; -1 keeps data forever.", atLeast(-1)),
	k("log.roll.hours", TypeInt, "168", ReadOnly, "Default segment.ms in hours; log.roll.ms takes precedence.", atLeast(1)),
	k("log.roll.jitter.hours", TypeInt, "0", ReadOnly, "Default segment.jitter.ms in hours.", atLeast(0)),
	k("log.roll.jitter.ms", TypeLong, "", ClusterWide, "Default segment.jitter.ms.", atLeast(0)),
	k("log.roll.ms", TypeLong, "", ClusterWide, "Default segment.ms.", atLeast(1)),
	k("log.segment.bytes", TypeInt, "1073741824", ClusterWide, "Default segment.bytes.", atLeast(14)),
	k("log.segment.delete.delay.ms", TypeLong, "60000", ClusterWide, "Default file.delete.delay.ms.", atLeast(0)),
	k("max.connections", TypeInt, "2147483647", ClusterWide, "Maximum connections (accepted for compatibility, ignored).", atLeast(0)),
	k("max.connections.per.ip", TypeInt, "2147483647", ClusterWide, "Maximum connections per IP (accepted for compatibility, ignored).", atLeast(0)),
	k("max.connections.per.ip.overrides", TypeString, "", ClusterWide, "Per-IP connection limits (accepted for compatibility, ignored)."),
	k("max.incremental.fetch.session.cache.slots", TypeInt, "1000", ReadOnly, "Incremental fetch sessions kept.", atLeast(0)),
	k("message.max.bytes", TypeInt, "1048588", ClusterWide, "Default max.message.bytes: largest record batch accepted.", atLeast(0)),
	k("metadata.log.dir", TypeString, "", ReadOnly, "Directory of the metadata log; default: the first log dir."),
	k("metric.reporters", TypeList, "", ClusterWide, "Accepted for compatibility, ignored."),
	k("metrics.num.samples", TypeInt, "2", ReadOnly, "Accepted for compatibility, ignored.", atLeast(1)),
	k("metrics.sample.window.ms", TypeLong, "30000", ReadOnly, "Accepted for compatibility, ignored.", atLeast(1)),
	k("min.insync.replicas", TypeInt, "1", ClusterWide, "Default min.insync.replicas: replicas that must have a write for acks=all to succeed.", between(1, math.MaxInt16)),
	k("node.id", TypeInt, "1", ReadOnly, "This node's id; broker.id is an alias.", atLeast(0)),
	k("num.io.threads", TypeInt, "8", ClusterWide, "Request handler threads (accepted for compatibility, ignored).", atLeast(1)),
	k("num.network.threads", TypeInt, "3", ClusterWide, "Network threads (accepted for compatibility, ignored).", atLeast(1)),
	k("num.partitions", TypeInt, "1", ReadOnly, "Partitions of automatically created topics and of CreateTopics with -1.", atLeast(1)),
	k("num.recovery.threads.per.data.dir", TypeInt, "1", ClusterWide, "Log recovery threads (accepted for compatibility, ignored).", atLeast(1)),
	k("num.replica.alter.log.dirs.threads", TypeInt, "", ReadOnly, "Accepted for compatibility, ignored."),
	k("num.replica.fetchers", TypeInt, "1", ClusterWide, "Replica fetchers per source broker, each with its own connection; a partition's fetcher is chosen by hashing its topic and index (taken at start).", atLeast(1)),
	k("offset.metadata.max.bytes", TypeInt, "4096", ReadOnly, "Largest metadata string stored with a committed offset."),
	k("offsets.commit.timeout.ms", TypeInt, "5000", ReadOnly, "Offset commit timeout.", atLeast(1)),
	k("offsets.load.buffer.size", TypeInt, "5242880", ReadOnly, "Read buffer when loading offsets.", atLeast(1)),
	k("offsets.retention.check.interval.ms", TypeLong, "600000", ReadOnly, "How often expired offsets are removed.", atLeast(1)),
	k("offsets.retention.minutes", TypeInt, "10080", ReadOnly, "Committed offsets of an empty group expire after this long.", atLeast(1)),
	k("offsets.topic.compression.codec", TypeInt, "0", ReadOnly, "Compression codec of __consumer_offsets (accepted, ignored)."),
	k("offsets.topic.num.partitions", TypeInt, "50", ReadOnly, "Partitions of __consumer_offsets (cannot change after it is created).", atLeast(1)),
	k("offsets.topic.replication.factor", TypeShort, "3", ReadOnly, "Replication factor of __consumer_offsets (clamped to the live brokers).", atLeast(1)),
	k("offsets.topic.segment.bytes", TypeInt, "104857600", ReadOnly, "Segment size of __consumer_offsets.", atLeast(1)),
	k("process.roles", TypeList, "broker,controller", ReadOnly, "Roles of this node: broker, controller or both.", oneOf("broker", "controller")),
	k("producer.id.expiration.ms", TypeInt, "86400000", ClusterWide, "Idempotent producer state expires after this long without writes.", atLeast(1)),
	k("producer.purgatory.purge.interval.requests", TypeInt, "1000", ReadOnly, "Accepted for compatibility, ignored."),
	k("queued.max.requests", TypeInt, "500", ReadOnly, "Accepted for compatibility, ignored.", atLeast(1)),
	k("replica.fetch.backoff.ms", TypeInt, "1000", ReadOnly, "Sleep after a replica fetch error.", atLeast(0)),
	k("replica.fetch.max.bytes", TypeInt, "1048576", ReadOnly, "Bytes per partition a follower asks for.", atLeast(0)),
	k("replica.fetch.min.bytes", TypeInt, "1", ReadOnly, "Minimum bytes of a replica fetch response."),
	k("replica.fetch.response.max.bytes", TypeInt, "10485760", ReadOnly, "Maximum bytes of a replica fetch response.", atLeast(0)),
	k("replica.fetch.wait.max.ms", TypeInt, "500", ReadOnly, "Maximum wait of a follower's fetch; at most replica.socket.timeout.ms.", atLeast(0)),
	k("replica.high.watermark.checkpoint.interval.ms", TypeLong, "5000", ReadOnly, "How often the high watermark checkpoint is written.", atLeast(1)),
	k("replica.lag.time.max.ms", TypeLong, "30000", ReadOnly, "A follower that has not caught up for this long leaves the ISR.", atLeast(1)),
	k("replica.selector.class", TypeClass, "", ReadOnly, "Accepted for compatibility, ignored."),
	k("replica.socket.receive.buffer.bytes", TypeInt, "65536", ReadOnly, "Accepted for compatibility, ignored."),
	k("replica.socket.timeout.ms", TypeInt, "30000", ReadOnly, "How long a follower waits to connect to its leader or for the answer to one request before it drops the connection and dials again; at least replica.fetch.wait.max.ms.", atLeast(1)),
	k("request.timeout.ms", TypeInt, "30000", ReadOnly, "Accepted for compatibility, ignored.", atLeast(0)),
	k("reserved.broker.max.id", TypeInt, "1000", ReadOnly, "Accepted for compatibility, ignored.", atLeast(0)),
	k("sasl.enabled.mechanisms", TypeList, "SCRAM-SHA-512,SCRAM-SHA-256", PerBroker, "SASL mechanisms on SASL_PLAINTEXT and SASL_SSL listeners: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (PLAIN checks the password against the user's SCRAM credential).", custom(checkMechanisms)),
	k("sasl.mechanism.inter.broker.protocol", TypeString, "GSSAPI", PerBroker, "Accepted for compatibility, ignored: brokers authenticate to each other with TLS certificates (see docs/SECURITY.md)."),
	k("security.inter.broker.protocol", TypeString, "PLAINTEXT", ReadOnly, "Accepted for compatibility; use inter.broker.listener.name.", oneOf(securityProtocols...)),
	k("socket.connection.setup.timeout.ms", TypeLong, "10000", ReadOnly, "Accepted for compatibility, ignored."),
	k("socket.listen.backlog.size", TypeInt, "50", ReadOnly, "Accepted for compatibility, ignored.", atLeast(1)),
	k("socket.receive.buffer.bytes", TypeInt, "102400", ReadOnly, "Accepted for compatibility, ignored."),
	k("socket.request.max.bytes", TypeInt, "104857600", ReadOnly, "Largest request the broker reads.", atLeast(1)),
	k("socket.send.buffer.bytes", TypeInt, "102400", ReadOnly, "Accepted for compatibility, ignored."),
	k("ssl.cipher.suites", TypeList, "", PerBroker, "TLS 1.2 cipher suites by IANA name; empty: Go's defaults (TLS 1.3's suites are fixed)."),
	k("ssl.client.auth", TypeString, "none", PerBroker, "Client certificates on SSL and SASL_SSL listeners: required, requested or none.", oneOf("required", "requested", "none")),
	k("ssl.enabled.protocols", TypeList, "TLSv1.2,TLSv1.3", PerBroker, "TLS versions accepted.", oneOf("TLSv1.2", "TLSv1.3")),
	k("ssl.endpoint.identification.algorithm", TypeString, "https", PerBroker, "https: the broker's own TLS clients (replication, quorum) check the peer's name; empty: they do not."),
	k("ssl.keystore.certificate.chain", TypeString, "", PerBroker, "The certificate chain in PEM, inline (with ssl.keystore.key; not reloaded)."),
	secret("ssl.keystore.key", "The private key in PEM, inline (with ssl.keystore.certificate.chain)."),
	k("ssl.keystore.location", TypeString, "", PerBroker, "PEM file with the private key and the certificate chain, leaf first; re-read when it changes."),
	k("ssl.keystore.type", TypeString, "PEM", PerBroker, "PEM only (JKS and PKCS12 are refused).", oneOf("PEM")),
	k("ssl.principal.mapping.rules", TypeString, "DEFAULT", PerBroker, "Kafka's rules mapping a client certificate's subject (RFC 2253) to the principal's name."),
	k("ssl.truststore.certificates", TypeString, "", PerBroker, "CA certificates in PEM, inline."),
	k("ssl.truststore.location", TypeString, "", PerBroker, "PEM file of the CA certificates client certificates are verified against; re-read when it changes."),
	k("ssl.truststore.type", TypeString, "PEM", PerBroker, "PEM only (JKS and PKCS12 are refused).", oneOf("PEM")),
	secret("ssl.key.password", "Refused when set: encrypted private keys are not read."),
	secret("ssl.keystore.password", "Accepted for compatibility, ignored (PEM keystores have none)."),
	secret("ssl.truststore.password", "Accepted for compatibility, ignored (PEM truststores have none)."),
	k("super.users", TypeString, "", ReadOnly, "Principals allowed everything, separated by ';' (User:admin;User:CN=broker-1)."),
	k("transaction.max.timeout.ms", TypeInt, "900000", ReadOnly, "Largest transaction timeout a producer may ask for.", atLeast(1)),
	k("transaction.state.log.load.buffer.size", TypeInt, "5242880", ReadOnly, "Read buffer when loading transaction state.", atLeast(1)),
	k("transaction.state.log.min.isr", TypeInt, "2", ReadOnly, "min.insync.replicas of __transaction_state.", atLeast(1)),
	k("transaction.state.log.num.partitions", TypeInt, "50", ReadOnly, "Partitions of __transaction_state.", atLeast(1)),
	k("transaction.state.log.replication.factor", TypeShort, "3", ReadOnly, "Replication factor of __transaction_state (clamped to the live brokers).", atLeast(1)),
	k("transaction.state.log.segment.bytes", TypeInt, "104857600", ReadOnly, "Segment size of __transaction_state.", atLeast(1)),
	k("transactional.id.expiration.ms", TypeInt, "604800000", ClusterWide, "A transactional id expires after this long without updates.", atLeast(1)),
	k("unclean.leader.election.enable", TypeBoolean, "false", ClusterWide, "Default unclean.leader.election.enable: allow an out-of-sync replica to lead (may lose data)."),
	k("weir.admin.listener", TypeString, "127.0.0.1:9644", ReadOnly, "host:port of the admin HTTP server (/metrics, /healthz, /readyz); empty or off disables it.", custom(checkAdminListener)),
	k("weir.cluster.id", TypeString, "", ReadOnly, "Cluster id; generated at first start when empty."),
	k("weir.group.consumer.regex.refresh.min.interval.ms", TypeInt, "10000", ReadOnly, "Least time between two resolutions of a consumer-protocol group's SubscribedTopicRegex against the topic list (a constant, 10s, in Kafka; shorter for tests).", atLeast(1)),
	k("weir.fetch.sendfile", TypeBoolean, "true", ReadOnly, "Send Fetch answers' record bytes on plaintext connections straight from the segment files with sendfile(2) (zero copy on the sending broker; TLS connections and down-converted answers always read into memory). On brokers and clients sharing one host the receiver pays the copy instead; false reads into memory everywhere."),
	k("weir.log.max.open.files", TypeInt, "0", ReadOnly, "Most segment .log files the partition logs keep open at once; idle ones are closed past it and reopened on use (docs/ONDISK.md, \"Open files\"). 0: 75% of the process's soft open-file limit (ulimit -n), leaving the rest to connections, index writes and checkpoints. Above that limit the broker refuses to start: raise ulimit -n or lower this.", atLeast(0)),
	k("weir.storage.provisioned.bytes", TypeLong, "0", PerBroker, "Provisioned storage of this broker, the bytes its partitions' log segments may use across all log dirs (the local stand-in for an EBS volume); 0: no provisioned size, the filesystem's. A produce that would pass it (or the filesystem's free space) gets KAFKA_STORAGE_ERROR; replication is never refused, so a follower can overshoot by what its leaders accepted. DescribeLogDirs reports it as TotalBytes.", atLeast(0)),
}

// brokerPrefixes are key families accepted without a table row: per-listener
// overrides such as listener.name.internal.ssl.keystore.location.
var brokerPrefixes = []string{"listener.name."}

var compressionTypes = []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}

// The authorizer.class.name values that turn ACLs on: Kafka's KRaft
// authorizer and its ZooKeeper-era one (the same semantics here).
const (
	standardAuthorizer = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
	aclAuthorizer      = "kafka.security.authorizer.AclAuthorizer"
)

func checkMechanisms(v string) string {
	if _, err := sasl.ParseEnabledMechanisms(v); err != nil {
		return "names " + strings.TrimPrefix(err.Error(), "sasl.enabled.mechanisms: ")
	}
	return ""
}

var securityProtocols = []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}

const defaultProtocolMap = "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"

var brokerIndex = func() map[string]*keyDef {
	m := make(map[string]*keyDef, len(brokerTable))
	for i := range brokerTable {
		m[brokerTable[i].Name] = &brokerTable[i]
	}
	return m
}()

// BrokerKeys returns every broker key Weir accepts, sorted by name.
func BrokerKeys() []Key {
	out := make([]Key, len(brokerTable))
	for i, d := range brokerTable {
		out[i] = d.Key
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupBrokerKey returns the table row for name.
func LookupBrokerKey(name string) (Key, bool) {
	d, ok := brokerIndex[name]
	if !ok {
		return Key{}, false
	}
	return d.Key, true
}

// ValidateBrokerConfig checks one broker key and value as Load does, for
// dynamic broker configs (IncrementalAlterConfigs on a broker resource).
func ValidateBrokerConfig(name, value string) error {
	if problem, hint := knownKey(name); problem != "" {
		return fmt.Errorf("config: %s%s", problem, hint)
	}
	if reason := checkBrokerValue(name, value); reason != "" {
		return fmt.Errorf("config: %s: %q %s", name, value, reason)
	}
	return nil
}

// knownKey says why name is not a broker key ("" when it is), and a hint
// such as "; did you mean log.retention.hours?".
func knownKey(name string) (problem, hint string) {
	if _, ok := brokerIndex[name]; ok {
		return "", ""
	}
	for _, p := range brokerPrefixes {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return "", ""
		}
	}
	if strings.HasPrefix(name, "zookeeper.") {
		return fmt.Sprintf("%s is not supported", name), "; Weir runs KRaft-style metadata on its own raft quorum (see controller.quorum.voters), there is no ZooKeeper"
	}
	if s := suggest(name); s != "" {
		return fmt.Sprintf("unknown key %q", name), "; did you mean " + s + "?"
	}
	return fmt.Sprintf("unknown key %q", name), ""
}

// checkBrokerValue returns why value is not valid for the broker key name,
// or "". Keys under a prefix family are free-form.
func checkBrokerValue(name, value string) string {
	d, ok := brokerIndex[name]
	if !ok {
		return ""
	}
	if d.Default == "" && value == "" {
		return "" // setting a nullable key to empty means unset
	}
	if reason := typeReason(d.Type, value); reason != "" {
		return reason
	}
	for _, r := range d.rules {
		if reason := r.reason(d.Type, value); reason != "" {
			return reason
		}
	}
	return ""
}

// typeReason checks that value parses as typ.
func typeReason(typ, value string) string {
	v := strings.TrimSpace(value)
	var err error
	switch typ {
	case TypeInt:
		_, err = strconv.ParseInt(v, 10, 32)
	case TypeShort:
		_, err = strconv.ParseInt(v, 10, 16)
	case TypeLong:
		_, err = strconv.ParseInt(v, 10, 64)
	case TypeDouble:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "is not a number"
		}
	case TypeBoolean:
		if _, ok := parseBool(v); !ok {
			return "is not true or false"
		}
	}
	if err == nil {
		return ""
	}
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return "is out of range for a " + typ
	}
	return "is not an integer"
}

// reason checks one rule against a value that already parses as typ.
func (r rule) reason(typ, value string) string {
	v := strings.TrimSpace(value)
	if r.custom != nil {
		return r.custom(v)
	}
	if r.oneOf != nil {
		return r.oneOfReason(typ, v)
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return ""
	}
	if r.hasLo && n < r.lo {
		return "must be at least " + formatNum(r.lo)
	}
	if r.hasHi && n > r.hi {
		return "must be at most " + formatNum(r.hi)
	}
	return ""
}

func (r rule) oneOfReason(typ, v string) string {
	items := []string{v}
	if typ == TypeList {
		items = splitList(v)
	}
	for _, it := range items {
		if !contains(r.oneOf, it) {
			return "must be one of: " + strings.Join(r.oneOf, ", ")
		}
	}
	return ""
}

func formatNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// parseBool accepts true and false in any case, as Kafka does.
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// splitList splits a comma-separated list, trimming items and dropping
// empty ones.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

package config

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is a broker's configuration. Durations that Kafka calls "never"
// (Long.MAX_VALUE ms) saturate at time.Duration(math.MaxInt64).
type Config struct {
	NodeID                        int32         // node.id (alias broker.id), default 1
	Listeners                     []Listener    // listeners, default PLAINTEXT://:9092
	AdvertisedListeners           []Listener    // advertised.listeners, default: listeners with a wildcard host replaced by localhost
	LogDirs                       []string      // log.dirs (else log.dir), default ./weir-data
	NumPartitions                 int32         // num.partitions
	DefaultReplicationFactor      int16         // default.replication.factor
	MinInsyncReplicas             int16         // min.insync.replicas
	AutoCreateTopics              bool          // auto.create.topics.enable
	DeleteTopicEnable             bool          // delete.topic.enable
	MessageMaxBytes               int32         // message.max.bytes
	SocketRequestMaxBytes         int32         // socket.request.max.bytes
	ReplicaFetchMaxBytes          int32         // replica.fetch.max.bytes
	NumReplicaFetchers            int           // num.replica.fetchers
	ReplicaFetchWaitMax           time.Duration // replica.fetch.wait.max.ms
	ReplicaSocketTimeout          time.Duration // replica.socket.timeout.ms, at least ReplicaFetchWaitMax
	FetchMaxBytes                 int32         // fetch.max.bytes
	LogRetention                  time.Duration // log.retention.ms > .minutes > .hours; negative: forever
	LogRetentionBytes             int64         // log.retention.bytes; negative: no limit
	LogSegmentBytes               int64         // log.segment.bytes
	LogRoll                       time.Duration // log.roll.ms > log.roll.hours
	LogFlushIntervalMessages      int64         // log.flush.interval.messages
	LogFlushInterval              time.Duration // log.flush.interval.ms; 0: not set, never flush by time
	LogFlushSchedulerInterval     time.Duration // log.flush.scheduler.interval.ms
	LogRetentionCheckInterval     time.Duration // log.retention.check.interval.ms
	LogIndexIntervalBytes         int           // log.index.interval.bytes
	LogIndexSizeMaxBytes          int           // log.index.size.max.bytes
	LogCleanupPolicy              string        // log.cleanup.policy: delete, compact or "compact,delete"
	LogMessageTimestampType       string        // log.message.timestamp.type: CreateTime or LogAppendTime
	CompressionType               string        // compression.type
	OffsetsTopicReplicationFactor int16         // offsets.topic.replication.factor (clamp to live brokers)
	OffsetsTopicNumPartitions     int32         // offsets.topic.num.partitions
	OffsetsRetention              time.Duration // offsets.retention.minutes
	GroupInitialRebalanceDelay    time.Duration // group.initial.rebalance.delay.ms
	GroupMinSessionTimeout        time.Duration // group.min.session.timeout.ms
	GroupMaxSessionTimeout        time.Duration // group.max.session.timeout.ms
	TransactionalIDExpiration     time.Duration // transactional.id.expiration.ms
	ProducerIDExpiration          time.Duration // producer.id.expiration.ms
	UncleanLeaderElection         bool          // unclean.leader.election.enable
	AutoLeaderRebalance           bool          // auto.leader.rebalance.enable
	ReplicaLagTimeMax             time.Duration // replica.lag.time.max.ms
	BrokerRack                    string        // broker.rack
	ProcessRoles                  []string      // process.roles
	ControllerQuorumVoters        string        // controller.quorum.voters, kept raw
	QuorumElectionTimeout         time.Duration // controller.quorum.election.timeout.ms
	QuorumFetchTimeout            time.Duration // controller.quorum.fetch.timeout.ms
	ClusterID                     string        // weir.cluster.id; empty: generate at first start
	AdminListener                 string        // weir.admin.listener host:port; "": disabled
	StorageProvisionedBytes       int64         // weir.storage.provisioned.bytes; 0: the filesystem's size
	LogMaxOpenFiles               int           // weir.log.max.open.files; 0: 75 % of the soft RLIMIT_NOFILE
	FetchSendfile                 bool          // weir.fetch.sendfile: plaintext Fetch answers sent from the segment files
	NumNetworkThreads             int           // num.network.threads: accepted, ignored
	NumIOThreads                  int           // num.io.threads: accepted, ignored
	// SecurityProtocolMap is listener.security.protocol.map, listener name to protocol.
	SecurityProtocolMap map[string]string
	// InterBrokerListenerName is inter.broker.listener.name, default the first listener.
	InterBrokerListenerName string
	// Security is TLS, SASL and authorization (security.go).
	Security Security
	// Raw holds every key as given in the file and overrides (overrides win).
	Raw map[string]string
}

// Default returns the configuration of a single node with nothing set.
func Default() *Config {
	c, err := build(values{})
	if err != nil {
		panic("config: the defaults do not build: " + err.Error())
	}
	return c
}

// Load reads a properties file (path "" means defaults only), applies the
// overrides (key=value pairs from the command line, which win), validates and
// returns the config. Every error names the key and the bad value; all errors
// found are returned together.
func Load(path string, overrides map[string]string) (*Config, error) {
	if path == "" {
		return Parse(strings.NewReader(""), "", overrides)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return Parse(f, path, overrides)
}

// Parse reads properties from r (source names it in errors) and applies
// overrides, like Load.
func Parse(r io.Reader, source string, overrides map[string]string) (*Config, error) {
	entries, err := parseProperties(r)
	if err != nil {
		if source != "" {
			return nil, fmt.Errorf("config: %s: %w", source, err)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	v := collect(entries, source, overrides)
	if errs := v.check(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return build(v)
}

// values is the merged key=value set with where each value came from.
type values struct {
	given map[string]string
	where map[string]string // "line 3 of f", "command-line override"
	order []string          // keys by where they were last set
}

func collect(entries []entry, source string, overrides map[string]string) values {
	v := values{given: map[string]string{}, where: map[string]string{}}
	line := map[string]int{}
	for _, e := range entries {
		v.given[e.key], line[e.key] = e.value, e.line
		v.where[e.key] = "line " + strconv.Itoa(e.line)
		if source != "" {
			v.where[e.key] += " of " + source
		}
	}
	for key, val := range overrides {
		key = strings.TrimSpace(key)
		v.given[key], line[key] = strings.TrimSpace(val), math.MaxInt
		v.where[key] = "command-line override"
	}
	for key := range v.given {
		v.order = append(v.order, key)
	}
	sort.Slice(v.order, func(i, j int) bool {
		a, b := v.order[i], v.order[j]
		return line[a] < line[b] || line[a] == line[b] && a < b
	})
	return v
}

// check validates every key and value on its own.
func (v values) check() []error {
	var errs []error
	for _, key := range v.order {
		if problem, hint := knownKey(key); problem != "" {
			errs = append(errs, fmt.Errorf("config: %s (%s)%s", problem, v.where[key], hint))
			continue
		}
		if reason := checkBrokerValue(key, v.given[key]); reason != "" {
			errs = append(errs, fmt.Errorf("config: %s: %q %s (%s)", key, v.given[key], reason, v.where[key]))
		}
	}
	return errs
}

// fail reports a problem with a key's value found while building.
func (v values) fail(key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if where, ok := v.where[key]; ok {
		return fmt.Errorf("config: %s: %q: %s (%s)", key, v.given[key], msg, where)
	}
	return fmt.Errorf("config: %s: %q: %s", key, v.str(key), msg)
}

func (v values) has(key string) bool { _, ok := v.given[key]; return ok && v.given[key] != "" }

// str returns the given value or the table default.
func (v values) str(key string) string {
	if s, ok := v.given[key]; ok && s != "" {
		return strings.TrimSpace(s)
	}
	return brokerIndex[key].Default
}

// i64 returns a value already checked to parse as an integer.
func (v values) i64(key string) int64 {
	n, _ := strconv.ParseInt(v.str(key), 10, 64)
	return n
}

func (v values) i32(key string) int32 { return int32(v.i64(key)) }
func (v values) i16(key string) int16 { return int16(v.i64(key)) }
func (v values) int(key string) int   { return int(v.i64(key)) }
func (v values) bool(key string) bool { b, _ := parseBool(v.str(key)); return b }
func (v values) ms(key string) time.Duration {
	return millis(v.i64(key))
}

// millis converts milliseconds to a Duration, saturating at the largest
// Duration (Kafka's Long.MAX_VALUE "never" does not fit in nanoseconds).
func millis(ms int64) time.Duration {
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return time.Duration(math.MaxInt64)
	}
	if ms < math.MinInt64/int64(time.Millisecond) {
		return time.Duration(math.MinInt64)
	}
	return time.Duration(ms) * time.Millisecond
}

// durMs is millis' inverse: the saturated maximum is Long.MAX_VALUE again,
// any negative Duration is -1.
func durMs(d time.Duration) string {
	switch {
	case d == time.Duration(math.MaxInt64):
		return longMax
	case d < 0:
		return "-1"
	}
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// scaled multiplies a count of units by the unit's milliseconds; negative
// means forever (-1), as Kafka treats negative retention.
func scaled(n, unitMs int64) int64 {
	if n < 0 {
		return -1
	}
	if n > math.MaxInt64/unitMs {
		return math.MaxInt64
	}
	return n * unitMs
}

// retentionMs resolves log.retention.ms > minutes > hours.
func (v values) retentionMs() int64 {
	switch {
	case v.has("log.retention.ms"):
		return scaled(v.i64("log.retention.ms"), 1)
	case v.has("log.retention.minutes"):
		return scaled(v.i64("log.retention.minutes"), 60_000)
	}
	return scaled(v.i64("log.retention.hours"), 3_600_000)
}

// rollMs resolves log.roll.ms > log.roll.hours.
func (v values) rollMs() int64 {
	if v.has("log.roll.ms") {
		return v.i64("log.roll.ms")
	}
	return scaled(v.i64("log.roll.hours"), 3_600_000)
}

// build turns checked values into a Config, checking the rules that span
// keys.
func build(v values) (*Config, error) {
	c := &Config{Raw: map[string]string{}}
	for key, val := range v.given {
		c.Raw[key] = val
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(c.buildIdentity(v))
	if err := c.buildListeners(v); err != nil {
		add(err)
	} else {
		add(c.buildSecurity(v))
	}
	c.buildLog(v)
	add(c.buildReplication(v))
	c.buildGroups(v)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func (c *Config) buildIdentity(v values) error {
	c.NodeID = v.i32("node.id")
	if v.has("broker.id") {
		if v.has("node.id") && v.i32("broker.id") != c.NodeID {
			return v.fail("broker.id", "does not match node.id %d (broker.id is an alias of node.id)", c.NodeID)
		}
		c.NodeID = v.i32("broker.id")
	}
	c.BrokerRack = v.str("broker.rack")
	c.ClusterID = v.str("weir.cluster.id")
	c.ControllerQuorumVoters = v.str("controller.quorum.voters")
	c.QuorumElectionTimeout = v.ms("controller.quorum.election.timeout.ms")
	c.QuorumFetchTimeout = v.ms("controller.quorum.fetch.timeout.ms")
	c.AdminListener = v.str("weir.admin.listener")
	if s, set := v.given["weir.admin.listener"]; set && (s == "" || s == "off") {
		c.AdminListener = ""
	}
	c.ProcessRoles = splitList(v.str("process.roles"))
	if len(c.ProcessRoles) == 0 || len(c.ProcessRoles) == 2 && c.ProcessRoles[0] == c.ProcessRoles[1] {
		return v.fail("process.roles", "must be broker, controller or broker,controller")
	}
	c.NumNetworkThreads = v.int("num.network.threads")
	c.NumIOThreads = v.int("num.io.threads")
	return nil
}

func (c *Config) buildListeners(v values) error {
	var err error
	if c.SecurityProtocolMap, err = parseProtocolMap(v.str("listener.security.protocol.map")); err != nil {
		return v.fail("listener.security.protocol.map", "%v", err)
	}
	c.Listeners, _ = parseListeners(v.str("listeners"))
	if len(c.Listeners) == 0 {
		return v.fail("listeners", "must name at least one listener")
	}
	if err := checkListeners(c.Listeners); err != nil {
		return v.fail("listeners", "%v", err)
	}
	for _, l := range c.Listeners {
		if _, ok := c.SecurityProtocolMap[l.Name]; !ok {
			return v.fail("listeners", "listener name %s has no security protocol (add %s:PLAINTEXT to listener.security.protocol.map)", l.Name, l.Name)
		}
	}
	if err := c.buildAdvertised(v); err != nil {
		return err
	}
	c.InterBrokerListenerName = c.Listeners[0].Name
	if v.has("inter.broker.listener.name") {
		c.InterBrokerListenerName = strings.ToUpper(v.str("inter.broker.listener.name"))
		if c.listener(c.InterBrokerListenerName) == nil {
			return v.fail("inter.broker.listener.name", "is not the name of one of the listeners")
		}
	}
	return nil
}

func (c *Config) buildAdvertised(v values) error {
	if !v.has("advertised.listeners") {
		controllers := strings.Split(strings.ToUpper(v.str("controller.listener.names")), ",")
		for _, l := range c.Listeners {
			if contains(controllers, l.Name) {
				continue
			}
			if isWildcardHost(l.Host) {
				l.Host = "localhost"
			}
			c.AdvertisedListeners = append(c.AdvertisedListeners, l)
		}
		return nil
	}
	c.AdvertisedListeners, _ = parseListeners(v.str("advertised.listeners"))
	if err := checkListeners(c.AdvertisedListeners); err != nil {
		return v.fail("advertised.listeners", "%v", err)
	}
	for _, l := range c.AdvertisedListeners {
		if c.listener(l.Name) == nil {
			return v.fail("advertised.listeners", "listener name %s is not in listeners", l.Name)
		}
		if isWildcardHost(l.Host) {
			return v.fail("advertised.listeners", "%s has no routable host (clients cannot connect to %q)", l.Name, l.Host)
		}
	}
	return nil
}

// listener returns the listener named name, or nil.
func (c *Config) listener(name string) *Listener {
	for i := range c.Listeners {
		if c.Listeners[i].Name == name {
			return &c.Listeners[i]
		}
	}
	return nil
}

// SecurityProtocol returns the security protocol of a listener name.
func (c *Config) SecurityProtocol(listenerName string) string {
	return c.SecurityProtocolMap[strings.ToUpper(listenerName)]
}

// buildReplication reads the follower's fetch timing. As Kafka's
// KafkaConfig, replica.socket.timeout.ms below replica.fetch.wait.max.ms is
// refused: every fetch the leader parks for its full wait would time out.
func (c *Config) buildReplication(v values) error {
	c.ReplicaFetchWaitMax = v.ms("replica.fetch.wait.max.ms")
	c.ReplicaSocketTimeout = v.ms("replica.socket.timeout.ms")
	if c.ReplicaSocketTimeout < c.ReplicaFetchWaitMax {
		return v.fail("replica.socket.timeout.ms", "must be at least replica.fetch.wait.max.ms (%d), or every fetch the leader holds for that long would time out", c.ReplicaFetchWaitMax.Milliseconds())
	}
	return nil
}

func (c *Config) buildLog(v values) {
	c.LogDirs = []string{v.str("log.dir")}
	if v.has("log.dirs") {
		c.LogDirs = splitList(v.str("log.dirs"))
	}
	c.NumPartitions = v.i32("num.partitions")
	c.DefaultReplicationFactor = v.i16("default.replication.factor")
	c.MinInsyncReplicas = v.i16("min.insync.replicas")
	c.AutoCreateTopics = v.bool("auto.create.topics.enable")
	c.DeleteTopicEnable = v.bool("delete.topic.enable")
	c.MessageMaxBytes = v.i32("message.max.bytes")
	c.SocketRequestMaxBytes = v.i32("socket.request.max.bytes")
	c.ReplicaFetchMaxBytes = v.i32("replica.fetch.max.bytes")
	c.NumReplicaFetchers = int(v.i32("num.replica.fetchers"))
	c.FetchMaxBytes = v.i32("fetch.max.bytes")
	c.LogRetention = millis(v.retentionMs())
	c.LogRetentionBytes = v.i64("log.retention.bytes")
	c.LogSegmentBytes = v.i64("log.segment.bytes")
	c.LogRoll = millis(v.rollMs())
	c.LogFlushIntervalMessages = v.i64("log.flush.interval.messages")
	if v.has("log.flush.interval.ms") {
		c.LogFlushInterval = v.ms("log.flush.interval.ms")
	}
	c.LogFlushSchedulerInterval = v.ms("log.flush.scheduler.interval.ms")
	c.LogRetentionCheckInterval = v.ms("log.retention.check.interval.ms")
	c.LogIndexIntervalBytes = v.int("log.index.interval.bytes")
	c.LogIndexSizeMaxBytes = v.int("log.index.size.max.bytes")
	c.LogCleanupPolicy = strings.Join(splitList(v.str("log.cleanup.policy")), ",")
	c.LogMessageTimestampType = v.str("log.message.timestamp.type")
	c.CompressionType = v.str("compression.type")
	c.UncleanLeaderElection = v.bool("unclean.leader.election.enable")
	c.AutoLeaderRebalance = v.bool("auto.leader.rebalance.enable")
	c.ReplicaLagTimeMax = v.ms("replica.lag.time.max.ms")
	c.StorageProvisionedBytes = v.i64("weir.storage.provisioned.bytes")
	c.LogMaxOpenFiles = int(v.i32("weir.log.max.open.files"))
	c.FetchSendfile = v.bool("weir.fetch.sendfile")
}

func (c *Config) buildGroups(v values) {
	c.OffsetsTopicReplicationFactor = v.i16("offsets.topic.replication.factor")
	c.OffsetsTopicNumPartitions = v.i32("offsets.topic.num.partitions")
	c.OffsetsRetention = time.Duration(v.i64("offsets.retention.minutes")) * time.Minute
	c.GroupInitialRebalanceDelay = v.ms("group.initial.rebalance.delay.ms")
	c.GroupMinSessionTimeout = v.ms("group.min.session.timeout.ms")
	c.GroupMaxSessionTimeout = v.ms("group.max.session.timeout.ms")
	c.TransactionalIDExpiration = v.ms("transactional.id.expiration.ms")
	c.ProducerIDExpiration = v.ms("producer.id.expiration.ms")
}

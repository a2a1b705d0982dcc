package config

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// TopicKey is one of Kafka's topic-level configs.
type TopicKey struct {
	Name    string
	Type    string // Kafka's ConfigDef type, as Key.Type
	Default string // Kafka's default when no broker synonym is set
	Doc     string
	// BrokerSynonym is the broker key that supplies the default
	// (retention.ms <- log.retention.ms); "" when there is none.
	BrokerSynonym string
	// BrokerSynonyms are all broker keys that supply the default, highest
	// precedence first (log.retention.ms, log.retention.minutes, log.retention.hours).
	BrokerSynonyms []string
	// Validate returns an error whose message is Kafka's for a bad value.
	Validate func(string) error
}

// synonym is a broker key a topic config falls back to; unitMs converts its
// value to the topic config's milliseconds (0: no conversion).
type synonym struct {
	name   string
	unitMs int64
}

type topicDef struct {
	name, typ, def, doc string
	syns                []synonym
	rules               []rule
}

func syn(names ...string) []synonym {
	out := make([]synonym, len(names))
	for i, n := range names {
		out[i] = synonym{name: n}
	}
	return out
}

var (
	retentionSyns = []synonym{{"log.retention.ms", 1}, {"log.retention.minutes", 60_000}, {"log.retention.hours", 3_600_000}}
	rollSyns      = []synonym{{"log.roll.ms", 1}, {"log.roll.hours", 3_600_000}}
	jitterSyns    = []synonym{{"log.roll.jitter.ms", 1}, {"log.roll.jitter.hours", 3_600_000}}
)

// topicTable is Kafka 3.x's topic configs with their defaults and validators.
var topicTable = []topicDef{
	{"cleanup.policy", TypeList, "delete", "delete old segments by retention, compact to the latest value per key, or both (compact,delete).", syn("log.cleanup.policy"), []rule{oneOf("compact", "delete")}},
	{"compression.type", TypeString, "producer", "Final compression of the topic's data; producer keeps the producer's codec.", syn("compression.type"), []rule{oneOf(compressionTypes...)}},
	{"delete.retention.ms", TypeLong, "86400000", "How long tombstones are kept in a compacted topic.", syn("log.cleaner.delete.retention.ms"), []rule{atLeast(0)}},
	{"file.delete.delay.ms", TypeLong, "60000", "Wait before deleting a file from the filesystem.", syn("log.segment.delete.delay.ms"), []rule{atLeast(0)}},
	{"flush.messages", TypeLong, longMax, "fsync after this many messages.", syn("log.flush.interval.messages"), []rule{atLeast(1)}},
	{"flush.ms", TypeLong, longMax, "fsync when unflushed data is older than this.", syn("log.flush.interval.ms", "log.flush.scheduler.interval.ms"), []rule{atLeast(0)}},
	{"follower.replication.throttled.replicas", TypeList, "", "Replicas throttled on the follower side: [PartitionId]:[BrokerId],... or *.", nil, []rule{custom(throttledReplicasReason("follower.replication.throttled.replicas"))}},
	{"index.interval.bytes", TypeInt, "4096", "Bytes between offset index entries.", syn("log.index.interval.bytes"), []rule{atLeast(0)}},
	{"leader.replication.throttled.replicas", TypeList, "", "Replicas throttled on the leader side: [PartitionId]:[BrokerId],... or *.", nil, []rule{custom(throttledReplicasReason("leader.replication.throttled.replicas"))}},
	{"local.retention.bytes", TypeLong, "-2", "Local size limit with tiered storage; -2 uses retention.bytes.", syn("log.local.retention.bytes"), []rule{atLeast(-2)}},
	{"local.retention.ms", TypeLong, "-2", "Local time limit with tiered storage; -2 uses retention.ms.", syn("log.local.retention.ms"), []rule{atLeast(-2)}},
	{"max.compaction.lag.ms", TypeLong, longMax, "Longest a message stays ineligible for compaction.", syn("log.cleaner.max.compaction.lag.ms"), []rule{atLeast(1)}},
	{"max.message.bytes", TypeInt, "1048588", "Largest record batch accepted.", syn("message.max.bytes"), []rule{atLeast(0)}},
	{"message.downconversion.enable", TypeBoolean, "true", "Down-convert messages for old fetch versions.", syn("log.message.downconversion.enable"), nil},
	{"message.timestamp.after.max.ms", TypeLong, longMax, "Largest allowed amount a message timestamp may be ahead of the broker's clock.", syn("log.message.timestamp.after.max.ms"), []rule{atLeast(0)}},
	{"message.timestamp.before.max.ms", TypeLong, longMax, "Largest allowed amount a message timestamp may be behind the broker's clock.", syn("log.message.timestamp.before.max.ms"), []rule{atLeast(0)}},
	{"message.timestamp.difference.max.ms", TypeLong, longMax, "Largest allowed difference between a message timestamp and the broker's clock (deprecated).", syn("log.message.timestamp.difference.max.ms"), []rule{atLeast(0)}},
	{"message.timestamp.type", TypeString, "CreateTime", "CreateTime keeps the producer's timestamp, LogAppendTime uses the broker's.", syn("log.message.timestamp.type"), []rule{oneOf("CreateTime", "LogAppendTime")}},
	{"min.cleanable.dirty.ratio", TypeDouble, "0.5", "Share of the log that must be dirty before it is compacted.", syn("log.cleaner.min.cleanable.ratio"), []rule{between(0, 1)}},
	{"min.compaction.lag.ms", TypeLong, "0", "Shortest a message stays uncompacted.", syn("log.cleaner.min.compaction.lag.ms"), []rule{atLeast(0)}},
	{"min.insync.replicas", TypeInt, "1", "Replicas that must have a write for acks=all to succeed.", syn("min.insync.replicas"), []rule{atLeast(1)}},
	{"preallocate", TypeBoolean, "false", "Preallocate segment files.", syn("log.preallocate"), nil},
	{"remote.storage.enable", TypeBoolean, "false", "Tiered storage (not supported by Weir; only false is accepted).", nil, nil},
	{"retention.bytes", TypeLong, "-1", "Partition size beyond which old segments are deleted; -1 no limit.", syn("log.retention.bytes"), nil},
	{"retention.ms", TypeLong, "604800000", "Age beyond which old segments are deleted; -1 keeps data forever.", retentionSyns, []rule{atLeast(-1)}},
	{"segment.bytes", TypeInt, "1073741824", "Segment file size.", syn("log.segment.bytes"), []rule{atLeast(14)}},
	{"segment.index.bytes", TypeInt, "10485760", "Maximum size of a segment's offset index.", syn("log.index.size.max.bytes"), []rule{atLeast(4)}},
	{"segment.jitter.ms", TypeLong, "0", "Random jitter subtracted from segment.ms.", jitterSyns, []rule{atLeast(0)}},
	{"segment.ms", TypeLong, "604800000", "Roll a new segment after this long even when it is not full.", rollSyns, []rule{atLeast(1)}},
	{"unclean.leader.election.enable", TypeBoolean, "false", "Allow an out-of-sync replica to become leader (may lose data).", syn("unclean.leader.election.enable"), nil},
}

var topicIndex = func() map[string]*topicDef {
	m := make(map[string]*topicDef, len(topicTable))
	for i := range topicTable {
		m[topicTable[i].name] = &topicTable[i]
	}
	return m
}()

// TopicKeys returns Kafka's topic configs, sorted by name.
func TopicKeys() []TopicKey {
	out := make([]TopicKey, 0, len(topicTable))
	for i := range topicTable {
		out = append(out, topicTable[i].key())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (d *topicDef) key() TopicKey {
	k := TopicKey{Name: d.name, Type: d.typ, Default: d.def, Doc: d.doc}
	for _, s := range d.syns {
		k.BrokerSynonyms = append(k.BrokerSynonyms, s.name)
	}
	if len(k.BrokerSynonyms) > 0 {
		k.BrokerSynonym = k.BrokerSynonyms[0]
	}
	name := d.name
	k.Validate = func(v string) error { return ValidateTopicConfig(name, v) }
	return k
}

// TopicConfigError is a bad topic config; its message is the one Kafka puts
// in CreateTopics and AlterConfigs responses (error code
// INVALID_CONFIG, 40).
type TopicConfigError struct {
	Name, Value string
	Unknown     bool // the name is not a topic config
	msg         string
}

func (e *TopicConfigError) Error() string { return e.msg }

// ValidateTopicConfig checks that name is a topic config and value is valid
// for it, with Kafka's messages: "Unknown topic config name: foo",
// "Invalid value abc for configuration retention.ms: Not a number of type LONG".
func ValidateTopicConfig(name, value string) error {
	d, ok := topicIndex[name]
	if !ok {
		return &TopicConfigError{Name: name, Value: value, Unknown: true, msg: "Unknown topic config name: " + name}
	}
	if reason := d.reason(value); reason != "" {
		return &TopicConfigError{Name: name, Value: value,
			msg: fmt.Sprintf("Invalid value %s for configuration %s: %s", value, name, reason)}
	}
	return nil
}

// ValidateTopicConfigs checks a whole set of topic overrides, including the
// rules that span keys (min.compaction.lag.ms <= max.compaction.lag.ms).
// Names are checked in sorted order so the first error is deterministic.
func ValidateTopicConfigs(configs map[string]string) error {
	names := make([]string, 0, len(configs))
	for n := range configs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := ValidateTopicConfig(n, configs[n]); err != nil {
			return err
		}
	}
	minLag, maxLag := configs["min.compaction.lag.ms"], configs["max.compaction.lag.ms"]
	if minLag != "" && maxLag != "" {
		lo, _ := strconv.ParseInt(strings.TrimSpace(minLag), 10, 64)
		hi, _ := strconv.ParseInt(strings.TrimSpace(maxLag), 10, 64)
		if lo > hi {
			return &TopicConfigError{Name: "min.compaction.lag.ms", Value: minLag,
				msg: fmt.Sprintf("conflict topic config setting min.compaction.lag.ms (%d) > max.compaction.lag.ms (%d)", lo, hi)}
		}
	}
	return nil
}

// reason returns Kafka's explanation of why value is invalid, or "".
func (d *topicDef) reason(value string) string {
	v := strings.TrimSpace(value)
	if reason := kafkaTypeReason(d.typ, v); reason != "" {
		return reason
	}
	if d.name == "remote.storage.enable" && strings.EqualFold(v, "true") {
		return "Tiered storage is not supported by Weir"
	}
	for _, r := range d.rules {
		if reason := r.kafkaReason(d.typ, v); reason != "" {
			return reason
		}
	}
	return ""
}

// kafkaTypeReason is ConfigDef.parseType's message for an unparseable value.
func kafkaTypeReason(typ, v string) string {
	var err error
	switch typ {
	case TypeInt:
		_, err = strconv.ParseInt(v, 10, 32)
	case TypeShort:
		_, err = strconv.ParseInt(v, 10, 16)
	case TypeLong:
		_, err = strconv.ParseInt(v, 10, 64)
	case TypeDouble:
		_, err = strconv.ParseFloat(v, 64)
	case TypeBoolean:
		if _, ok := parseBool(v); !ok {
			return "Expected value to be either true or false"
		}
	}
	if err != nil {
		return "Not a number of type " + strings.ToUpper(typ)
	}
	return ""
}

// kafkaReason is the message of Kafka's Range, ValidString and ValidList
// validators.
func (r rule) kafkaReason(typ, v string) string {
	switch {
	case r.custom != nil:
		return r.custom(v)
	case r.oneOf != nil:
		if r.oneOfReason(typ, v) != "" {
			return "String must be one of: " + strings.Join(r.oneOf, ", ")
		}
		return ""
	}
	n, _ := strconv.ParseFloat(v, 64)
	if r.hasLo && n < r.lo {
		return "Value must be at least " + formatNum(r.lo)
	}
	if r.hasHi && n > r.hi {
		return "Value must be no more than " + formatNum(r.hi)
	}
	return ""
}

var throttledReplica = regexp.MustCompile(`^\s*[0-9]+\s*:\s*[0-9]+\s*$`)

// throttledReplicasReason is Kafka's ThrottledReplicaListValidator for the
// config name.
func throttledReplicasReason(name string) func(string) string {
	return func(v string) string {
		if t := strings.TrimSpace(v); t == "*" || t == "" {
			return ""
		}
		for _, item := range strings.Split(v, ",") {
			if !throttledReplica.MatchString(item) {
				return name + " must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."
			}
		}
		return ""
	}
}

package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Source is where an effective config value comes from, with Kafka's
// DescribeConfigs source codes.
type Source int8

// Kafka's DescribeConfigsResponse config sources.
const (
	SourceUnknown              Source = 0
	SourceDynamicTopic         Source = 1 // DYNAMIC_TOPIC_CONFIG: the topic's own override
	SourceDynamicBroker        Source = 2 // DYNAMIC_BROKER_CONFIG: set for this broker at runtime
	SourceDynamicDefaultBroker Source = 3 // DYNAMIC_DEFAULT_BROKER_CONFIG: set for all brokers at runtime
	SourceStaticBroker         Source = 4 // STATIC_BROKER_CONFIG: server.properties or overrides
	SourceDefault              Source = 5 // DEFAULT_CONFIG
)

// Synonym is one candidate value of a config, highest precedence first.
type Synonym struct {
	Name, Value string
	Source      Source
}

// TopicValue is a topic config's effective value as DescribeConfigs
// reports it.
type TopicValue struct {
	Name, Value         string
	Source              Source
	Sensitive, ReadOnly bool
	Synonyms            []Synonym
	Type, Doc           string
}

// DynamicBrokerConfig is the broker configs set at runtime: for this broker
// (resource name "<id>") and for every broker (resource name "").
type DynamicBrokerConfig struct {
	PerBroker      map[string]string
	ClusterDefault map[string]string
}

// EffectiveTopicConfig resolves every topic config, sorted by name: the
// topic's override, else the dynamic broker config (brokerDynamic, may be
// nil, reported as DYNAMIC_DEFAULT_BROKER_CONFIG), else the static broker
// config, else Kafka's default.
func (c *Config) EffectiveTopicConfig(overrides, brokerDynamic map[string]string) []TopicValue {
	return c.ResolveTopicConfig(overrides, DynamicBrokerConfig{ClusterDefault: brokerDynamic})
}

// ResolveTopicConfig is EffectiveTopicConfig with both dynamic broker
// layers: per-broker beats cluster-wide.
func (c *Config) ResolveTopicConfig(overrides map[string]string, dyn DynamicBrokerConfig) []TopicValue {
	out := make([]TopicValue, 0, len(topicTable))
	for _, k := range TopicKeys() {
		out = append(out, c.resolve(topicIndex[k.Name], overrides, dyn))
	}
	return out
}

// resolve lists a topic config's synonyms in Kafka's order (topic override,
// per-broker dynamic, cluster-wide dynamic, static, default; within a layer,
// the broker synonyms by precedence) and takes the first.
func (c *Config) resolve(d *topicDef, overrides map[string]string, dyn DynamicBrokerConfig) TopicValue {
	tv := TopicValue{Name: d.name, Type: d.typ, Doc: d.doc, Value: d.def, Source: SourceDefault}
	if v, ok := overrides[d.name]; ok {
		tv.Synonyms = append(tv.Synonyms, Synonym{d.name, v, SourceDynamicTopic})
	}
	tv.Synonyms = append(tv.Synonyms, d.layer(dyn.PerBroker, SourceDynamicBroker)...)
	tv.Synonyms = append(tv.Synonyms, d.layer(dyn.ClusterDefault, SourceDynamicDefaultBroker)...)
	tv.Synonyms = append(tv.Synonyms, c.staticSynonyms(d)...)
	for _, s := range d.syns {
		if def := brokerIndex[s.name].Default; def != "" {
			tv.Synonyms = append(tv.Synonyms, Synonym{s.name, def, SourceDefault})
		}
	}
	if len(tv.Synonyms) > 0 {
		first := tv.Synonyms[0]
		tv.Value, tv.Source = d.convert(first), first.Source
	}
	return tv
}

// layer returns the synonyms set in one map of broker configs.
func (d *topicDef) layer(m map[string]string, src Source) []Synonym {
	var out []Synonym
	for _, s := range d.syns {
		if v, ok := m[s.name]; ok && v != "" {
			out = append(out, Synonym{s.name, v, src})
		}
	}
	return out
}

// staticSynonyms are the synonyms set in server.properties or overrides, or
// the primary synonym's typed field when code changed it from the default.
func (c *Config) staticSynonyms(d *topicDef) []Synonym {
	out := d.layer(c.Raw, SourceStaticBroker)
	if len(out) > 0 || len(d.syns) == 0 {
		return out
	}
	primary := d.syns[0].name
	if get := fieldGetters[primary]; get != nil {
		if v := get(c); v != "" && v != get(defaults) {
			out = append(out, Synonym{primary, v, SourceStaticBroker})
		}
	}
	return out
}

// convert turns a synonym's value into the topic config's units.
func (d *topicDef) convert(s Synonym) string {
	v := strings.TrimSpace(s.Value)
	if s.Source == SourceDynamicTopic {
		return v
	}
	for _, syn := range d.syns {
		if syn.name != s.Name || syn.unitMs <= 1 {
			continue
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return strconv.FormatInt(scaled(n, syn.unitMs), 10)
		}
	}
	return v
}

// TopicSettings is a topic's effective configs, typed, for the log and the
// replica manager. Durations that Kafka calls "never" (Long.MAX_VALUE ms)
// saturate at the largest Duration; retention -1 is a negative Duration.
type TopicSettings struct {
	CleanupPolicy               string // "delete", "compact" or "compact,delete"
	Compact, Delete             bool
	RetentionMs                 time.Duration // retention.ms; negative: forever
	SegmentMs                   time.Duration // segment.ms
	SegmentJitterMs             time.Duration // segment.jitter.ms
	FlushMs                     time.Duration // flush.ms
	DeleteRetentionMs           time.Duration // delete.retention.ms
	MinCompactionLagMs          time.Duration // min.compaction.lag.ms
	MaxCompactionLagMs          time.Duration // max.compaction.lag.ms
	FileDeleteDelayMs           time.Duration // file.delete.delay.ms
	MessageTimestampDiffMaxMs   time.Duration // message.timestamp.difference.max.ms
	MessageTimestampBeforeMaxMs time.Duration // message.timestamp.before.max.ms
	MessageTimestampAfterMaxMs  time.Duration // message.timestamp.after.max.ms
	RetentionBytes              int64         // retention.bytes; negative: no limit
	SegmentBytes                int64         // segment.bytes
	FlushMessages               int64         // flush.messages
	MaxMessageBytes             int32         // max.message.bytes
	IndexIntervalBytes          int           // index.interval.bytes
	SegmentIndexBytes           int           // segment.index.bytes
	MessageTimestampType        string        // CreateTime or LogAppendTime
	LogAppendTime               bool
	MinInsyncReplicas           int16   // min.insync.replicas
	MinCleanableDirtyRatio      float64 // min.cleanable.dirty.ratio
	UncleanLeaderElection       bool    // unclean.leader.election.enable
	CompressionType             string  // compression.type
	Preallocate                 bool    // preallocate
	MessageDownconversion       bool    // message.downconversion.enable
}

// TopicSettings validates the topic's overrides and returns its effective
// settings (see EffectiveTopicConfig for the precedence).
func (c *Config) TopicSettings(overrides, brokerDynamic map[string]string) (TopicSettings, error) {
	if err := ValidateTopicConfigs(overrides); err != nil {
		return TopicSettings{}, err
	}
	return SettingsFrom(c.EffectiveTopicConfig(overrides, brokerDynamic))
}

// SettingsFrom types resolved topic values (from EffectiveTopicConfig or
// ResolveTopicConfig). It fails when a value, such as one from a dynamic
// broker config, does not parse.
func SettingsFrom(values []TopicValue) (TopicSettings, error) {
	p := settingsParser{vals: map[string]string{}}
	for _, v := range values {
		p.vals[v.Name] = v.Value
	}
	s := p.settings()
	return s, p.err
}

// settingsParser reads typed values, keeping the first error.
type settingsParser struct {
	vals map[string]string
	err  error
}

func (p *settingsParser) str(name string) string { return strings.TrimSpace(p.vals[name]) }

func (p *settingsParser) i64(name string) int64 {
	n, err := strconv.ParseInt(p.str(name), 10, 64)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("config: topic config %s: %q is not an integer", name, p.vals[name])
	}
	return n
}

func (p *settingsParser) ms(name string) time.Duration { return millis(p.i64(name)) }

func (p *settingsParser) bool(name string) bool {
	b, ok := parseBool(p.str(name))
	if !ok && p.err == nil {
		p.err = fmt.Errorf("config: topic config %s: %q is not true or false", name, p.vals[name])
	}
	return b
}

func (p *settingsParser) f64(name string) float64 {
	f, err := strconv.ParseFloat(p.str(name), 64)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("config: topic config %s: %q is not a number", name, p.vals[name])
	}
	return f
}

func (p *settingsParser) settings() TopicSettings {
	policy := splitList(p.str("cleanup.policy"))
	s := TopicSettings{
		CleanupPolicy:               strings.Join(policy, ","),
		Compact:                     contains(policy, "compact"),
		Delete:                      contains(policy, "delete"),
		RetentionMs:                 p.ms("retention.ms"),
		SegmentMs:                   p.ms("segment.ms"),
		SegmentJitterMs:             p.ms("segment.jitter.ms"),
		FlushMs:                     p.ms("flush.ms"),
		DeleteRetentionMs:           p.ms("delete.retention.ms"),
		MinCompactionLagMs:          p.ms("min.compaction.lag.ms"),
		MaxCompactionLagMs:          p.ms("max.compaction.lag.ms"),
		FileDeleteDelayMs:           p.ms("file.delete.delay.ms"),
		MessageTimestampDiffMaxMs:   p.ms("message.timestamp.difference.max.ms"),
		MessageTimestampBeforeMaxMs: p.ms("message.timestamp.before.max.ms"),
		MessageTimestampAfterMaxMs:  p.ms("message.timestamp.after.max.ms"),
		RetentionBytes:              p.i64("retention.bytes"),
		SegmentBytes:                p.i64("segment.bytes"),
		FlushMessages:               p.i64("flush.messages"),
		MaxMessageBytes:             int32(p.i64("max.message.bytes")),
		IndexIntervalBytes:          int(p.i64("index.interval.bytes")),
		SegmentIndexBytes:           int(p.i64("segment.index.bytes")),
		MessageTimestampType:        p.str("message.timestamp.type"),
		MinInsyncReplicas:           int16(p.i64("min.insync.replicas")),
		MinCleanableDirtyRatio:      p.f64("min.cleanable.dirty.ratio"),
		UncleanLeaderElection:       p.bool("unclean.leader.election.enable"),
		CompressionType:             p.str("compression.type"),
		Preallocate:                 p.bool("preallocate"),
		MessageDownconversion:       p.bool("message.downconversion.enable"),
	}
	s.LogAppendTime = s.MessageTimestampType == "LogAppendTime"
	return s
}

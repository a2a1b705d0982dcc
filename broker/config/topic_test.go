package config

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTopicKeys(t *testing.T) {
	want := strings.Fields(`cleanup.policy compression.type delete.retention.ms file.delete.delay.ms flush.messages flush.ms
		follower.replication.throttled.replicas index.interval.bytes leader.replication.throttled.replicas
		local.retention.bytes local.retention.ms max.compaction.lag.ms max.message.bytes message.downconversion.enable
		message.timestamp.after.max.ms message.timestamp.before.max.ms message.timestamp.difference.max.ms
		message.timestamp.type min.cleanable.dirty.ratio min.compaction.lag.ms min.insync.replicas preallocate
		remote.storage.enable retention.bytes retention.ms segment.bytes segment.index.bytes segment.jitter.ms
		segment.ms unclean.leader.election.enable`)
	var got []string
	for _, k := range TopicKeys() {
		got = append(got, k.Name)
		if err := k.Validate(k.Default); err != nil {
			t.Errorf("default of %s is invalid: %v", k.Name, err)
		}
		for _, s := range k.BrokerSynonyms {
			if _, ok := LookupBrokerKey(s); !ok {
				t.Errorf("%s: synonym %s is not a broker key", k.Name, s)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TopicKeys = %v", got)
	}
}

func TestValidateTopicConfig(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"retention.ms", "1000", ""},
		{"retention.ms", "-1", ""},
		{"cleanup.policy", "compact,delete", ""},
		{"cleanup.policy", "compact, delete", ""},
		{"leader.replication.throttled.replicas", "0:1, 1:2", ""},
		{"leader.replication.throttled.replicas", "*", ""},
		{"preallocate", "TRUE", ""},
		{"foo", "1", "Unknown topic config name: foo"},
		{"retention.ms", "abc", "Invalid value abc for configuration retention.ms: Not a number of type LONG"},
		{"retention.ms", "-2", "Invalid value -2 for configuration retention.ms: Value must be at least -1"},
		{"segment.bytes", "9999999999", "Invalid value 9999999999 for configuration segment.bytes: Not a number of type INT"},
		{"segment.bytes", "13", "Invalid value 13 for configuration segment.bytes: Value must be at least 14"},
		{"cleanup.policy", "bad", "Invalid value bad for configuration cleanup.policy: String must be one of: compact, delete"},
		{"compression.type", "brotli", "Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"},
		{"min.cleanable.dirty.ratio", "1.1", "Invalid value 1.1 for configuration min.cleanable.dirty.ratio: Value must be no more than 1"},
		{"min.cleanable.dirty.ratio", "x", "Invalid value x for configuration min.cleanable.dirty.ratio: Not a number of type DOUBLE"},
		{"unclean.leader.election.enable", "yes", "Invalid value yes for configuration unclean.leader.election.enable: Expected value to be either true or false"},
		{"message.timestamp.type", "createtime", "Invalid value createtime for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime"},
		{"min.insync.replicas", "0", "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1"},
		{"leader.replication.throttled.replicas", "0-1", "Invalid value 0-1 for configuration leader.replication.throttled.replicas: leader.replication.throttled.replicas must be the literal '*'"},
	}
	for _, tt := range tests {
		err := ValidateTopicConfig(tt.name, tt.value)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s=%s: %v", tt.name, tt.value, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%s=%s: got %v, want %q", tt.name, tt.value, err, tt.want)
		}
	}
	err := ValidateTopicConfigs(map[string]string{"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"})
	if err == nil || err.Error() != "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)" {
		t.Errorf("compaction lag conflict: %v", err)
	}
}

func find(t *testing.T, vals []TopicValue, name string) TopicValue {
	t.Helper()
	for _, v := range vals {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no %s", name)
	return TopicValue{}
}

func TestEffectiveTopicConfig(t *testing.T) {
	c := parse(t, "log.retention.hours=1\nlog.segment.bytes=2048\n", nil)
	vals := c.EffectiveTopicConfig(
		map[string]string{"cleanup.policy": "compact"},
		map[string]string{"log.retention.bytes": "100", "log.segment.bytes": "4096"},
	)
	for i := 1; i < len(vals); i++ {
		if vals[i-1].Name >= vals[i].Name {
			t.Fatalf("not sorted at %s", vals[i].Name)
		}
	}
	tests := []struct {
		name, value string
		source      Source
		synonyms    []Synonym
	}{
		{"cleanup.policy", "compact", SourceDynamicTopic, []Synonym{
			{"cleanup.policy", "compact", SourceDynamicTopic}, {"log.cleanup.policy", "delete", SourceDefault}}},
		{"retention.ms", "3600000", SourceStaticBroker, []Synonym{
			{"log.retention.hours", "1", SourceStaticBroker}, {"log.retention.hours", "168", SourceDefault}}},
		{"retention.bytes", "100", SourceDynamicDefaultBroker, []Synonym{
			{"log.retention.bytes", "100", SourceDynamicDefaultBroker}, {"log.retention.bytes", "-1", SourceDefault}}},
		{"segment.bytes", "4096", SourceDynamicDefaultBroker, []Synonym{
			{"log.segment.bytes", "4096", SourceDynamicDefaultBroker}, {"log.segment.bytes", "2048", SourceStaticBroker},
			{"log.segment.bytes", "1073741824", SourceDefault}}},
		{"segment.ms", "604800000", SourceDefault, []Synonym{{"log.roll.hours", "168", SourceDefault}}},
		{"flush.ms", longMax, SourceDefault, []Synonym{{"log.flush.scheduler.interval.ms", longMax, SourceDefault}}},
		{"leader.replication.throttled.replicas", "", SourceDefault, nil},
		{"message.timestamp.difference.max.ms", longMax, SourceDefault, []Synonym{{"log.message.timestamp.difference.max.ms", longMax, SourceDefault}}},
	}
	for _, tt := range tests {
		v := find(t, vals, tt.name)
		if v.Value != tt.value || v.Source != tt.source || !reflect.DeepEqual(v.Synonyms, tt.synonyms) {
			t.Errorf("%s = %q source %d synonyms %v\nwant %q source %d synonyms %v", tt.name, v.Value, v.Source, v.Synonyms, tt.value, tt.source, tt.synonyms)
		}
	}
}

func TestResolvePerBrokerBeatsClusterDefault(t *testing.T) {
	c := Default()
	vals := c.ResolveTopicConfig(nil, DynamicBrokerConfig{
		PerBroker:      map[string]string{"log.retention.minutes": "2"},
		ClusterDefault: map[string]string{"log.retention.ms": "5000"},
	})
	v := find(t, vals, "retention.ms")
	if v.Value != "120000" || v.Source != SourceDynamicBroker {
		t.Errorf("retention.ms = %q from %d", v.Value, v.Source)
	}
}

func TestStaticFromFields(t *testing.T) {
	c := Default()
	c.LogSegmentBytes = 1024
	c.LogRetention = 10 * time.Second
	v := find(t, c.EffectiveTopicConfig(nil, nil), "segment.bytes")
	if v.Value != "1024" || v.Source != SourceStaticBroker {
		t.Errorf("segment.bytes = %q from %d", v.Value, v.Source)
	}
	s, err := c.TopicSettings(nil, nil)
	if err != nil || s.SegmentBytes != 1024 || s.RetentionMs != 10*time.Second {
		t.Errorf("settings %+v, %v", s, err)
	}
}

func TestTopicSettings(t *testing.T) {
	c := Default()
	s, err := c.TopicSettings(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := TopicSettings{
		CleanupPolicy: "delete", Delete: true,
		RetentionMs: 7 * 24 * time.Hour, SegmentMs: 7 * 24 * time.Hour,
		FlushMs: math.MaxInt64, DeleteRetentionMs: 24 * time.Hour, MaxCompactionLagMs: math.MaxInt64,
		FileDeleteDelayMs:         time.Minute,
		MessageTimestampDiffMaxMs: math.MaxInt64, MessageTimestampBeforeMaxMs: math.MaxInt64, MessageTimestampAfterMaxMs: math.MaxInt64,
		RetentionBytes: -1, SegmentBytes: 1073741824, FlushMessages: math.MaxInt64, MaxMessageBytes: 1048588,
		IndexIntervalBytes: 4096, SegmentIndexBytes: 10485760, MessageTimestampType: "CreateTime",
		MinInsyncReplicas: 1, MinCleanableDirtyRatio: 0.5, CompressionType: "producer", MessageDownconversion: true,
	}
	if s != want {
		t.Errorf("defaults:\n got %+v\nwant %+v", s, want)
	}
	s, err = c.TopicSettings(map[string]string{
		"cleanup.policy": "compact,delete", "retention.ms": "-1", "message.timestamp.type": "LogAppendTime", "flush.ms": "1000",
	}, nil)
	if err != nil || !s.Compact || !s.Delete || s.RetentionMs >= 0 || !s.LogAppendTime || s.FlushMs != time.Second {
		t.Errorf("overrides: %+v, %v", s, err)
	}
	if _, err := c.TopicSettings(map[string]string{"retention.ms": "x"}, nil); err == nil {
		t.Error("bad override accepted")
	}
	if _, err := c.TopicSettings(nil, map[string]string{"log.retention.ms": "x"}); err == nil {
		t.Error("bad dynamic broker config accepted")
	}
}

package snapshot

import (
	"fmt"
	"strings"
)

// Level is an MSK enhanced-monitoring level. Each level includes every
// series of the levels below it.
type Level int

// The levels, lowest first.
const (
	// LevelDefault: cluster-wide and broker-wide totals, host CPU, memory and
	// disk, consumer lag summed per group and topic.
	LevelDefault Level = iota
	// LevelPerBroker adds request rates and times, connection churn, leader
	// and under-min-ISR counts and network throughput.
	LevelPerBroker
	// LevelPerTopicPerBroker adds per-topic series (bytes and messages in and
	// out per topic, partitions per topic).
	LevelPerTopicPerBroker
	// LevelPerTopicPerPartition adds per-partition series (offsets, replicas,
	// ISR, consumer lag and time lag per partition).
	LevelPerTopicPerPartition
)

var levelNames = [...]string{"DEFAULT", "PER_BROKER", "PER_TOPIC_PER_BROKER", "PER_TOPIC_PER_PARTITION"}

// String returns MSK's name for the level.
func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return fmt.Sprintf("Level(%d)", int(l))
	}
	return levelNames[l]
}

// Includes reports whether series introduced at min are exported at l.
func (l Level) Includes(min Level) bool { return l >= min }

// ParseLevel reads an MSK level name, case-insensitively.
func ParseLevel(s string) (Level, error) {
	for i, name := range levelNames {
		if strings.EqualFold(s, name) {
			return Level(i), nil
		}
	}
	return 0, fmt.Errorf("unknown monitoring level %q: want one of %s", s, strings.Join(levelNames[:], ", "))
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a level name (YAML and JSON use it).
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

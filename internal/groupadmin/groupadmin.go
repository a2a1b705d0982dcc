// Package groupadmin administers consumer groups through the Kafka
// protocol, the way Kafka's kafka-consumer-groups.sh does: it lists and
// describes groups (classic and KIP-848 ones), computes each partition's
// lag, deletes groups, and plans and commits offset resets. It talks to
// brokers only with franz-go's kadm (and raw kmsg requests where kadm
// reduces an answer too far), so it works against Weir or any Kafka.
//
// The decisions are pure and table-tested: NewOffset (where a reset
// strategy moves one partition, clamped to the log), BuildPlan (a reset
// plan from committed offsets and log bounds) and Lag. Flag parsing and
// printing stay in cmd/weir.
//
// Files: groupadmin.go (the Admin client), describe.go (states, members,
// offsets and lag), list.go, delete.go, reset.go (strategies and plans).
package groupadmin

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Admin is an admin client that can also send raw requests, for
// ConsumerGroupDescribe answers kadm reduces too far (topic IDs).
type Admin struct {
	*kadm.Client
	kcl *kgo.Client
}

// New wraps cl; closing the Admin closes cl.
func New(cl *kgo.Client) Admin {
	return Admin{kadm.NewClient(cl), cl}
}

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// withMessage appends a broker's error message to its error code, when it
// says more than the code.
func withMessage(err error, msg string) error {
	if msg == "" || strings.Contains(err.Error(), msg) {
		return err
	}
	return fmt.Errorf("%w (%s)", err, msg)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

package server

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/group"
)

// ConsumerGroupHeartbeat, versions 0–1: the consumer rebalance protocol
// (KIP-848), which Kafka 4 clients use by default.
//
// A member joins with MemberEpoch 0, heartbeats with the partitions it
// owns and gets its assignment back, and leaves with -1 (-2: a static
// member leaving for now). v0 lets the coordinator name a joining member;
// v1 requires the client's own member id and adds SubscribedTopicRegex:
// the coordinator resolves it against this broker's metadata image
// (whole-name matches, internal topics never, re-resolved at most every
// 10s per group, on heartbeats), as Kafka 4.0 does; an invalid one is
// INVALID_REGULAR_EXPRESSION. The state machine, the regexes and the
// server-side assignors ("uniform", the default, and "range") are
// broker/group (consumer.go, regex.go).
// franz-go uses this protocol only when v1 is advertised. With
// group.coordinator.rebalance.protocols set without "consumer" the answer
// is UNSUPPORTED_VERSION, on which clients fall back to the classic
// protocol.

func (b *Broker) handleConsumerGroupHeartbeat(r *kmsg.ConsumerGroupHeartbeatRequest, clientID string) kmsg.Response {
	if !b.consumerProtocolEnabled() {
		resp := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		resp.ErrorCode = kerr.UnsupportedVersion.Code
		resp.ErrorMessage = strPtr("the consumer group protocol is not enabled (group.coordinator.rebalance.protocols)")
		return resp
	}
	return b.groups.ConsumerGroupHeartbeat(r, group.Client{ID: clientID})
}

// consumerProtocolEnabled reports whether group.coordinator.rebalance.protocols
// names "consumer" (the default, as in Kafka 4).
func (b *Broker) consumerProtocolEnabled() bool {
	v, ok := b.cfg.Raw["group.coordinator.rebalance.protocols"]
	if !ok {
		return true
	}
	for _, p := range strings.Split(v, ",") {
		if strings.TrimSpace(p) == "consumer" {
			return true
		}
	}
	return false
}

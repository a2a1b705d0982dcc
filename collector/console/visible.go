package console

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreateTopics answers once the controller has committed the topic; every
// other broker serves it only after applying that record from the metadata
// log, a moment later (Kafka's AdminClient documents the same: it "may take
// several seconds" until every broker knows a created topic). The page the
// console redirects to reads Metadata from whichever broker the client
// picks, so the create handler first waits until every broker serves the
// topic; otherwise the redirect can land on a broker that answers
// UNKNOWN_TOPIC_OR_PARTITION, a 404 page that nothing reloads.

// visiblePoll is how often awaitServed asks the brokers again.
const visiblePoll = 50 * time.Millisecond

// awaitServed waits until every broker in the cluster's metadata answers
// Metadata for topic with partitions partitions (at least one when
// partitions is not positive), each with a leader, or until ctx ends; the
// error then names the brokers that did not.
func (c *Console) awaitServed(ctx context.Context, topic string, partitions int32) error {
	t := time.NewTicker(visiblePoll)
	defer t.Stop()
	for {
		missing, err := c.notServing(ctx, topic, partitions)
		if err == nil && len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("brokers %v do not serve it yet", missing)
			}
			return fmt.Errorf("waiting for every broker to serve topic %s: %w", topic, err)
		case <-t.C:
		}
	}
}

// notServing asks every broker for topic's metadata and returns the ids of
// those that do not serve it yet (unknown, fewer partitions, no leader).
func (c *Console) notServing(ctx context.Context, topic string, partitions int32) ([]int32, error) {
	brokers, err := c.adm.BrokerMetadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the brokers: %w", err)
	}
	var missing []int32
	for _, b := range brokers.Brokers {
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, c.o.Client.Broker(int(b.NodeID)))
		if err != nil || !serves(resp, topic, partitions) {
			missing = append(missing, b.NodeID)
		}
	}
	slices.Sort(missing)
	return missing, nil
}

// serves reports whether a Metadata answer has topic with partitions
// partitions (at least one when not positive), each with a leader.
func serves(resp *kmsg.MetadataResponse, topic string, partitions int32) bool {
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if kerr.ErrorForCode(t.ErrorCode) != nil || len(t.Partitions) == 0 ||
			(partitions > 0 && len(t.Partitions) != int(partitions)) {
			return false
		}
		for _, p := range t.Partitions {
			if (p.ErrorCode != 0 && p.ErrorCode != kerr.ReplicaNotAvailable.Code) || p.Leader < 0 {
				return false
			}
		}
		return true
	}
	return false
}

// Package topicadmin describes topics through the Kafka protocol with
// franz-go's kadm, for `weir topic describe`: metadata, log start and end
// offsets per partition, and the configs set on the topic or dynamically
// on the cluster. Building a description from those answers (describe,
// nonDefaultConfigs) is pure and table-tested; cmd/weir parses flags and
// prints.
package topicadmin

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Description is one topic.
type Description struct {
	Name              string            `json:"name"`
	ID                string            `json:"id"`
	Internal          bool              `json:"internal"`
	ReplicationFactor int               `json:"replication_factor"`
	Configs           map[string]string `json:"configs"` // the ones that are not defaults
	Partitions        []Partition       `json:"partitions"`
}

// Partition is one partition of a topic; the offsets are -1 when unknown.
type Partition struct {
	Partition      int32   `json:"partition"`
	Leader         int32   `json:"leader"`
	LeaderEpoch    int32   `json:"leader_epoch"`
	Replicas       []int32 `json:"replicas"`
	ISR            []int32 `json:"isr"`
	LogStartOffset int64   `json:"log_start_offset"`
	LogEndOffset   int64   `json:"log_end_offset"`
	Error          string  `json:"error,omitempty"`
}

// Describe gathers the descriptions of names; topics that could not be
// described are left out and their errors joined.
func Describe(ctx context.Context, adm *kadm.Client, names []string) ([]Description, error) {
	topics, err := adm.ListTopicsWithInternal(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("describing topics: %w", err)
	}
	var errs []error
	var found []string
	for _, name := range names {
		t, ok := topics[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("describing topic %s: not in the metadata response", name))
		case t.Err != nil:
			errs = append(errs, fmt.Errorf("describing topic %s: %w", name, t.Err))
		default:
			found = append(found, name)
		}
	}
	if len(found) == 0 {
		return nil, errors.Join(errs...)
	}
	configs, err := adm.DescribeTopicConfigs(ctx, found...)
	if err != nil {
		return nil, fmt.Errorf("describing topic configs: %w", err)
	}
	starts, err := adm.ListStartOffsets(ctx, found...)
	if err != nil {
		return nil, fmt.Errorf("listing start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, found...)
	if err != nil {
		return nil, fmt.Errorf("listing end offsets: %w", err)
	}
	descs := make([]Description, 0, len(found))
	for _, name := range found {
		d := describe(topics[name], starts, ends)
		rc, err := configs.On(name, nil)
		if err == nil {
			err = rc.Err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("describing configs of topic %s: %w", name, err))
		}
		d.Configs = nonDefaultConfigs(rc.Configs)
		descs = append(descs, d)
	}
	return descs, errors.Join(errs...)
}

// describe is t's description with its partitions sorted and their log
// start and end offsets, -1 where the listing failed.
func describe(t kadm.TopicDetail, starts, ends kadm.ListedOffsets) Description {
	d := Description{Name: t.Topic, ID: t.ID.String(), Internal: t.IsInternal, ReplicationFactor: t.Partitions.NumReplicas()}
	for _, p := range t.Partitions.Sorted() {
		row := Partition{Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
			Replicas: p.Replicas, ISR: p.ISR, LogStartOffset: -1, LogEndOffset: -1}
		if s, ok := starts.Lookup(t.Topic, p.Partition); ok && s.Err == nil {
			row.LogStartOffset = s.Offset
		}
		if e, ok := ends.Lookup(t.Topic, p.Partition); ok && e.Err == nil {
			row.LogEndOffset = e.Offset
		}
		if p.Err != nil {
			row.Error = p.Err.Error()
		}
		d.Partitions = append(d.Partitions, row)
	}
	return d
}

// nonDefaultConfigs keeps the configs set on the topic or dynamically on
// the cluster, dropping built-in defaults and static broker settings.
func nonDefaultConfigs(cs []kadm.Config) map[string]string {
	out := map[string]string{}
	for _, c := range cs {
		switch c.Source {
		case kmsg.ConfigSourceDefaultConfig, kmsg.ConfigSourceStaticBrokerConfig, kmsg.ConfigSourceUnknown:
			continue
		}
		v := c.MaybeValue()
		if c.Sensitive {
			v = "(sensitive)"
		}
		out[c.Key] = v
	}
	return out
}

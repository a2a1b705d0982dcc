package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka's replication throttle configs: two per-broker rates, and two
// per-topic lists of partition:broker pairs the rates apply to.
const (
	leaderRate       = "leader.replication.throttled.rate"
	followerRate     = "follower.replication.throttled.rate"
	leaderReplicas   = "leader.replication.throttled.replicas"
	followerReplicas = "follower.replication.throttled.replicas"
)

// throttleRecord is exactly what one execution set, so that exactly that
// is removed (also by a restarted collector, from the state file).
type throttleRecord struct {
	Rate    int64            `json:"rate"`
	Brokers []brokerThrottle `json:"brokers,omitempty"`
	Topics  []topicThrottle  `json:"topics,omitempty"`
}

// brokerThrottle is one broker whose rates were set, with the dynamic
// values they had before (absent: unset), which removal restores.
type brokerThrottle struct {
	Broker   int32             `json:"broker"`
	Previous map[string]string `json:"previous,omitempty"`
}

// topicThrottle holds the partition:broker entries this execution
// appended to a topic's throttled-replica lists: entries already there
// (an operator's) are neither added nor, later, removed.
type topicThrottle struct {
	Topic    string   `json:"topic"`
	Leader   []string `json:"leader,omitempty"`
	Follower []string `json:"follower,omitempty"`
}

// wantedThrottles is what kafka-reassign-partitions and Cruise Control's
// ReplicationThrottleHelper throttle for the replica moves in tasks: the
// rates on every broker holding an old or a new replica; on the leader
// side the existing replicas (they serve the copy), on the follower side
// the added ones (they fetch it).
func wantedThrottles(tasks []*task) ([]int32, []topicThrottle) {
	var brokers []int32
	byTopic := map[string]*topicThrottle{}
	var order []string
	for _, t := range tasks {
		m := &t.move
		if !m.MovesReplicas() {
			continue
		}
		tt := byTopic[m.Topic]
		if tt == nil {
			tt = &topicThrottle{Topic: m.Topic}
			byTopic[m.Topic] = tt
			order = append(order, m.Topic)
		}
		tt.Leader = append(tt.Leader, entries(m.Partition, m.OldReplicas)...)
		tt.Follower = append(tt.Follower, entries(m.Partition, m.Added())...)
		brokers = append(append(brokers, m.OldReplicas...), m.NewReplicas...)
	}
	slices.Sort(brokers)
	topics := make([]topicThrottle, 0, len(order))
	for _, name := range order {
		topics = append(topics, *byTopic[name])
	}
	return slices.Compact(brokers), topics
}

func entries(partition int32, brokers []int32) []string {
	out := make([]string, 0, len(brokers))
	for _, b := range brokers {
		out = append(out, fmt.Sprintf("%d:%d", partition, b))
	}
	return out
}

// planThrottles reads the current throttle configs and returns what this
// execution will set: the rate on every involved broker (remembering the
// values found), and the throttled-replica entries not already listed.
func planThrottles(ctx context.Context, adm *kadm.Client, tasks []*task, rate int64) (*throttleRecord, error) {
	brokers, topics := wantedThrottles(tasks)
	r := &throttleRecord{Rate: rate}
	prev, err := dynamicConfigs(ctx, adm, kmsg.ConfigSourceDynamicBrokerConfig, brokerNames(brokers))
	if err != nil {
		return nil, fmt.Errorf("reading the brokers' replication throttle rates: %w", err)
	}
	for _, b := range brokers {
		r.Brokers = append(r.Brokers, brokerThrottle{Broker: b, Previous: prev[strconv.Itoa(int(b))]})
	}
	cur, err := dynamicConfigs(ctx, adm, kmsg.ConfigSourceDynamicTopicConfig, topicNames(topics))
	if err != nil {
		return nil, fmt.Errorf("reading the topics' throttled replicas: %w", err)
	}
	for _, tt := range topics {
		tt.Leader = missing(tt.Leader, cur[tt.Topic][leaderReplicas])
		tt.Follower = missing(tt.Follower, cur[tt.Topic][followerReplicas])
		r.Topics = append(r.Topics, tt)
	}
	return r, nil
}

func brokerNames(ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.Itoa(int(id))
	}
	return out
}

func topicNames(ts []topicThrottle) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Topic
	}
	return out
}

// missing returns the entries of want not in the list value have; none
// when have is "*" (every replica is throttled already).
func missing(want []string, have string) []string {
	list := splitList(have)
	if slices.Contains(list, "*") {
		return nil
	}
	var out []string
	for _, e := range want {
		if !slices.Contains(list, e) {
			out = append(out, e)
		}
	}
	return out
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// dynamicConfigs describes the named brokers or topics and returns, per
// resource, the throttle configs whose value comes from source.
func dynamicConfigs(ctx context.Context, adm *kadm.Client, source kmsg.ConfigSource, names []string) (map[string]map[string]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	var rcs kadm.ResourceConfigs
	var err error
	if source == kmsg.ConfigSourceDynamicBrokerConfig {
		rcs, err = adm.DescribeBrokerConfigs(ctx, brokerIDs(names)...)
	} else {
		rcs, err = adm.DescribeTopicConfigs(ctx, names...)
	}
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, rc := range rcs {
		if rc.Err != nil {
			return nil, fmt.Errorf("%s: %w", rc.Name, rc.Err)
		}
		out[rc.Name] = throttleValues(rc.Configs, source)
	}
	return out, nil
}

func throttleValues(cs []kadm.Config, source kmsg.ConfigSource) map[string]string {
	var out map[string]string
	for _, c := range cs {
		switch c.Key {
		case leaderRate, followerRate, leaderReplicas, followerReplicas:
		default:
			continue
		}
		if c.Source == source && c.Value != nil {
			if out == nil {
				out = map[string]string{}
			}
			out[c.Key] = *c.Value
		}
	}
	return out
}

func brokerIDs(names []string) []int32 {
	out := make([]int32, 0, len(names))
	for _, n := range names {
		id, _ := strconv.Atoi(n)
		out = append(out, int32(id))
	}
	return out
}

// applyThrottles sets what r records: both rates on each broker, and
// the entries appended (APPEND: an operator's entries stay) to each
// topic's lists.
func applyThrottles(ctx context.Context, adm *kadm.Client, r *throttleRecord) error {
	if r.Rate > 0 && len(r.Brokers) > 0 {
		rate := strconv.FormatInt(r.Rate, 10)
		ops := []kadm.AlterConfig{
			{Op: kadm.SetConfig, Name: leaderRate, Value: &rate},
			{Op: kadm.SetConfig, Name: followerRate, Value: &rate},
		}
		ids := make([]int32, 0, len(r.Brokers))
		for _, b := range r.Brokers {
			ids = append(ids, b.Broker)
		}
		if err := alterErr(adm.AlterBrokerConfigs(ctx, ops, ids...)); err != nil {
			return fmt.Errorf("setting replication throttle rate %d on brokers %v: %w", r.Rate, ids, err)
		}
	}
	for _, tt := range r.Topics {
		ops := listOps(kadm.AppendConfig, tt)
		if len(ops) == 0 {
			continue
		}
		if err := alterErr(adm.AlterTopicConfigs(ctx, ops, tt.Topic)); err != nil {
			return fmt.Errorf("adding throttled replicas to topic %s: %w", tt.Topic, err)
		}
	}
	return nil
}

func listOps(op kadm.IncrementalOp, tt topicThrottle) []kadm.AlterConfig {
	var ops []kadm.AlterConfig
	if len(tt.Leader) > 0 {
		ops = append(ops, kadm.AlterConfig{Op: op, Name: leaderReplicas, Value: kadm.StringPtr(strings.Join(tt.Leader, ","))})
	}
	if len(tt.Follower) > 0 {
		ops = append(ops, kadm.AlterConfig{Op: op, Name: followerReplicas, Value: kadm.StringPtr(strings.Join(tt.Follower, ","))})
	}
	return ops
}

// removeThrottles undoes r: each broker's rates go back to the values
// found before (deleted when there were none), and exactly the appended
// entries are subtracted from each topic's lists. A topic deleted since
// needs nothing. It tries everything and returns every error.
func removeThrottles(ctx context.Context, adm *kadm.Client, r *throttleRecord) error {
	var errs []error
	if r.Rate > 0 {
		for _, b := range r.Brokers {
			if err := alterErr(adm.AlterBrokerConfigs(ctx, restoreOps(b.Previous), b.Broker)); err != nil {
				errs = append(errs, fmt.Errorf("removing the replication throttle rate of broker %d: %w", b.Broker, err))
			}
		}
	}
	for _, tt := range r.Topics {
		ops := listOps(kadm.SubtractConfig, tt)
		if len(ops) == 0 {
			continue
		}
		err := alterErr(adm.AlterTopicConfigs(ctx, ops, tt.Topic))
		if err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("removing throttled replicas from topic %s: %w", tt.Topic, err))
		}
	}
	return errors.Join(errs...)
}

func restoreOps(prev map[string]string) []kadm.AlterConfig {
	var ops []kadm.AlterConfig
	for _, k := range []string{leaderRate, followerRate} {
		if v, ok := prev[k]; ok {
			ops = append(ops, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(v)})
		} else {
			ops = append(ops, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
		}
	}
	return ops
}

// alterErr folds a request error and the per-resource errors into one.
func alterErr(resps kadm.AlterConfigsResponses, err error) error {
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range resps {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w (%s)", r.Name, r.Err, r.ErrMessage))
		}
	}
	return errors.Join(errs...)
}

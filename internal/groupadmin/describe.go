package groupadmin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Description is one group: its state, members and partitions.
type Description struct {
	Group        string         `json:"group"`
	Coordinator  int32          `json:"coordinator"`
	State        string         `json:"state"`
	ProtocolType string         `json:"protocol_type"`
	Protocol     string         `json:"protocol"` // the assignor
	Members      []Member       `json:"members"`
	Partitions   []PartitionRow `json:"partitions"`
}

// Member is one member of a group and the partitions assigned to it.
type Member struct {
	ConsumerID string             `json:"consumer_id"`
	InstanceID string             `json:"instance_id,omitempty"`
	Host       string             `json:"host"`
	ClientID   string             `json:"client_id"`
	Assignment map[string][]int32 `json:"assignment"`
}

// PartitionRow is one partition the group is assigned or has committed
// to. CurrentOffset and Lag are nil without a committed offset.
type PartitionRow struct {
	Topic         string `json:"topic"`
	Partition     int32  `json:"partition"`
	CurrentOffset *int64 `json:"current_offset"`
	LogEndOffset  int64  `json:"log_end_offset"` // -1 if unknown
	Lag           *int64 `json:"lag"`
	ConsumerID    string `json:"consumer_id"` // empty when no member is assigned it
	Host          string `json:"host"`
	ClientID      string `json:"client_id"`
	Error         string `json:"error,omitempty"`
}

// IsInactive is Kafka's precondition for resetting offsets: no members,
// and the group is Empty or does not exist.
func (d Description) IsInactive() bool {
	return len(d.Members) == 0 && (strings.EqualFold(d.State, "Empty") || strings.EqualFold(d.State, "Dead"))
}

// DescribeStates describes groups (state, protocol, members), trying the
// classic DescribeGroups first and KIP-848's ConsumerGroupDescribe for the
// groups the classic answer cannot be right about. A group that does not
// exist gets an error wrapping kerr.GroupIDNotFound.
func (adm Admin) DescribeStates(ctx context.Context, names []string) (map[string]Description, map[string]error, error) {
	classic, err := adm.DescribeGroups(ctx, names...)
	if err != nil && len(classic) == 0 {
		return nil, nil, fmt.Errorf("describing groups: %w", err)
	}
	descs, errs := map[string]Description{}, map[string]error{}
	for _, name := range names {
		dg, ok := classic[name]
		if !ok || dg.Err != nil || mayBeConsumerGroup(dg) {
			if d, ok := adm.describeConsumerGroup(ctx, name); ok {
				descs[name] = d
				continue
			}
		}
		switch {
		case !ok:
			errs[name] = fmt.Errorf("describing group %s: the response does not mention it", name)
		case dg.Err != nil:
			errs[name] = fmt.Errorf("describing group %s: %w", name, withMessage(dg.Err, dg.ErrMessage))
		case dg.State == "Dead":
			errs[name] = fmt.Errorf("describing group %s: %w (state Dead)", name, kerr.GroupIDNotFound)
		default:
			descs[name] = fromClassicGroup(dg)
		}
	}
	return descs, errs, nil
}

// mayBeConsumerGroup says whether a classic description may be standing in
// for a KIP-848 group: Kafka answers Dead for those, kfake a state without
// members.
func mayBeConsumerGroup(dg kadm.DescribedGroup) bool {
	return dg.State == "Dead" || len(dg.Members) == 0 && dg.State != "Empty"
}

// describeConsumerGroup describes a KIP-848 group; false if the cluster
// does not know it as one (or does not speak ConsumerGroupDescribe).
func (adm Admin) describeConsumerGroup(ctx context.Context, name string) (Description, bool) {
	req := kmsg.NewPtrConsumerGroupDescribeRequest()
	req.Groups = []string{name}
	for _, shard := range adm.kcl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			continue
		}
		for _, g := range shard.Resp.(*kmsg.ConsumerGroupDescribeResponse).Groups {
			if g.Group == name && g.ErrorCode == 0 {
				return adm.fromConsumerGroup(ctx, shard.Meta.NodeID, g), true
			}
		}
	}
	return Description{}, false
}

func (adm Admin) fromConsumerGroup(ctx context.Context, coordinator int32, g kmsg.ConsumerGroupDescribeResponseGroup) Description {
	d := Description{Group: g.Group, Coordinator: coordinator, State: g.State,
		ProtocolType: "consumer", Protocol: g.AssignorName, Members: []Member{}}
	names := adm.topicNamer(ctx)
	for _, m := range g.Members {
		gm := Member{ConsumerID: m.MemberID, InstanceID: deref(m.InstanceID),
			Host: m.ClientHost, ClientID: m.ClientID, Assignment: map[string][]int32{}}
		for _, tp := range m.Assignment.TopicPartitions {
			t := names(tp.Topic, tp.TopicID)
			gm.Assignment[t] = slices.Sorted(slices.Values(append(gm.Assignment[t], tp.Partitions...)))
		}
		d.Members = append(d.Members, gm)
	}
	return d
}

// topicNamer names topics of an assignment that gives only their IDs,
// listing the cluster's topics the first time one is needed. An ID it
// cannot name is shown as the ID.
func (adm Admin) topicNamer(ctx context.Context) func(string, [16]byte) string {
	var byID map[kadm.TopicID]string
	return func(name string, id [16]byte) string {
		if name != "" {
			return name
		}
		if byID == nil {
			byID = map[kadm.TopicID]string{}
			if topics, err := adm.ListTopicsWithInternal(ctx); err == nil {
				for _, t := range topics {
					byID[t.ID] = t.Topic
				}
			}
		}
		if t, ok := byID[id]; ok {
			return t
		}
		return kadm.TopicID(id).String()
	}
}

func fromClassicGroup(dg kadm.DescribedGroup) Description {
	d := Description{Group: dg.Group, Coordinator: dg.Coordinator.NodeID, State: dg.State,
		ProtocolType: dg.ProtocolType, Protocol: dg.Protocol, Members: []Member{}}
	for _, m := range dg.Members {
		gm := Member{ConsumerID: m.MemberID, InstanceID: deref(m.InstanceID),
			Host: m.ClientHost, ClientID: m.ClientID, Assignment: map[string][]int32{}}
		if a, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range a.Topics {
				gm.Assignment[t.Topic] = slices.Sorted(slices.Values(t.Partitions))
			}
		}
		d.Members = append(d.Members, gm)
	}
	return d
}

// Describe describes names with their offsets and lag; groups that could
// not be described are left out and their errors joined.
func (adm Admin) Describe(ctx context.Context, names []string) ([]Description, error) {
	states, derrs, err := adm.DescribeStates(ctx, names)
	if err != nil {
		return nil, err
	}
	var descs []Description
	var errs []error
	for _, name := range names {
		d, ok := states[name]
		if !ok {
			errs = append(errs, derrs[name])
			continue
		}
		if err := adm.addOffsets(ctx, &d); err != nil {
			errs = append(errs, err)
			continue
		}
		descs = append(descs, d)
	}
	return descs, errors.Join(errs...)
}

// addOffsets fills d.Partitions: the assigned and the committed
// partitions, with committed offsets, log end offsets and lag.
func (adm Admin) addOffsets(ctx context.Context, d *Description) error {
	commits, err := adm.FetchOffsets(ctx, d.Group)
	if err != nil {
		return fmt.Errorf("fetching committed offsets of group %s: %w", d.Group, err)
	}
	owners := partitionOwners(d.Members)
	tps := commits.Partitions()
	for tp := range owners {
		tps.Add(tp.Topic, tp.Partition)
	}
	var ends kadm.ListedOffsets
	if topics := tps.Topics(); len(topics) > 0 {
		if ends, err = adm.ListEndOffsets(ctx, topics...); err != nil && len(ends) == 0 {
			return fmt.Errorf("listing end offsets for group %s: %w", d.Group, err)
		}
	}
	d.Partitions = []PartitionRow{}
	for _, tp := range tps.Sorted() {
		for _, p := range tp.Partitions {
			d.Partitions = append(d.Partitions, partitionRow(tp.Topic, p, commits, ends, owners))
		}
	}
	return nil
}

// partitionOwners maps each assigned partition to its member.
func partitionOwners(members []Member) map[TopicPartition]*Member {
	owners := map[TopicPartition]*Member{}
	for i, m := range members {
		for t, ps := range m.Assignment {
			for _, p := range ps {
				owners[TopicPartition{t, p}] = &members[i]
			}
		}
	}
	return owners
}

// partitionRow is one partition's row from the group's commits, the log
// end offsets and the members' assignments.
func partitionRow(topic string, p int32, commits kadm.OffsetResponses, ends kadm.ListedOffsets, owners map[TopicPartition]*Member) PartitionRow {
	row := PartitionRow{Topic: topic, Partition: p, LogEndOffset: -1}
	if m := owners[TopicPartition{topic, p}]; m != nil {
		row.ConsumerID, row.Host, row.ClientID = m.ConsumerID, m.Host, m.ClientID
	}
	var errs []string
	if c, ok := commits.Lookup(topic, p); ok && c.Err != nil {
		errs = append(errs, "committed offset: "+c.Err.Error())
	} else if ok && c.At >= 0 {
		row.CurrentOffset = &c.At
	}
	if e, err := lookupListed(ends, topic, p); err != nil {
		errs = append(errs, "log end offset: "+err.Error())
	} else {
		row.LogEndOffset = e
	}
	row.Lag = Lag(row.CurrentOffset, row.LogEndOffset)
	row.Error = strings.Join(errs, "; ")
	return row
}

// Lag is how far a committed offset is behind the log end offset: nil
// without a committed offset or with an unknown (negative) end, and never
// below 0 (a commit past the end, as after the log was truncated, is no
// lag).
func Lag(committed *int64, logEnd int64) *int64 {
	if committed == nil || logEnd < 0 {
		return nil
	}
	lag := max(logEnd-*committed, 0)
	return &lag
}

// lookupListed finds a listed offset, or says why it is missing or bad: a
// topic that does not exist is listed as partition -1 with the error.
func lookupListed(listed kadm.ListedOffsets, topic string, p int32) (int64, error) {
	o, ok := listed.Lookup(topic, p)
	if !ok {
		o, ok = listed.Lookup(topic, -1)
	}
	switch {
	case !ok:
		return 0, errors.New("not in the ListOffsets response")
	case o.Err != nil:
		return 0, o.Err
	}
	return o.Offset, nil
}

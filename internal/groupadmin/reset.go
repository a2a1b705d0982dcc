package groupadmin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Kind is where a reset moves offsets to.
type Kind int

const (
	Earliest Kind = iota // the log start offset
	Latest               // the log end offset
	ToOffset             // Strategy.N
	ShiftBy              // the committed offset plus Strategy.N
	ToTime               // the first offset at or after the Unix millisecond Strategy.N
)

// Strategy is a resolved reset choice: its Kind and N, the offset, the
// shift or the Unix millisecond.
type Strategy struct {
	Kind Kind
	N    int64
}

// Scope is a topic and some of its partitions, or all of them when
// Partitions is nil.
type Scope struct {
	Topic      string
	Partitions []int32
}

// Row is one partition of a plan: Old is nil without a committed offset.
type Row struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Old       *int64 `json:"old"`
	New       int64  `json:"new"`
}

// Plan is a reset of a group's offsets, and whether it was committed.
type Plan struct {
	Group      string `json:"group"`
	Executed   bool   `json:"executed"`
	Partitions []Row  `json:"partitions"`
}

// Bounds are the offsets a new offset is computed from.
type Bounds struct {
	Committed  *int64
	Start, End int64
	AtTime     int64 // the first offset at or after a ToTime strategy's time
}

// NewOffset is where s moves a partition, clamped to [Start, End] as
// Kafka does.
func NewOffset(s Strategy, b Bounds) (int64, error) {
	var o int64
	switch s.Kind {
	case Earliest:
		o = b.Start
	case Latest:
		o = b.End
	case ToOffset:
		o = s.N
	case ShiftBy:
		if b.Committed == nil {
			return 0, errors.New("no committed offset to shift")
		}
		o = *b.Committed + s.N
	case ToTime:
		o = b.AtTime
	}
	return min(max(o, b.Start), b.End), nil
}

// BuildPlan computes the new offset of each of tps (in that order) from
// the group's commits and the partitions' bounds.
func BuildPlan(group string, tps []TopicPartition, commits kadm.OffsetResponses, bounds map[TopicPartition]Bounds, s Strategy) (Plan, error) {
	plan := Plan{Group: group, Partitions: []Row{}}
	for _, tp := range tps {
		b := bounds[tp]
		if c, ok := commits.Lookup(tp.Topic, tp.Partition); ok && c.Err == nil && c.At >= 0 {
			b.Committed = &c.At
		}
		o, err := NewOffset(s, b)
		if err != nil {
			return Plan{}, fmt.Errorf("%s partition %d: %w", tp.Topic, tp.Partition, err)
		}
		plan.Partitions = append(plan.Partitions, Row{tp.Topic, tp.Partition, b.Committed, o})
	}
	return plan, nil
}

// ForReset describes group; a group that does not exist is an empty one,
// whose offsets can be set.
func (adm Admin) ForReset(ctx context.Context, group string) (Description, error) {
	descs, errs, err := adm.DescribeStates(ctx, []string{group})
	if err != nil {
		return Description{}, fmt.Errorf("resetting offsets of group %s: %w", group, err)
	}
	if d, ok := descs[group]; ok {
		return d, nil
	}
	if errors.Is(errs[group], kerr.GroupIDNotFound) {
		return Description{Group: group, State: "Dead"}, nil
	}
	return Description{}, fmt.Errorf("resetting offsets: %w", errs[group])
}

// ActiveError is the refusal to reset the offsets of an active group.
func ActiveError(d Description) error {
	return fmt.Errorf("resetting offsets of group %s: the group is active (state %s, members: %d); stop its consumers first, Kafka resets the offsets of inactive groups only",
		d.Group, d.State, len(d.Members))
}

// PlanReset computes the new offset of every partition in scopes, or with
// nil scopes of every partition the group has committed offsets for.
func (adm Admin) PlanReset(ctx context.Context, group string, scopes []Scope, s Strategy) (Plan, error) {
	commits, err := adm.FetchOffsets(ctx, group)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) { // a new group has none
		return Plan{}, fmt.Errorf("fetching committed offsets: %w", err)
	}
	tps, err := adm.partitionsInScope(ctx, scopes, commits)
	if err != nil {
		return Plan{}, err
	}
	bounds, err := adm.listBounds(ctx, tps, s)
	if err != nil {
		return Plan{}, err
	}
	return BuildPlan(group, tps, commits, bounds, s)
}

// partitionsInScope lists the partitions to reset, sorted: those named by
// scopes (checked against the topics' metadata), or with nil scopes every
// partition with a committed offset.
func (adm Admin) partitionsInScope(ctx context.Context, scopes []Scope, commits kadm.OffsetResponses) ([]TopicPartition, error) {
	var set kadm.TopicsSet
	if scopes == nil {
		set = commits.Partitions()
		if len(set) == 0 {
			return nil, errors.New("the group has no committed offsets; name topics with --topic")
		}
	}
	if err := adm.addScopes(ctx, scopes, &set); err != nil {
		return nil, err
	}
	var tps []TopicPartition
	set.Sorted().Each(func(t string, p int32) { tps = append(tps, TopicPartition{t, p}) })
	return tps, nil
}

func (adm Admin) addScopes(ctx context.Context, scopes []Scope, set *kadm.TopicsSet) error {
	if len(scopes) == 0 {
		return nil
	}
	var names []string
	for _, s := range scopes {
		names = append(names, s.Topic)
	}
	topics, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("listing topics: %w", err)
	}
	for _, s := range scopes {
		t, ok := topics[s.Topic]
		switch {
		case !ok:
			return fmt.Errorf("topic %s: not in the metadata response", s.Topic)
		case t.Err != nil:
			return fmt.Errorf("topic %s: %w", s.Topic, t.Err)
		case s.Partitions == nil:
			set.Add(s.Topic, t.Partitions.Numbers()...)
		}
		for _, p := range s.Partitions {
			if _, ok := t.Partitions[p]; !ok {
				return fmt.Errorf("topic %s has no partition %d (it has %d)", s.Topic, p, len(t.Partitions))
			}
			set.Add(s.Topic, p)
		}
	}
	return nil
}

// listBounds lists the log start and end offsets of tps, and for a reset
// to a time the first offset at or after it.
func (adm Admin) listBounds(ctx context.Context, tps []TopicPartition, s Strategy) (map[TopicPartition]Bounds, error) {
	topics := make([]string, 0, len(tps))
	for _, tp := range tps {
		if len(topics) == 0 || topics[len(topics)-1] != tp.Topic {
			topics = append(topics, tp.Topic)
		}
	}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("listing log start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("listing log end offsets: %w", err)
	}
	atTime := kadm.ListedOffsets{}
	if s.Kind == ToTime {
		if atTime, err = adm.ListOffsetsAfterMilli(ctx, s.N, topics...); err != nil {
			return nil, fmt.Errorf("listing offsets after %s: %w", time.UnixMilli(s.N).UTC().Format(time.RFC3339), err)
		}
	}
	bounds := make(map[TopicPartition]Bounds, len(tps))
	for _, tp := range tps {
		var b Bounds
		var errs []error
		b.Start, errs = listedOffset(starts, tp, "log start offset", errs)
		b.End, errs = listedOffset(ends, tp, "log end offset", errs)
		if s.Kind == ToTime {
			b.AtTime, errs = listedOffset(atTime, tp, "offset for the time", errs)
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		bounds[tp] = b
	}
	return bounds, nil
}

// listedOffset looks tp up in listed, adding what is wrong to errs.
func listedOffset(listed kadm.ListedOffsets, tp TopicPartition, what string, errs []error) (int64, []error) {
	o, err := lookupListed(listed, tp.Topic, tp.Partition)
	if err != nil {
		return 0, append(errs, fmt.Errorf("%s partition %d: %s: %w", tp.Topic, tp.Partition, what, err))
	}
	return o, errs
}

// Commit commits the plan's new offsets for its group.
func (adm Admin) Commit(ctx context.Context, plan Plan) error {
	var offsets kadm.Offsets
	for _, r := range plan.Partitions {
		offsets.AddOffset(r.Topic, r.Partition, r.New, -1)
	}
	resps, err := adm.CommitOffsets(ctx, plan.Group, offsets)
	if err == nil {
		err = resps.Error()
	}
	switch {
	case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.RebalanceInProgress), errors.Is(err, kerr.IllegalGeneration):
		return fmt.Errorf("committing offsets of group %s: %w: consumers joined the group meanwhile; stop them first", plan.Group, err)
	case err != nil:
		return fmt.Errorf("committing offsets of group %s: %w", plan.Group, err)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// resetFlags are `weir group reset-offsets`' options.
type resetFlags struct {
	topics     []string
	allTopics  bool
	toEarliest bool
	toLatest   bool
	toOffset   int64
	shiftBy    int64
	toDatetime string
	byDuration time.Duration
	execute    bool
	output     string
}

func newGroupResetOffsetsCmd(gf *groupFlags) *cobra.Command {
	var rf resetFlags
	cmd := &cobra.Command{
		Use:   "reset-offsets GROUP (--topic TOPIC[:P,P]... | --all-topics) (--to-earliest | --to-latest | --to-offset N | --shift-by N | --to-datetime T | --by-duration D) [--execute]",
		Short: "Move a group's committed offsets (a dry run unless --execute)",
		Long: `Move the committed offsets of an inactive consumer group, as Kafka's
kafka-consumer-groups.sh --reset-offsets does.

Which partitions: --topic TOPIC (all its partitions) or --topic TOPIC:0,2
(those partitions), repeatable; or --all-topics, every partition the group
has committed offsets for.

Where to, exactly one of:
  --to-earliest        the log start offset
  --to-latest          the log end offset
  --to-offset N        offset N
  --shift-by N         the committed offset plus N (N may be negative)
  --to-datetime T      the first offset whose timestamp is at or after T (RFC 3339)
  --by-duration D      the first offset at or after now minus D (Go duration, e.g. 90m)
New offsets are clamped to [log start, log end], as Kafka does.

Without --execute nothing is committed: the plan is printed (TOPIC PARTITION
OLD NEW, OLD is - without a committed offset). With --execute the offsets are
committed and the plan printed. Kafka only lets offsets of an inactive group
be reset, so --execute is refused while the group has members: stop its
consumers first.`,
		Example: `  weir group reset-offsets orders-app --topic orders --to-earliest
  weir group reset-offsets orders-app --topic orders --to-earliest --execute
  weir group reset-offsets orders-app --topic orders:0,1 --shift-by -100 --execute
  weir group reset-offsets orders-app --all-topics --to-latest --execute
  weir group reset-offsets orders-app --topic orders --to-offset 4200 --execute
  weir group reset-offsets orders-app --topic orders --to-datetime 2026-01-02T15:04:05Z --execute
  weir group reset-offsets orders-app --all-topics --by-duration 1h -o json`,
		Args: oneArg("GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(rf.output); err != nil {
				return err
			}
			s, err := rf.strategy(cmd, time.Now())
			if err != nil {
				return fmt.Errorf("resetting offsets of group %s: %w", args[0], err)
			}
			scopes, err := rf.scopes()
			if err != nil {
				return fmt.Errorf("resetting offsets of group %s: %w", args[0], err)
			}
			return gf.withAdmin(cmd.Context(), func(ctx context.Context, adm groupAdmin) error {
				return resetOffsets(ctx, adm, cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], scopes, s, rf)
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&rf.topics, "topic", nil, "topic to reset, TOPIC or TOPIC:P,P for some partitions (repeatable)")
	f.BoolVar(&rf.allTopics, "all-topics", false, "reset every partition the group has committed offsets for")
	f.BoolVar(&rf.toEarliest, "to-earliest", false, "reset to the log start offset")
	f.BoolVar(&rf.toLatest, "to-latest", false, "reset to the log end offset")
	f.Int64Var(&rf.toOffset, "to-offset", 0, "reset to this offset")
	f.Int64Var(&rf.shiftBy, "shift-by", 0, "move the committed offset by this much (negative: back)")
	f.StringVar(&rf.toDatetime, "to-datetime", "", "reset to the first offset at or after this time, RFC 3339 (2026-01-02T15:04:05Z)")
	f.DurationVar(&rf.byDuration, "by-duration", 0, "reset to the first offset at or after now minus this duration (1h, 90m)")
	f.BoolVar(&rf.execute, "execute", false, "commit the new offsets (without it: only print the plan)")
	outputFlag(cmd, &rf.output)
	return cmd
}

// resetKind is where reset-offsets moves offsets to.
type resetKind int

const (
	resetEarliest resetKind = iota
	resetLatest
	resetToOffset
	resetShiftBy
	resetToTime // to-datetime and by-duration
)

// resetStrategy is a resolved --to-*/--shift-by/--by-duration choice.
type resetStrategy struct {
	kind resetKind
	n    int64 // the offset, the shift, or the Unix millisecond
}

// strategy resolves the one --to-* flag given; now anchors --by-duration.
func (rf resetFlags) strategy(cmd *cobra.Command, now time.Time) (resetStrategy, error) {
	changed := cmd.Flags().Changed
	var chosen []resetStrategy
	var err error
	add := func(on bool, s resetStrategy) {
		if on {
			chosen = append(chosen, s)
		}
	}
	add(rf.toEarliest, resetStrategy{kind: resetEarliest})
	add(rf.toLatest, resetStrategy{kind: resetLatest})
	add(changed("to-offset"), resetStrategy{resetToOffset, rf.toOffset})
	add(changed("shift-by"), resetStrategy{resetShiftBy, rf.shiftBy})
	if changed("to-datetime") {
		t, perr := time.Parse(time.RFC3339, rf.toDatetime)
		if perr != nil {
			err = fmt.Errorf("--to-datetime %q: want RFC 3339, like 2026-01-02T15:04:05Z", rf.toDatetime)
		}
		chosen = append(chosen, resetStrategy{resetToTime, t.UnixMilli()})
	}
	add(changed("by-duration"), resetStrategy{resetToTime, now.Add(-rf.byDuration).UnixMilli()})
	switch {
	case len(chosen) != 1:
		return resetStrategy{}, errors.New("give exactly one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime, --by-duration")
	case err != nil:
		return resetStrategy{}, err
	case changed("to-offset") && rf.toOffset < 0:
		return resetStrategy{}, fmt.Errorf("--to-offset %d: want an offset, 0 or more", rf.toOffset)
	case changed("by-duration") && rf.byDuration < 0:
		return resetStrategy{}, fmt.Errorf("--by-duration %s: want a positive duration", rf.byDuration)
	}
	return chosen[0], nil
}

// topicScope is one --topic: a topic and some of its partitions, or all
// of them when partitions is nil.
type topicScope struct {
	topic      string
	partitions []int32
}

// scopes parses --topic and checks it against --all-topics; nil scopes
// mean --all-topics.
func (rf resetFlags) scopes() ([]topicScope, error) {
	if rf.allTopics == (len(rf.topics) > 0) {
		return nil, errors.New("give either --topic (repeatable) or --all-topics")
	}
	var scopes []topicScope
	for _, spec := range rf.topics {
		s, err := parseTopicScope(spec)
		if err != nil {
			return nil, err
		}
		scopes = append(scopes, s)
	}
	return scopes, nil
}

func parseTopicScope(spec string) (topicScope, error) {
	topic, parts, hasParts := strings.Cut(spec, ":")
	if topic == "" || hasParts && parts == "" {
		return topicScope{}, fmt.Errorf("--topic %q: want TOPIC or TOPIC:PARTITION,PARTITION", spec)
	}
	s := topicScope{topic: topic}
	if !hasParts {
		return s, nil
	}
	for p := range strings.SplitSeq(parts, ",") {
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil || n < 0 {
			return topicScope{}, fmt.Errorf("--topic %q: partition %q is not a partition number", spec, p)
		}
		s.partitions = append(s.partitions, int32(n))
	}
	return s, nil
}

// resetRow is one line of the plan: Old is nil without a committed offset.
type resetRow struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Old       *int64 `json:"old"`
	New       int64  `json:"new"`
}

// resetPlan is what `weir group reset-offsets` prints.
type resetPlan struct {
	Group      string     `json:"group"`
	Executed   bool       `json:"executed"`
	Partitions []resetRow `json:"partitions"`
}

// partitionBounds are the offsets a new offset is computed from.
type partitionBounds struct {
	committed  *int64
	start, end int64
	atTime     int64 // the first offset at or after the --to-datetime/--by-duration time
}

// newOffset is where s moves a partition, clamped to [start, end].
func newOffset(s resetStrategy, b partitionBounds) (int64, error) {
	var o int64
	switch s.kind {
	case resetEarliest:
		o = b.start
	case resetLatest:
		o = b.end
	case resetToOffset:
		o = s.n
	case resetShiftBy:
		if b.committed == nil {
			return 0, errors.New("no committed offset to shift")
		}
		o = *b.committed + s.n
	case resetToTime:
		o = b.atTime
	}
	return min(max(o, b.start), b.end), nil
}

func resetOffsets(ctx context.Context, adm groupAdmin, out, errOut io.Writer, group string, scopes []topicScope, s resetStrategy, rf resetFlags) error {
	d, err := groupForReset(ctx, adm, group)
	if err != nil {
		return err
	}
	if rf.execute && !d.isInactive() {
		return activeGroupError(d)
	}
	plan, err := planReset(ctx, adm, group, scopes, s)
	if err != nil {
		return fmt.Errorf("resetting offsets of group %s: %w", group, err)
	}
	if rf.execute {
		if err := commitPlan(ctx, adm, plan); err != nil {
			return err
		}
		plan.Executed = true
	}
	if err := writeResetPlan(out, plan, rf.output); err != nil {
		return err
	}
	writeResetNote(errOut, plan, d)
	return nil
}

// groupForReset describes group; a group that does not exist is an empty
// one, whose offsets can be set.
func groupForReset(ctx context.Context, adm groupAdmin, group string) (groupDescription, error) {
	descs, errs, err := describeGroupStates(ctx, adm, []string{group})
	if err != nil {
		return groupDescription{}, fmt.Errorf("resetting offsets of group %s: %w", group, err)
	}
	if d, ok := descs[group]; ok {
		return d, nil
	}
	if errors.Is(errs[group], kerr.GroupIDNotFound) {
		return groupDescription{Group: group, State: "Dead"}, nil
	}
	return groupDescription{}, fmt.Errorf("resetting offsets: %w", errs[group])
}

func activeGroupError(d groupDescription) error {
	return fmt.Errorf("resetting offsets of group %s: the group is active (state %s, members: %d); stop its consumers first, Kafka resets the offsets of inactive groups only",
		d.Group, d.State, len(d.Members))
}

// planReset computes the new offset of every partition in scope.
func planReset(ctx context.Context, adm groupAdmin, group string, scopes []topicScope, s resetStrategy) (resetPlan, error) {
	commits, err := adm.FetchOffsets(ctx, group)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) { // a new group has none
		return resetPlan{}, fmt.Errorf("fetching committed offsets: %w", err)
	}
	tps, err := partitionsInScope(ctx, adm, scopes, commits)
	if err != nil {
		return resetPlan{}, err
	}
	bounds, err := listBounds(ctx, adm, tps, s)
	if err != nil {
		return resetPlan{}, err
	}
	plan := resetPlan{Group: group, Partitions: []resetRow{}}
	for _, tp := range tps {
		b := bounds[tp]
		if c, ok := commits.Lookup(tp.topic, tp.partition); ok && c.Err == nil && c.At >= 0 {
			b.committed = &c.At
		}
		o, err := newOffset(s, b)
		if err != nil {
			return resetPlan{}, fmt.Errorf("%s partition %d: %w", tp.topic, tp.partition, err)
		}
		plan.Partitions = append(plan.Partitions, resetRow{tp.topic, tp.partition, b.committed, o})
	}
	return plan, nil
}

// partitionsInScope lists the partitions to reset, sorted: those named by
// scopes (checked against the topics' metadata), or with nil scopes every
// partition with a committed offset.
func partitionsInScope(ctx context.Context, adm groupAdmin, scopes []topicScope, commits kadm.OffsetResponses) ([]topicPartition, error) {
	var set kadm.TopicsSet
	if scopes == nil {
		set = commits.Partitions()
		if len(set) == 0 {
			return nil, errors.New("the group has no committed offsets; name topics with --topic")
		}
	}
	if err := addScopes(ctx, adm, scopes, &set); err != nil {
		return nil, err
	}
	var tps []topicPartition
	set.Sorted().Each(func(t string, p int32) { tps = append(tps, topicPartition{t, p}) })
	return tps, nil
}

func addScopes(ctx context.Context, adm groupAdmin, scopes []topicScope, set *kadm.TopicsSet) error {
	if len(scopes) == 0 {
		return nil
	}
	var names []string
	for _, s := range scopes {
		names = append(names, s.topic)
	}
	topics, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("listing topics: %w", err)
	}
	for _, s := range scopes {
		t, ok := topics[s.topic]
		switch {
		case !ok:
			return fmt.Errorf("topic %s: not in the metadata response", s.topic)
		case t.Err != nil:
			return fmt.Errorf("topic %s: %w", s.topic, t.Err)
		case s.partitions == nil:
			set.Add(s.topic, t.Partitions.Numbers()...)
		}
		for _, p := range s.partitions {
			if _, ok := t.Partitions[p]; !ok {
				return fmt.Errorf("topic %s has no partition %d (it has %d)", s.topic, p, len(t.Partitions))
			}
			set.Add(s.topic, p)
		}
	}
	return nil
}

// listBounds lists the log start and end offsets of tps, and for a reset
// to a time the first offset at or after it.
func listBounds(ctx context.Context, adm groupAdmin, tps []topicPartition, s resetStrategy) (map[topicPartition]partitionBounds, error) {
	topics := make([]string, 0, len(tps))
	for _, tp := range tps {
		if len(topics) == 0 || topics[len(topics)-1] != tp.topic {
			topics = append(topics, tp.topic)
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
	if s.kind == resetToTime {
		if atTime, err = adm.ListOffsetsAfterMilli(ctx, s.n, topics...); err != nil {
			return nil, fmt.Errorf("listing offsets after %s: %w", time.UnixMilli(s.n).UTC().Format(time.RFC3339), err)
		}
	}
	bounds := make(map[topicPartition]partitionBounds, len(tps))
	for _, tp := range tps {
		var b partitionBounds
		var errs []error
		b.start, errs = listedOffset(starts, tp, "log start offset", errs)
		b.end, errs = listedOffset(ends, tp, "log end offset", errs)
		if s.kind == resetToTime {
			b.atTime, errs = listedOffset(atTime, tp, "offset for the time", errs)
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		bounds[tp] = b
	}
	return bounds, nil
}

// listedOffset looks tp up in listed, adding what is wrong to errs.
func listedOffset(listed kadm.ListedOffsets, tp topicPartition, what string, errs []error) (int64, []error) {
	o, err := lookupListed(listed, tp.topic, tp.partition)
	if err != nil {
		return 0, append(errs, fmt.Errorf("%s partition %d: %s: %w", tp.topic, tp.partition, what, err))
	}
	return o, errs
}

// commitPlan commits the plan's new offsets for its group.
func commitPlan(ctx context.Context, adm groupAdmin, plan resetPlan) error {
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

func writeResetPlan(out io.Writer, plan resetPlan, output string) error {
	if output == "json" {
		return writeJSON(out, plan)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tOLD\tNEW")
	for _, r := range plan.Partitions {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\n", r.Topic, r.Partition, offsetOrDash(r.Old), r.New)
	}
	return tw.Flush()
}

// writeResetNote says on stderr what was, or was not, done.
func writeResetNote(w io.Writer, plan resetPlan, d groupDescription) {
	switch {
	case plan.Executed:
		fmt.Fprintf(w, "committed %d offsets for group %s\n", len(plan.Partitions), plan.Group)
	case !d.isInactive():
		fmt.Fprintf(w, "dry run, nothing committed; group %s is active (state %s, members: %d): stop its consumers before --execute\n", plan.Group, d.State, len(d.Members))
	default:
		fmt.Fprintln(w, "dry run, nothing committed; add --execute to commit these offsets")
	}
}

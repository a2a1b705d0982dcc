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
	"github.com/weirhq/weir/internal/groupadmin"
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
			return gf.withAdmin(cmd.Context(), func(ctx context.Context, adm groupadmin.Admin) error {
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

// strategy resolves the one --to-* flag given; now anchors --by-duration.
func (rf resetFlags) strategy(cmd *cobra.Command, now time.Time) (groupadmin.Strategy, error) {
	changed := cmd.Flags().Changed
	var chosen []groupadmin.Strategy
	var err error
	add := func(on bool, s groupadmin.Strategy) {
		if on {
			chosen = append(chosen, s)
		}
	}
	add(rf.toEarliest, groupadmin.Strategy{Kind: groupadmin.Earliest})
	add(rf.toLatest, groupadmin.Strategy{Kind: groupadmin.Latest})
	add(changed("to-offset"), groupadmin.Strategy{Kind: groupadmin.ToOffset, N: rf.toOffset})
	add(changed("shift-by"), groupadmin.Strategy{Kind: groupadmin.ShiftBy, N: rf.shiftBy})
	if changed("to-datetime") {
		t, perr := time.Parse(time.RFC3339, rf.toDatetime)
		if perr != nil {
			err = fmt.Errorf("--to-datetime %q: want RFC 3339, like 2026-01-02T15:04:05Z", rf.toDatetime)
		}
		chosen = append(chosen, groupadmin.Strategy{Kind: groupadmin.ToTime, N: t.UnixMilli()})
	}
	add(changed("by-duration"), groupadmin.Strategy{Kind: groupadmin.ToTime, N: now.Add(-rf.byDuration).UnixMilli()})
	switch {
	case len(chosen) != 1:
		return groupadmin.Strategy{}, errors.New("give exactly one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime, --by-duration")
	case err != nil:
		return groupadmin.Strategy{}, err
	case changed("to-offset") && rf.toOffset < 0:
		return groupadmin.Strategy{}, fmt.Errorf("--to-offset %d: want an offset, 0 or more", rf.toOffset)
	case changed("by-duration") && rf.byDuration < 0:
		return groupadmin.Strategy{}, fmt.Errorf("--by-duration %s: want a positive duration", rf.byDuration)
	}
	return chosen[0], nil
}

// scopes parses --topic and checks it against --all-topics; nil scopes
// mean --all-topics.
func (rf resetFlags) scopes() ([]groupadmin.Scope, error) {
	if rf.allTopics == (len(rf.topics) > 0) {
		return nil, errors.New("give either --topic (repeatable) or --all-topics")
	}
	var scopes []groupadmin.Scope
	for _, spec := range rf.topics {
		s, err := parseTopicScope(spec)
		if err != nil {
			return nil, err
		}
		scopes = append(scopes, s)
	}
	return scopes, nil
}

func parseTopicScope(spec string) (groupadmin.Scope, error) {
	topic, parts, hasParts := strings.Cut(spec, ":")
	if topic == "" || hasParts && parts == "" {
		return groupadmin.Scope{}, fmt.Errorf("--topic %q: want TOPIC or TOPIC:PARTITION,PARTITION", spec)
	}
	s := groupadmin.Scope{Topic: topic}
	if !hasParts {
		return s, nil
	}
	for p := range strings.SplitSeq(parts, ",") {
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil || n < 0 {
			return groupadmin.Scope{}, fmt.Errorf("--topic %q: partition %q is not a partition number", spec, p)
		}
		s.Partitions = append(s.Partitions, int32(n))
	}
	return s, nil
}

// resetOffsets plans the reset, commits it with --execute (refused while
// the group is active), and prints the plan and a note on what was done.
func resetOffsets(ctx context.Context, adm groupadmin.Admin, out, errOut io.Writer, group string, scopes []groupadmin.Scope, s groupadmin.Strategy, rf resetFlags) error {
	d, err := adm.ForReset(ctx, group)
	if err != nil {
		return err
	}
	if rf.execute && !d.IsInactive() {
		return groupadmin.ActiveError(d)
	}
	plan, err := adm.PlanReset(ctx, group, scopes, s)
	if err != nil {
		return fmt.Errorf("resetting offsets of group %s: %w", group, err)
	}
	if rf.execute {
		if err := adm.Commit(ctx, plan); err != nil {
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

func writeResetPlan(out io.Writer, plan groupadmin.Plan, output string) error {
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
func writeResetNote(w io.Writer, plan groupadmin.Plan, d groupadmin.Description) {
	switch {
	case plan.Executed:
		fmt.Fprintf(w, "committed %d offsets for group %s\n", len(plan.Partitions), plan.Group)
	case !d.IsInactive():
		fmt.Fprintf(w, "dry run, nothing committed; group %s is active (state %s, members: %d): stop its consumers before --execute\n", plan.Group, d.State, len(d.Members))
	default:
		fmt.Fprintln(w, "dry run, nothing committed; add --execute to commit these offsets")
	}
}

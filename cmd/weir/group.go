package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupFlags are shared by the group subcommands.
type groupFlags struct {
	*globals
	timeout time.Duration
}

func newGroupCmd(g *globals) *cobra.Command {
	gf := &groupFlags{globals: g}
	cmd := &cobra.Command{
		Use:   "group",
		Short: "List, describe, delete consumer groups and reset their offsets",
		Long: `Inspect and manage the consumer groups of a Kafka cluster (Weir or any other),
the way Kafka's kafka-consumer-groups.sh does: list groups, show each
partition's committed offset, log end offset and lag, delete groups, and
move a group's committed offsets.

Both protocols are understood: classic groups (JoinGroup/SyncGroup) and
KIP-848 consumer groups (ConsumerGroupHeartbeat).`,
		Example: `  weir group list
  weir group describe orders-app
  weir group reset-offsets orders-app --topic orders --to-earliest --execute
  weir group delete orders-app`,
	}
	cmd.PersistentFlags().DurationVar(&gf.timeout, "timeout", 30*time.Second, "give up on the cluster after this long (0: never)")
	cmd.AddCommand(
		newGroupListCmd(gf),
		newGroupDescribeCmd(gf),
		newGroupDeleteCmd(gf),
		newGroupResetOffsetsCmd(gf),
	)
	return cmd
}

// groupAdmin is an admin client that can also send raw requests, for
// ConsumerGroupDescribe answers kadm reduces too far (topic IDs).
type groupAdmin struct {
	*kadm.Client
	kcl *kgo.Client
}

// withAdmin runs fn with an admin client and a context bounded by --timeout.
func (gf *groupFlags) withAdmin(ctx context.Context, fn func(context.Context, groupAdmin) error) error {
	cl, err := gf.client()
	if err != nil {
		return err
	}
	adm := groupAdmin{kadm.NewClient(cl), cl}
	defer adm.Close()
	ctx, cancel := withTimeout(ctx, gf.timeout)
	defer cancel()
	return fn(ctx, adm)
}

// groupDescription is what `weir group describe` prints of one group.
type groupDescription struct {
	Group        string              `json:"group"`
	Coordinator  int32               `json:"coordinator"`
	State        string              `json:"state"`
	ProtocolType string              `json:"protocol_type"`
	Protocol     string              `json:"protocol"` // the assignor
	Members      []groupMember       `json:"members"`
	Partitions   []groupPartitionRow `json:"partitions"`
}

type groupMember struct {
	ConsumerID string             `json:"consumer_id"`
	InstanceID string             `json:"instance_id,omitempty"`
	Host       string             `json:"host"`
	ClientID   string             `json:"client_id"`
	Assignment map[string][]int32 `json:"assignment"`
}

// groupPartitionRow is one partition the group is assigned or has
// committed to. CurrentOffset and Lag are nil without a committed offset.
type groupPartitionRow struct {
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

// isInactive is Kafka's precondition for resetting offsets: no members,
// and the group is Empty or does not exist.
func (d groupDescription) isInactive() bool {
	return len(d.Members) == 0 && (strings.EqualFold(d.State, "Empty") || strings.EqualFold(d.State, "Dead"))
}

// describeGroupStates describes groups (state, protocol, members), trying
// the classic DescribeGroups first and KIP-848's ConsumerGroupDescribe for
// the groups the classic answer cannot be right about. A group that does
// not exist gets an error wrapping kerr.GroupIDNotFound.
func describeGroupStates(ctx context.Context, adm groupAdmin, names []string) (map[string]groupDescription, map[string]error, error) {
	classic, err := adm.DescribeGroups(ctx, names...)
	if err != nil && len(classic) == 0 {
		return nil, nil, fmt.Errorf("describing groups: %w", err)
	}
	descs, errs := map[string]groupDescription{}, map[string]error{}
	for _, name := range names {
		dg, ok := classic[name]
		if !ok || dg.Err != nil || mayBeConsumerGroup(dg) {
			if d, ok := describeConsumerGroup(ctx, adm, name); ok {
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
func describeConsumerGroup(ctx context.Context, adm groupAdmin, name string) (groupDescription, bool) {
	req := kmsg.NewPtrConsumerGroupDescribeRequest()
	req.Groups = []string{name}
	for _, shard := range adm.kcl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			continue
		}
		for _, g := range shard.Resp.(*kmsg.ConsumerGroupDescribeResponse).Groups {
			if g.Group == name && g.ErrorCode == 0 {
				return fromConsumerGroup(ctx, adm, shard.Meta.NodeID, g), true
			}
		}
	}
	return groupDescription{}, false
}

func fromConsumerGroup(ctx context.Context, adm groupAdmin, coordinator int32, g kmsg.ConsumerGroupDescribeResponseGroup) groupDescription {
	d := groupDescription{Group: g.Group, Coordinator: coordinator, State: g.State,
		ProtocolType: "consumer", Protocol: g.AssignorName, Members: []groupMember{}}
	names := topicNamer(ctx, adm)
	for _, m := range g.Members {
		gm := groupMember{ConsumerID: m.MemberID, InstanceID: deref(m.InstanceID),
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
func topicNamer(ctx context.Context, adm groupAdmin) func(string, [16]byte) string {
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

func fromClassicGroup(dg kadm.DescribedGroup) groupDescription {
	d := groupDescription{Group: dg.Group, Coordinator: dg.Coordinator.NodeID, State: dg.State,
		ProtocolType: dg.ProtocolType, Protocol: dg.Protocol, Members: []groupMember{}}
	for _, m := range dg.Members {
		gm := groupMember{ConsumerID: m.MemberID, InstanceID: deref(m.InstanceID),
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

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// groupRow is one line of `weir group list`.
type groupRow struct {
	Group        string `json:"group"`
	State        string `json:"state"`
	ProtocolType string `json:"protocol_type"`
	Members      int    `json:"members"`
}

// groupStates are the group states Kafka knows, for --state.
var groupStates = []string{"Stable", "Empty", "PreparingRebalance", "CompletingRebalance",
	"Assigning", "Reconciling", "Dead", "Unknown"}

func newGroupListCmd(gf *groupFlags) *cobra.Command {
	var (
		output string
		states []string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List consumer groups with their state and member count",
		Long: `List the consumer groups of the cluster: name, state, protocol type (consumer
for Kafka consumers, connect for Kafka Connect, empty for groups that only
hold committed offsets) and the number of members. --state keeps only groups
in those states (any of ` + strings.Join(groupStates, ", ") + `; any case).`,
		Example: `  weir group list
  weir group list --state Stable,PreparingRebalance
  weir group list --state empty -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			filter, err := canonicalStates(states)
			if err != nil {
				return fmt.Errorf("listing groups: %w", err)
			}
			return gf.withAdmin(cmd.Context(), func(ctx context.Context, adm groupAdmin) error {
				return listGroups(ctx, adm, cmd.OutOrStdout(), filter, output)
			})
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only groups in these states, comma separated")
	outputFlag(cmd, &output)
	return cmd
}

// canonicalStates spells --state values the way the protocol does.
func canonicalStates(states []string) ([]string, error) {
	out := make([]string, 0, len(states))
	for _, s := range states {
		i := slices.IndexFunc(groupStates, func(k string) bool { return strings.EqualFold(k, s) })
		if i < 0 {
			return nil, fmt.Errorf("--state %q: want one of %s", s, strings.Join(groupStates, ", "))
		}
		out = append(out, groupStates[i])
	}
	return out, nil
}

func listGroups(ctx context.Context, adm groupAdmin, out io.Writer, states []string, output string) error {
	listed, err := adm.ListGroups(ctx, states...)
	if err != nil {
		return fmt.Errorf("listing groups: %w", err)
	}
	rows := []groupRow{}
	var errs []error
	if names := listed.Groups(); len(names) > 0 {
		descs, derrs, err := describeGroupStates(ctx, adm, names)
		if err != nil {
			return fmt.Errorf("listing groups: %w", err)
		}
		for _, l := range listed.Sorted() {
			row := groupRow{Group: l.Group, State: l.State, ProtocolType: l.ProtocolType}
			if d, ok := descs[l.Group]; ok {
				row.Members = len(d.Members)
			} else if derr := derrs[l.Group]; derr != nil {
				errs = append(errs, derr)
			}
			rows = append(rows, row)
		}
	}
	if err := writeGroupRows(out, rows, output); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func writeGroupRows(out io.Writer, rows []groupRow, output string) error {
	if output == "json" {
		return writeJSON(out, rows)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tSTATE\tPROTOCOL-TYPE\tMEMBERS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", r.Group, r.State, orDash(r.ProtocolType), r.Members)
	}
	return tw.Flush()
}

func newGroupDescribeCmd(gf *groupFlags) *cobra.Command {
	var (
		output  string
		members bool
	)
	cmd := &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show a group's members, committed offsets and lag per partition",
		Long: `Describe consumer groups. For each group a header line (group, coordinator
broker, state, protocol, member count), then one row per partition the group
is assigned or has committed offsets for:

  TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID

CURRENT-OFFSET is the group's committed offset, LAG is LOG-END-OFFSET minus
it; both are - for a partition with no committed offset. The consumer
columns are - for partitions no member is assigned, as when the group is
Empty. --members lists the members and their assignments instead.`,
		Example: `  weir group describe orders-app
  weir group describe orders-app billing --members
  weir group describe orders-app -o json`,
		Args: needArgs("GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return gf.withAdmin(cmd.Context(), func(ctx context.Context, adm groupAdmin) error {
				descs, err := describeGroups(ctx, adm, args)
				if werr := writeGroupDescriptions(cmd.OutOrStdout(), descs, output, members); werr != nil {
					return werr
				}
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&members, "members", false, "list the members and their assignments instead of the partitions")
	outputFlag(cmd, &output)
	return cmd
}

// describeGroups describes names with their offsets and lag; groups that
// could not be described are left out and their errors joined.
func describeGroups(ctx context.Context, adm groupAdmin, names []string) ([]groupDescription, error) {
	states, derrs, err := describeGroupStates(ctx, adm, names)
	if err != nil {
		return nil, err
	}
	var descs []groupDescription
	var errs []error
	for _, name := range names {
		d, ok := states[name]
		if !ok {
			errs = append(errs, derrs[name])
			continue
		}
		if err := addGroupOffsets(ctx, adm, &d); err != nil {
			errs = append(errs, err)
			continue
		}
		descs = append(descs, d)
	}
	return descs, errors.Join(errs...)
}

// addGroupOffsets fills d.Partitions: the assigned and the committed
// partitions, with committed offsets, log end offsets and lag.
func addGroupOffsets(ctx context.Context, adm groupAdmin, d *groupDescription) error {
	commits, err := adm.FetchOffsets(ctx, d.Group)
	if err != nil {
		return fmt.Errorf("fetching committed offsets of group %s: %w", d.Group, err)
	}
	owners := partitionOwners(d.Members)
	tps := commits.Partitions()
	for tp := range owners {
		tps.Add(tp.topic, tp.partition)
	}
	var ends kadm.ListedOffsets
	if topics := tps.Topics(); len(topics) > 0 {
		if ends, err = adm.ListEndOffsets(ctx, topics...); err != nil && len(ends) == 0 {
			return fmt.Errorf("listing end offsets for group %s: %w", d.Group, err)
		}
	}
	d.Partitions = []groupPartitionRow{}
	for _, tp := range tps.Sorted() {
		for _, p := range tp.Partitions {
			d.Partitions = append(d.Partitions, groupPartition(tp.Topic, p, commits, ends, owners))
		}
	}
	return nil
}

type topicPartition struct {
	topic     string
	partition int32
}

// partitionOwners maps each assigned partition to its member.
func partitionOwners(members []groupMember) map[topicPartition]*groupMember {
	owners := map[topicPartition]*groupMember{}
	for i, m := range members {
		for t, ps := range m.Assignment {
			for _, p := range ps {
				owners[topicPartition{t, p}] = &members[i]
			}
		}
	}
	return owners
}

func groupPartition(topic string, p int32, commits kadm.OffsetResponses, ends kadm.ListedOffsets, owners map[topicPartition]*groupMember) groupPartitionRow {
	row := groupPartitionRow{Topic: topic, Partition: p, LogEndOffset: -1}
	if m := owners[topicPartition{topic, p}]; m != nil {
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
	if row.CurrentOffset != nil && row.LogEndOffset >= 0 {
		lag := max(row.LogEndOffset-*row.CurrentOffset, 0)
		row.Lag = &lag
	}
	row.Error = strings.Join(errs, "; ")
	return row
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

func writeGroupDescriptions(out io.Writer, descs []groupDescription, output string, members bool) error {
	if output == "json" {
		if descs == nil {
			descs = []groupDescription{}
		}
		return writeJSON(out, descs)
	}
	for i, d := range descs {
		if i > 0 {
			fmt.Fprintln(out)
		}
		write := writeGroupPartitions
		if members {
			write = writeGroupMembers
		}
		writeGroupHeader(out, d)
		if err := write(out, d); err != nil {
			return err
		}
	}
	return nil
}

func writeGroupHeader(out io.Writer, d groupDescription) {
	protocol := d.ProtocolType
	if d.Protocol != "" {
		protocol += "/" + d.Protocol
	}
	fmt.Fprintf(out, "Group: %s\tCoordinator: %d\tState: %s\tProtocol: %s\tMembers: %d\n",
		d.Group, d.Coordinator, d.State, orDash(protocol), len(d.Members))
}

func writeGroupPartitions(out io.Writer, d groupDescription) error {
	withErrors := slices.ContainsFunc(d.Partitions, func(r groupPartitionRow) bool { return r.Error != "" })
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "TOPIC\tPARTITION\tCURRENT-OFFSET\tLOG-END-OFFSET\tLAG\tCONSUMER-ID\tHOST\tCLIENT-ID")
	if withErrors {
		fmt.Fprint(tw, "\tERROR")
	}
	fmt.Fprintln(tw)
	for _, r := range d.Partitions {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s", r.Topic, r.Partition, offsetOrDash(r.CurrentOffset),
			offsetOrDash(nonNegative(r.LogEndOffset)), offsetOrDash(r.Lag), orDash(r.ConsumerID), orDash(r.Host), orDash(r.ClientID))
		if withErrors {
			fmt.Fprintf(tw, "\t%s", r.Error)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func writeGroupMembers(out io.Writer, d groupDescription) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER-ID\tINSTANCE-ID\tHOST\tCLIENT-ID\t#PARTITIONS\tASSIGNMENT")
	for _, m := range d.Members {
		n, assignment := formatAssignment(m.Assignment)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", m.ConsumerID, orDash(m.InstanceID), m.Host, m.ClientID, n, assignment)
	}
	return tw.Flush()
}

// formatAssignment writes an assignment as orders(0,1),payments(3) and
// counts its partitions.
func formatAssignment(a map[string][]int32) (int, string) {
	n := 0
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(a)) {
		n += len(a[t])
		parts = append(parts, fmt.Sprintf("%s(%s)", t, joinInt32(a[t])))
	}
	return n, orDash(strings.Join(parts, ","))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func offsetOrDash(o *int64) string {
	if o == nil {
		return "-"
	}
	return strconv.FormatInt(*o, 10)
}

func nonNegative(o int64) *int64 {
	if o < 0 {
		return nil
	}
	return &o
}

func newGroupDeleteCmd(gf *groupFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete GROUP...",
		Short: "Delete consumer groups and their committed offsets",
		Long: `Delete consumer groups with DeleteGroups, committed offsets included. Kafka
deletes only groups without members: stop a group's consumers first.`,
		Example: "  weir group delete orders-app\n  weir group delete orders-app billing",
		Args:    needArgs("GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return gf.withAdmin(cmd.Context(), func(ctx context.Context, adm groupAdmin) error {
				return deleteGroups(ctx, adm, cmd.OutOrStdout(), args)
			})
		},
	}
}

func deleteGroups(ctx context.Context, adm groupAdmin, out io.Writer, names []string) error {
	resps, err := adm.DeleteGroups(ctx, names...)
	if err != nil && len(resps) == 0 {
		return fmt.Errorf("deleting groups: %w", err)
	}
	var errs []error
	for _, name := range names {
		resp, ok := resps[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("deleting group %s: the response does not mention it", name))
		case errors.Is(resp.Err, kerr.NonEmptyGroup):
			errs = append(errs, fmt.Errorf("deleting group %s: %w: the group has active members; stop its consumers first", name, resp.Err))
		case resp.Err != nil:
			errs = append(errs, fmt.Errorf("deleting group %s: %w", name, withMessage(resp.Err, resp.ErrMessage)))
		default:
			fmt.Fprintf(out, "deleted group %s\n", name)
		}
	}
	return errors.Join(errs...)
}

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

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

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

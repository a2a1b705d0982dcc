// Package kafka reads the cluster over the Kafka protocol with kadm:
// metadata (brokers, topics, partitions with leader, replicas and ISR), log
// start and end offsets, and consumer groups with their committed offsets,
// lag and estimated time lag, and brokers' log dir sizes (logdirs.go). It
// needs nothing but the Kafka protocol, so it works against Apache Kafka and
// MSK as well as Weir.
package kafka

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/agent/snapshot"
)

// Options configure a Source.
type Options struct {
	// Topics and Groups select what is collected (all if nil).
	Topics func(string) bool
	Groups func(string) bool
	// Window is how much end-offset history is kept per partition for
	// produce rates and time lag (DefaultWindow if 0).
	Window time.Duration
}

// Source collects the cluster view. One goroutine uses it.
type Source struct {
	cl   *kgo.Client
	adm  *kadm.Client
	opts Options
	hist *History
}

// New returns a source over cl, which the caller owns and closes.
func New(cl *kgo.Client, opts Options) *Source {
	all := func(string) bool { return true }
	if opts.Topics == nil {
		opts.Topics = all
	}
	if opts.Groups == nil {
		opts.Groups = all
	}
	return &Source{cl: cl, adm: kadm.NewClient(cl), opts: opts, hist: NewHistory(opts.Window)}
}

// Collect reads the cluster and then the groups. A cluster error returns
// nothing; a groups error (a cluster without a group coordinator, say)
// returns the cluster with groupsErr set.
func (s *Source) Collect(ctx context.Context, now time.Time) (c *snapshot.Cluster, groups []snapshot.Group, clusterErr, groupsErr error) {
	c, err := s.cluster(ctx, now)
	if err != nil {
		return nil, nil, err, nil
	}
	groups, err = s.groups(ctx, c, now)
	return c, groups, nil, err
}

func (s *Source) cluster(ctx context.Context, now time.Time) (*snapshot.Cluster, error) {
	md, err := s.adm.Metadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	c := &snapshot.Cluster{ClusterID: md.Cluster, ControllerID: md.Controller}
	for _, b := range md.Brokers {
		c.Brokers = append(c.Brokers, snapshot.BrokerMeta{ID: b.NodeID, Host: b.Host, Port: b.Port, Rack: deref(b.Rack)})
	}
	slices.SortFunc(c.Brokers, func(a, b snapshot.BrokerMeta) int { return cmp.Compare(a.ID, b.ID) })
	var names []string
	for name, t := range md.Topics {
		if t.Err == nil && s.opts.Topics(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		s.hist.Retain(now, nil)
		return c, nil
	}
	starts, err := s.adm.ListStartOffsets(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := s.adm.ListEndOffsets(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	for _, name := range names {
		c.Topics = append(c.Topics, s.topic(md.Topics[name], starts, ends, now))
	}
	s.hist.Retain(now, c.Topics)
	return c, nil
}

// topic builds one topic and records its end offsets in the history.
func (s *Source) topic(td kadm.TopicDetail, starts, ends kadm.ListedOffsets, now time.Time) snapshot.Topic {
	t := snapshot.Topic{Name: td.Topic, Internal: td.IsInternal}
	for _, pd := range td.Partitions.Sorted() {
		p := snapshot.Partition{Partition: pd.Partition, Leader: pd.Leader, Replicas: pd.Replicas, ISR: pd.ISR,
			Offline: pd.OfflineReplicas, StartOffset: offset(starts, td.Topic, pd.Partition), EndOffset: offset(ends, td.Topic, pd.Partition)}
		if p.EndOffset >= 0 {
			p.ProduceRate = s.hist.Add(TP{td.Topic, pd.Partition}, now, p.EndOffset)
		}
		t.Partitions = append(t.Partitions, p)
	}
	return t
}

func offset(l kadm.ListedOffsets, topic string, p int32) int64 {
	o, ok := l.Lookup(topic, p)
	if !ok || o.Err != nil {
		return -1
	}
	return o.Offset
}

func (s *Source) groups(ctx context.Context, c *snapshot.Cluster, now time.Time) ([]snapshot.Group, error) {
	listed, err := s.adm.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	var names []string
	for _, name := range listed.Groups() {
		if s.opts.Groups(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return nil, nil
	}
	described, err := s.adm.DescribeGroups(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("describe groups: %w", err)
	}
	fetched := s.adm.FetchManyOffsets(ctx, names...)
	ends := endOffsets(c)
	var out []snapshot.Group
	var errs []error
	for _, name := range names {
		d := described[name]
		f := fetched[name]
		if err := cmp.Or(d.Err, f.Err); err != nil {
			errs = append(errs, fmt.Errorf("group %s: %w", name, err))
			continue
		}
		out = append(out, s.group(d, f.Fetched, ends, now))
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("describe and fetch offsets: %w", errs[0])
	}
	return out, nil
}

// group computes a group's lag against the snapshot's end offsets, so that
// lag = end − committed holds exactly within one snapshot.
func (s *Source) group(d kadm.DescribedGroup, commits kadm.OffsetResponses, ends map[TP]int64, now time.Time) snapshot.Group {
	g := snapshot.Group{Name: d.Group, State: d.State, ProtocolType: d.ProtocolType, Members: len(d.Members)}
	commits.Each(func(o kadm.OffsetResponse) {
		end, ok := ends[TP{o.Topic, o.Partition}]
		if o.Err != nil || o.At < 0 || !ok {
			return // not committed, or a topic filtered out or gone
		}
		lag := max(end-o.At, 0)
		g.Partitions = append(g.Partitions, snapshot.GroupPartition{Topic: o.Topic, Partition: o.Partition,
			Committed: o.At, End: end, Lag: lag, TimeLagMs: s.hist.TimeLagMs(TP{o.Topic, o.Partition}, o.At, now)})
	})
	slices.SortFunc(g.Partitions, func(a, b snapshot.GroupPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return g
}

func endOffsets(c *snapshot.Cluster) map[TP]int64 {
	m := map[TP]int64{}
	for _, t := range c.Topics {
		for _, p := range t.Partitions {
			if p.EndOffset >= 0 {
				m[TP{t.Name, p.Partition}] = p.EndOffset
			}
		}
	}
	return m
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

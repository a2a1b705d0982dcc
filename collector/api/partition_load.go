package api

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/weirhq/weir/collector/model"
)

// partitionLoad is Cruise Control's PartitionLoadState.
type partitionLoad struct {
	Records []partitionRecord `json:"records"`
	Version int               `json:"version"`
}

// partitionRecord: cpu in percent of one core, network in KB/s, disk in
// MB, msg_in in records per second, all of the leader replica.
type partitionRecord struct {
	Topic           string  `json:"topic"`
	Partition       int32   `json:"partition"`
	Leader          int32   `json:"leader"`
	Followers       []int32 `json:"followers"`
	CPU             float64 `json:"cpu"`
	NetworkInbound  float64 `json:"networkInbound"`
	NetworkOutbound float64 `json:"networkOutbound"`
	Disk            float64 `json:"disk"`
	MsgIn           float64 `json:"msg_in"`
}

// partition_load (GET): partitions by load, heaviest first in resource
// (default disk), filtered by topic regex, partition range and broker.
func (s *Server) partitionLoadEndpoint() endpoint {
	return endpoint{name: "partition_load", method: "GET", async: true,
		params: []string{"resource", "start", "end", "entries", "topic", "partition", "min_valid_partition_ratio",
			"allow_capacity_estimation", "max_load", "avg_load", "brokerid"},
		handle: func(ctx context.Context, p *params, t *userTask) (any, error) {
			f, err := readPartitionFilter(p)
			if err != nil {
				return nil, err
			}
			s.step(t, "GeneratingClusterModel")
			c, err := s.clusterModel(nil)
			if err != nil {
				return nil, err
			}
			return partitionLoads(c, f), nil
		}}
}

type partitionFilter struct {
	resource model.Resource
	entries  int
	topic    *regexp.Regexp
	lo, hi   int32
	brokers  []int32
}

func readPartitionFilter(p *params) (partitionFilter, error) {
	f := partitionFilter{resource: model.Disk, lo: 0, hi: 1<<31 - 1}
	var err error
	if r := p.str("resource", ""); r != "" {
		if f.resource, err = model.ParseResource(r); err != nil {
			return f, userErr("parameter resource: %v", err)
		}
	}
	n, err := p.integer("entries", 0)
	if err != nil {
		return f, err
	}
	f.entries = int(n)
	if f.topic, err = p.regex("topic"); err != nil {
		return f, err
	}
	if f.brokers, err = p.brokerIDs("brokerid"); err != nil {
		return f, err
	}
	if v := p.str("partition", ""); v != "" {
		if f.lo, f.hi, err = partitionRange(v); err != nil {
			return f, err
		}
	}
	return f, nil
}

// partitionRange reads "5" or "2-7".
func partitionRange(v string) (int32, int32, error) {
	lo, hi, isRange := strings.Cut(v, "-")
	a, err1 := strconv.ParseInt(lo, 10, 32)
	b := a
	var err2 error
	if isRange {
		b, err2 = strconv.ParseInt(hi, 10, 32)
	}
	if err1 != nil || err2 != nil || a < 0 || b < a {
		return 0, 0, userErr("parameter partition: %q is not a partition or a range like 2-7", v)
	}
	return int32(a), int32(b), nil
}

func partitionLoads(c *model.Cluster, f partitionFilter) partitionLoad {
	out := partitionLoad{Version: 1, Records: []partitionRecord{}}
	var keys []float64
	for i := range c.Partitions {
		pt := &c.Partitions[i]
		if !f.keep(pt) {
			continue
		}
		l := pt.ReplicaLoad(true)
		out.Records = append(out.Records, partitionRecord{Topic: pt.Topic, Partition: pt.Partition, Leader: pt.Leader,
			Followers: followers(pt), CPU: round(l[model.CPU] * 100), NetworkInbound: round(l[model.NetworkIn] / kb),
			NetworkOutbound: round(l[model.NetworkOut] / kb), Disk: round(l[model.Disk] / mb), MsgIn: round(pt.Load.MessagesIn)})
		keys = append(keys, l[f.resource])
	}
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(keys[b], keys[a]) })
	sorted := make([]partitionRecord, len(idx))
	for i, j := range idx {
		sorted[i] = out.Records[j]
	}
	out.Records = sorted
	if f.entries > 0 && len(out.Records) > f.entries {
		out.Records = out.Records[:f.entries]
	}
	return out
}

func (f partitionFilter) keep(pt *model.Partition) bool {
	if f.topic != nil && !f.topic.MatchString(pt.Topic) || pt.Partition < f.lo || pt.Partition > f.hi {
		return false
	}
	return len(f.brokers) == 0 || slices.ContainsFunc(pt.Replicas, func(r int32) bool { return slices.Contains(f.brokers, r) })
}

func followers(pt *model.Partition) []int32 {
	out := []int32{}
	for _, r := range pt.Replicas {
		if r != pt.Leader {
			out = append(out, r)
		}
	}
	return out
}

// Text is a plain-text table of the records.
func (l partitionLoad) Text() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-50s%8s%12s%15s%15s%12s%10s  %s\n", "PARTITION", "LEADER", "CPU(%)", "NW_IN(KB/s)", "NW_OUT(KB/s)", "DISK(MB)", "MSG_IN", "FOLLOWERS")
	for _, r := range l.Records {
		fmt.Fprintf(&sb, "%-50s%8d%12.3f%15.3f%15.3f%12.3f%10.1f  %v\n", fmt.Sprintf("%s-%d", r.Topic, r.Partition), r.Leader,
			r.CPU, r.NetworkInbound, r.NetworkOutbound, r.Disk, r.MsgIn, r.Followers)
	}
	return sb.String()
}

package monitor

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// metadata is the cluster as the Kafka protocol showed it at one refresh.
type metadata struct {
	brokers    map[int32]brokerMeta // the live brokers
	partitions []partitionMeta
	fetched    time.Time
}

type brokerMeta struct {
	host, rack string
}

type partitionMeta struct {
	tp
	leader   int32 // -1 offline
	replicas []int32
	isr      []int32
	offline  []int32
}

// counted are the partitions that count toward a window's validity: every
// one but the samples topic's.
func (m *metadata) counted(samplesTopic string) []tp {
	if m == nil {
		return nil
	}
	out := make([]tp, 0, len(m.partitions))
	for _, p := range m.partitions {
		if p.topic != samplesTopic {
			out = append(out, p.tp)
		}
	}
	return out
}

// fetchMetadata reads brokers, topics, partitions, replicas, leaders, ISR
// and offline replicas.
func fetchMetadata(ctx context.Context, adm *kadm.Client, now time.Time) (*metadata, error) {
	md, err := adm.Metadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's metadata: %w", err)
	}
	out := &metadata{brokers: map[int32]brokerMeta{}, fetched: now}
	for _, b := range md.Brokers {
		m := brokerMeta{host: b.Host}
		if b.Rack != nil {
			m.rack = *b.Rack
		}
		out.brokers[b.NodeID] = m
	}
	for _, t := range md.Topics.Sorted() {
		if t.Err != nil {
			continue // being created or deleted: the next refresh sees it
		}
		for _, p := range t.Partitions.Sorted() {
			out.partitions = append(out.partitions, partitionMeta{tp: tp{t.Topic, p.Partition}, leader: p.Leader,
				replicas: slices.Clone(p.Replicas), isr: slices.Clone(p.ISR), offline: slices.Clone(p.OfflineReplicas)})
		}
	}
	return out, nil
}

// fetchSizes reads every partition's size with DescribeLogDirs, for
// partitions whose samples carry none (an agent without the broker's admin
// endpoint): the leader's replica when it reports one, else the largest.
func fetchSizes(ctx context.Context, adm *kadm.Client, md *metadata) (map[tp]int64, error) {
	dirs, err := adm.DescribeAllLogDirs(ctx, nil)
	if err != nil && len(dirs) == 0 {
		return nil, fmt.Errorf("describing log dirs for partition sizes: %w", err)
	}
	leaders := map[tp]int32{}
	for _, p := range md.partitions {
		leaders[p.tp] = p.leader
	}
	sizes := map[tp]int64{}
	fromLeader := map[tp]bool{}
	for broker, ds := range dirs {
		ds.EachPartition(func(p kadm.DescribedLogDirPartition) {
			k := tp{p.Topic, p.Partition}
			leader := leaders[k] == broker
			if fromLeader[k] || (!leader && p.Size <= sizes[k]) {
				return
			}
			sizes[k], fromLeader[k] = p.Size, leader
		})
	}
	return sizes, nil
}

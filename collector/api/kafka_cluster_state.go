package api

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
)

// kafkaClusterState is Cruise Control's KafkaClusterState, read from the
// cluster over the Kafka protocol (Metadata, DescribeConfigs,
// DescribeLogDirs), not from the model.
type kafkaClusterState struct {
	Brokers    brokerState     `json:"KafkaBrokerState"`
	Partitions partitionStates `json:"KafkaPartitionState"`
	Version    int             `json:"version"`
}

type brokerState struct {
	LeaderCount       map[string]int      `json:"LeaderCountByBrokerId"`
	OutOfSyncCount    map[string]int      `json:"OutOfSyncCountByBrokerId"`
	ReplicaCount      map[string]int      `json:"ReplicaCountByBrokerId"`
	OfflineReplicas   map[string]int      `json:"OfflineReplicaCountByBrokerId"`
	IsController      map[string]bool     `json:"IsController"`
	OnlineLogDirs     map[string][]string `json:"OnlineLogDirsByBrokerId"`
	OfflineLogDirs    map[string][]string `json:"OfflineLogDirsByBrokerId"`
	BrokerSetByBroker map[string]string   `json:"BrokerSetByBrokerId"`
	Summary           clusterStats        `json:"Summary"`
}

type clusterStats struct {
	Brokers              int     `json:"Brokers"`
	Topics               int     `json:"Topics"`
	Replicas             int     `json:"Replicas"`
	Leaders              int     `json:"Leaders"`
	AvgReplicationFactor float64 `json:"AvgReplicationFactor"`
	AvgReplicasPerBroker float64 `json:"AvgReplicasPerBroker"`
	AvgLeadersPerBroker  float64 `json:"AvgLeadersPerBroker"`
	MaxReplicasPerBroker int     `json:"MaxReplicasPerBroker"`
	MaxLeadersPerBroker  int     `json:"MaxLeadersPerBroker"`
	StdReplicasPerBroker float64 `json:"StdReplicasPerBroker"`
	StdLeadersPerBroker  float64 `json:"StdLeadersPerBroker"`
}

type partitionState struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Leader    int32   `json:"leader"`
	Replicas  []int32 `json:"replicas"`
	InSync    []int32 `json:"in-sync"`
	OutOfSync []int32 `json:"out-of-sync"`
	Offline   []int32 `json:"offline"`
	MinISR    int     `json:"min-isr"`
}

// kafka_cluster_state (GET).
func (s *Server) kafkaClusterStateEndpoint() endpoint {
	return endpoint{name: "kafka_cluster_state", method: "GET", params: []string{"verbose", "topic"},
		handle: func(ctx context.Context, p *params, _ *userTask) (any, error) {
			verbose, err := p.boolean("verbose", false)
			if err != nil {
				return nil, err
			}
			topic, err := p.regex("topic")
			if err != nil {
				return nil, err
			}
			return s.kafkaState(ctx, verbose, topic)
		}}
}

func (s *Server) kafkaState(ctx context.Context, verbose bool, topic *regexp.Regexp) (*kafkaClusterState, error) {
	md, err := s.o.Admin.Metadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's metadata: %w", err)
	}
	minISR := s.minISR(ctx, md)
	st := &kafkaClusterState{Version: 1, Brokers: newBrokerState(md), Partitions: partitionStates{
		"offline": {}, "with-offline-replicas": {}, "urp": {}, "under-min-isr": {}}}
	if verbose {
		st.Partitions["other"] = []partitionState{}
	}
	live := map[int32]bool{}
	for _, b := range md.Brokers {
		live[b.NodeID] = true
	}
	for _, td := range md.Topics.Sorted() {
		for _, pd := range td.Partitions.Sorted() {
			ps := partitionOf(td.Topic, pd, live, minISR[td.Topic])
			st.Brokers.count(ps)
			if topic == nil || topic.MatchString(td.Topic) {
				st.Partitions.classify(ps, verbose)
			}
		}
	}
	st.Brokers.summarize(md)
	s.logDirs(ctx, &st.Brokers)
	return st, nil
}

func newBrokerState(md kadm.Metadata) brokerState {
	b := brokerState{LeaderCount: map[string]int{}, OutOfSyncCount: map[string]int{}, ReplicaCount: map[string]int{},
		OfflineReplicas: map[string]int{}, IsController: map[string]bool{}, OnlineLogDirs: map[string][]string{},
		OfflineLogDirs: map[string][]string{}, BrokerSetByBroker: map[string]string{}}
	for _, br := range md.Brokers {
		id := strconv.Itoa(int(br.NodeID))
		b.IsController[id] = br.NodeID == md.Controller
		b.LeaderCount[id], b.ReplicaCount[id], b.OutOfSyncCount[id], b.OfflineReplicas[id] = 0, 0, 0, 0
		if br.Rack != nil {
			b.BrokerSetByBroker[id] = *br.Rack
		}
	}
	return b
}

func partitionOf(topic string, pd kadm.PartitionDetail, live map[int32]bool, minISR int) partitionState {
	ps := partitionState{Topic: topic, Partition: pd.Partition, Leader: pd.Leader, Replicas: pd.Replicas,
		InSync: nonNil(pd.ISR), OutOfSync: []int32{}, Offline: []int32{}, MinISR: minISR}
	for _, r := range pd.Replicas {
		if !live[r] {
			ps.Offline = append(ps.Offline, r)
		} else if !slices.Contains(pd.ISR, r) {
			ps.OutOfSync = append(ps.OutOfSync, r)
		}
	}
	return ps
}

func (b *brokerState) count(ps partitionState) {
	if ps.Leader >= 0 {
		b.LeaderCount[strconv.Itoa(int(ps.Leader))]++
	}
	for _, r := range ps.Replicas {
		b.ReplicaCount[strconv.Itoa(int(r))]++
	}
	for _, r := range ps.OutOfSync {
		b.OutOfSyncCount[strconv.Itoa(int(r))]++
	}
	for _, r := range ps.Offline {
		b.OfflineReplicas[strconv.Itoa(int(r))]++
	}
}

// partitionStates groups partitions by what is wrong with them.
type partitionStates map[string][]partitionState

func (m partitionStates) classify(ps partitionState, verbose bool) {
	switch {
	case ps.Leader < 0:
		m["offline"] = append(m["offline"], ps)
	case len(ps.Offline) > 0:
		m["with-offline-replicas"] = append(m["with-offline-replicas"], ps)
	case len(ps.InSync) < ps.MinISR:
		m["under-min-isr"] = append(m["under-min-isr"], ps)
	case len(ps.InSync) < len(ps.Replicas):
		m["urp"] = append(m["urp"], ps)
	case verbose:
		m["other"] = append(m["other"], ps)
	}
}

func (b *brokerState) summarize(md kadm.Metadata) {
	s := &b.Summary
	s.Brokers, s.Topics = len(md.Brokers), len(md.Topics)
	var reps, leads []float64
	for id := range b.ReplicaCount {
		s.Replicas += b.ReplicaCount[id]
		s.Leaders += b.LeaderCount[id]
		s.MaxReplicasPerBroker = max(s.MaxReplicasPerBroker, b.ReplicaCount[id])
		s.MaxLeadersPerBroker = max(s.MaxLeadersPerBroker, b.LeaderCount[id])
		reps, leads = append(reps, float64(b.ReplicaCount[id])), append(leads, float64(b.LeaderCount[id]))
	}
	s.AvgReplicasPerBroker, s.StdReplicasPerBroker = meanStd(reps)
	s.AvgLeadersPerBroker, s.StdLeadersPerBroker = meanStd(leads)
	if s.Leaders > 0 {
		s.AvgReplicationFactor = round(float64(s.Replicas) / float64(s.Leaders))
	}
}

func meanStd(v []float64) (float64, float64) {
	if len(v) == 0 {
		return 0, 0
	}
	var sum, sq float64
	for _, x := range v {
		sum += x
	}
	mean := sum / float64(len(v))
	for _, x := range v {
		sq += (x - mean) * (x - mean)
	}
	return round(mean), round(math.Sqrt(sq / float64(len(v))))
}

// minISR reads min.insync.replicas of every topic; 1 where unknown.
func (s *Server) minISR(ctx context.Context, md kadm.Metadata) map[string]int {
	out := map[string]int{}
	rcs, err := s.o.Admin.DescribeTopicConfigs(ctx, md.Topics.Names()...)
	if err != nil {
		return out
	}
	for _, rc := range rcs {
		out[rc.Name] = 1
		for _, c := range rc.Configs {
			if c.Key == "min.insync.replicas" && c.Value != nil {
				if n, err := strconv.Atoi(*c.Value); err == nil {
					out[rc.Name] = n
				}
			}
		}
	}
	return out
}

// logDirs fills the online and offline log dirs; left empty when the
// cluster does not answer DescribeLogDirs.
func (s *Server) logDirs(ctx context.Context, b *brokerState) {
	all, err := s.o.Admin.DescribeAllLogDirs(ctx, nil)
	if err != nil {
		return
	}
	all.Each(func(d kadm.DescribedLogDir) {
		id := strconv.Itoa(int(d.Broker))
		if d.Err != nil {
			b.OfflineLogDirs[id] = append(b.OfflineLogDirs[id], d.Dir)
		} else {
			b.OnlineLogDirs[id] = append(b.OnlineLogDirs[id], d.Dir)
		}
	})
}

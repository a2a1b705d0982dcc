package anomaly

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/collector/executor"
)

// How often the slower reads are made: DescribeLogDirs lists every
// replica, DescribeConfigs every topic.
const (
	logDirsEvery = 10 * time.Second
	minISREvery  = 30 * time.Second
)

// observe reads one round's observation: the metadata every round, the
// log dirs and min.insync.replicas less often (kept in between), the
// API's latest proposal and the executor's state. A failed read leaves
// its part unknown.
func (m *Manager) observe(ctx context.Context) Observation {
	o := Observation{Time: m.o.Now()}
	m.readMetadata(ctx, &o)
	if o.Time.Sub(m.logDirsAt) >= logDirsEvery {
		m.readLogDirs(ctx, o.Time)
	}
	if o.Partitions != nil && o.Time.Sub(m.minISRAt) >= minISREvery {
		m.readMinISR(ctx, &o)
	}
	o.LogDirs, o.MinISR = m.logDirs, m.minISR
	if m.o.Proposal != nil {
		o.Model, o.Proposal, o.ProposalTime = m.o.Proposal()
	}
	st := m.o.Executor.State()
	o.Executing, o.ExecutorTask, o.ExecutorRecovering = st.Phase != executor.PhaseIdle, st.TaskID, st.Recovering
	return o
}

func (m *Manager) readMetadata(ctx context.Context, o *Observation) {
	md, err := m.o.Admin.Metadata(ctx)
	if err != nil {
		m.logger.Debug("reading metadata", "err", err)
		return
	}
	o.Alive = map[int32]bool{}
	for _, b := range md.Brokers {
		o.Alive[b.NodeID] = true
	}
	o.Partitions = []PartitionState{}
	for _, t := range md.Topics.Sorted() {
		if t.Err != nil {
			continue
		}
		for _, p := range t.Partitions.Sorted() {
			o.Partitions = append(o.Partitions, PartitionState{Topic: t.Topic, Partition: p.Partition,
				Replicas: p.Replicas, ISR: p.ISR, Offline: p.OfflineReplicas})
		}
	}
}

// readLogDirs reads every live broker's log dirs; brokers that do not
// answer keep nothing (a dead broker is a broker failure, not a disk one).
func (m *Manager) readLogDirs(ctx context.Context, now time.Time) {
	all, err := m.o.Admin.DescribeAllLogDirs(ctx, nil)
	if err != nil && len(all) == 0 {
		m.logger.Debug("describing log dirs", "err", err)
		return
	}
	out := map[int32][]LogDir{}
	for id, dirs := range all {
		for _, d := range dirs.Sorted() {
			ld := LogDir{Path: d.Dir, Offline: errors.Is(d.Err, kerr.KafkaStorageError)}
			if d.Err != nil {
				ld.Error = d.Err.Error()
			}
			out[id] = append(out[id], ld)
		}
	}
	m.logDirs, m.logDirsAt = out, now
}

func (m *Manager) readMinISR(ctx context.Context, o *Observation) {
	var topics []string
	for _, p := range o.Partitions {
		if len(topics) == 0 || topics[len(topics)-1] != p.Topic {
			topics = append(topics, p.Topic)
		}
	}
	rcs, err := m.o.Admin.DescribeTopicConfigs(ctx, topics...)
	if err != nil && len(rcs) == 0 {
		m.logger.Debug("describing topic configs", "err", err)
		return
	}
	out := map[string]int{}
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			if c.Key != "min.insync.replicas" || c.Value == nil {
				continue
			}
			if n, err := strconv.Atoi(*c.Value); err == nil {
				out[rc.Name] = n
			}
		}
	}
	m.minISR, m.minISRAt = out, o.Time
}

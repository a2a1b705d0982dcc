package samples

import (
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/weirhq/weir/agent/snapshot"
)

// logSize is the broker series with each partition replica's size on disk.
const logSize = "kafka_log_log_size"

// Loads turns a snapshot into its samples: the broker's (when the agent
// sits beside a broker whose admin endpoint answered) and one per
// partition the broker leads (every partition for a cluster-wide agent).
//
// The broker exposes byte rates per topic, not per partition, so a
// partition's byte rates are the topic's rates on this broker apportioned
// over the topic's partitions it leads by their share of the messages in
// (equal shares when none grew), flagged BytesApportioned.
func Loads(s *snapshot.Snapshot, interval time.Duration) (*BrokerLoad, []PartitionLoad) {
	var b *BrokerLoad
	if s.BrokerID >= 0 && s.Broker != nil {
		b = brokerLoad(s, interval)
	}
	if s.Cluster == nil {
		return b, nil
	}
	var topicRates map[string]snapshot.TopicRates
	var sizes map[string]int64
	if s.Broker != nil {
		topicRates = make(map[string]snapshot.TopicRates, len(s.Broker.Topics))
		for _, t := range s.Broker.Topics {
			topicRates[t.Topic] = t
		}
		sizes = logSizes(s.Broker.Families)
	}
	var out []PartitionLoad
	for _, t := range s.Cluster.Topics {
		out = appendTopic(out, s, t, topicRates, sizes)
	}
	return b, out
}

func brokerLoad(s *snapshot.Snapshot, interval time.Duration) *BrokerLoad {
	br := s.Broker
	b := &BrokerLoad{Time: s.Time, ClusterName: s.ClusterName, BrokerID: s.BrokerID, Interval: interval,
		BytesInPerSec: br.BytesInPerSec, BytesOutPerSec: br.BytesOutPerSec, MessagesInPerSec: br.MessagesInPerSec,
		PartitionCount: int32(br.PartitionCount), LeaderCount: int32(br.LeaderCount)}
	if br.ReplicationValid {
		in, out := br.ReplicationBytesInPerSec, br.ReplicationBytesOutPerSec
		b.ReplicationBytesInPerSec, b.ReplicationBytesOutPerSec = &in, &out
	}
	if h := s.Host; h != nil {
		b.CPUPercent = cpuPercent(br, h)
		for _, d := range h.Disks {
			b.DiskCapacityBytes += int64(d.TotalBytes)
			b.DiskUsedBytes += int64(d.UsedBytes)
		}
		b.CPUCores = h.CPUCores
		b.NetworkCapacityBytesPerSec = listenerSpeed(h)
	}
	// The broker's own figures, when it reports them (DescribeLogDirs v4):
	// a Weir broker's provisioned storage is its disk capacity (the
	// collector's DiskCapacityGoal and full-disk anomaly then follow the
	// limit produce is refused at, not the filesystem it shares); Apache
	// Kafka 3.3+ answers its log dirs' filesystems, as statfs would.
	for _, st := range s.Storage {
		if st.BrokerID == s.BrokerID && st.Known() {
			b.DiskCapacityBytes, b.DiskUsedBytes = st.ProvisionedBytes(), st.UsedBytes()
		}
	}
	b.Rack = rack(s)
	return b
}

// cpuPercent is the broker's CPU as a share of the host's cores: the
// broker process's own CPU when its metrics have it (Cruise Control's
// BROKER_CPU_UTIL is the process's too), so brokers that share a host, as
// under `weir up`, do not each report the host's total; else the host's
// busy time. Nil when neither is known yet.
func cpuPercent(br *snapshot.Broker, h *snapshot.Host) *float64 {
	if br.ProcessCPUValid && h.CPUCores > 0 {
		pct := min(100, br.ProcessCPUCores/h.CPUCores*100)
		return &pct
	}
	if h.CPU.Valid {
		busy := 100 - h.CPU.Idle
		return &busy
	}
	return nil
}

// listenerSpeed sums the link speeds of the devices carrying the broker's
// listeners; nil when none is known (a loopback listener, virtual devices).
func listenerSpeed(h *snapshot.Host) *float64 {
	var sum float64
	for _, d := range h.Network {
		if d.Listener && d.SpeedBytesPerSec > 0 {
			sum += d.SpeedBytesPerSec
		}
	}
	if sum == 0 {
		return nil
	}
	return &sum
}

// rack is the broker's broker.rack as the metadata shows it; nil when it
// has none.
func rack(s *snapshot.Snapshot) *string {
	if s.Cluster == nil {
		return nil
	}
	for _, m := range s.Cluster.Brokers {
		if m.ID == s.BrokerID && m.Rack != "" {
			r := m.Rack
			return &r
		}
	}
	return nil
}

// appendTopic appends the samples of t's partitions this agent reports.
func appendTopic(out []PartitionLoad, s *snapshot.Snapshot, t snapshot.Topic, rates map[string]snapshot.TopicRates, sizes map[string]int64) []PartitionLoad {
	var mine []snapshot.Partition
	var msgSum float64
	for _, p := range t.Partitions {
		if s.BrokerID < 0 || p.Leader == s.BrokerID {
			mine = append(mine, p)
			msgSum += p.ProduceRate
		}
	}
	tr, haveRates := rates[t.Name]
	for _, p := range mine {
		pl := PartitionLoad{Time: s.Time, ClusterName: s.ClusterName, BrokerID: s.BrokerID, Topic: t.Name,
			Partition: p.Partition, Leader: p.Leader, Replicas: p.Replicas, MessagesInPerSec: p.ProduceRate}
		if haveRates && s.BrokerID >= 0 {
			share := 1 / float64(len(mine))
			if msgSum > 0 {
				share = p.ProduceRate / msgSum
			}
			in, out := tr.BytesInPerSec*share, tr.BytesOutPerSec*share
			pl.BytesInPerSec, pl.BytesOutPerSec, pl.BytesApportioned = &in, &out, true
		} else if s.Broker != nil && s.BrokerID >= 0 {
			zero := 0.0 // the broker counted no traffic for the topic
			pl.BytesInPerSec, pl.BytesOutPerSec = &zero, &zero
		}
		if size, ok := sizes[t.Name+"/"+strconv.Itoa(int(p.Partition))]; ok {
			pl.SizeBytes = &size
		}
		out = append(out, pl)
	}
	return out
}

// logSizes indexes kafka_log_log_size by "topic/partition".
func logSizes(fams []*dto.MetricFamily) map[string]int64 {
	out := map[string]int64{}
	for _, f := range fams {
		if f.GetName() != logSize {
			continue
		}
		for _, m := range f.GetMetric() {
			var topic, partition string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "topic":
					topic = l.GetValue()
				case "partition":
					partition = l.GetValue()
				}
			}
			v := m.GetGauge().GetValue()
			if f.GetType() == dto.MetricType_UNTYPED {
				v = m.GetUntyped().GetValue()
			}
			out[topic+"/"+partition] = int64(v)
		}
	}
	return out
}

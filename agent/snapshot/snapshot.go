package snapshot

import (
	"net/netip"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Snapshot is one collection cycle. Sections whose source is not configured
// or failed this cycle are nil (Host, Broker, Cluster); Errors says why.
type Snapshot struct {
	Time        time.Time // when the collection started
	ClusterName string    // from the agent config
	BrokerID    int32     // the broker this agent sits beside; -1 when run against a whole cluster
	Level       Level     // the configured monitoring level, for exporters to apply

	Host    *Host    // the machine: /proc and statfs
	Broker  *Broker  // the broker's admin /metrics
	Cluster *Cluster // topics, partitions and offsets over the Kafka protocol
	Groups  []Group  // consumer groups that pass the group filter, sorted by name

	Errors []SourceError // sources that failed this cycle
	Agent  AgentHealth   // the agent itself, as of the previous cycle
}

// SourceError is one source's failure in a cycle.
type SourceError struct {
	Source string // "broker_admin", "host", "kafka", "kafka_groups"
	Err    string
}

// Host is the machine the agent runs on.
type Host struct {
	// CPU is the share of all CPUs' time since the previous collection, in
	// percent (0–100 each; they add up to about 100). Valid is false on the
	// first collection.
	CPU CPUPercent
	// CPUTimes are the cumulative seconds per CPU, as /proc/stat counts
	// them (node_cpu_seconds_total).
	CPUTimes []CPUTimes
	// CPUCores are the cores the agent (and the broker beside it) may use:
	// the CPU count, or the cgroup's CPU quota when lower.
	CPUCores float64
	Memory   Memory
	// Network holds each interface but loopback; the totals below sum them.
	Network          []NetDevice
	NetRxBytesPerSec float64
	NetTxBytesPerSec float64
	// Disks holds one entry per distinct filesystem under the broker's
	// log dirs.
	Disks []Disk
}

// CPUPercent is the split of CPU time over the last interval, in percent.
type CPUPercent struct {
	Valid                      bool
	User, System, Idle, IOWait float64
}

// CPUTimes is one CPU's cumulative time per mode, in seconds.
type CPUTimes struct {
	CPU                                                   string // "0", "1", …
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal float64
}

// Memory is /proc/meminfo's view, in bytes. Used is Total − Available, the
// memory that cannot be had back without swapping.
type Memory struct {
	TotalBytes, UsedBytes, FreeBytes, AvailableBytes uint64
}

// NetDevice is one network interface's counters and rates.
type NetDevice struct {
	Device                         string
	RxBytesTotal, TxBytesTotal     uint64
	RxBytesPerSec, TxBytesPerSec   float64 // 0 on the first collection
	RxPacketsTotal, TxPacketsTotal uint64
	// SpeedBytesPerSec is the link speed (/sys/class/net/<dev>/speed); 0
	// when unknown, as for virtual devices.
	SpeedBytesPerSec float64
	Addrs            []netip.Addr // the device's IP addresses
	// Listener is true when the device holds an address the broker's
	// listeners advertise (host.MarkListeners).
	Listener bool
}

// Disk is the filesystem holding one or more of the broker's log dirs.
type Disk struct {
	MountPoint  string   // where the filesystem is mounted ("" if /proc/mounts did not say)
	LogDirs     []string // the log dirs on it
	TotalBytes  uint64
	UsedBytes   uint64
	AvailBytes  uint64  // available to unprivileged users (statfs Bavail)
	UsedPercent float64 // Used / (Used + Avail) × 100, as df computes it
}

// Broker is what the broker's admin /metrics said, with counters turned
// into per-second rates over the interval since the previous scrape.
// Rates are zero on the first scrape and for a series whose counter reset.
type Broker struct {
	BytesInPerSec       float64
	BytesOutPerSec      float64
	MessagesInPerSec    float64
	BytesRejectedPerSec float64
	Topics              []TopicRates // per-topic rates, sorted by topic

	// Mean total time of the requests handled since the previous scrape,
	// in milliseconds (MSK's ProduceTotalTimeMsMean, FetchConsumerTotalTimeMsMean).
	ProduceTotalTimeMsMean float64
	FetchTotalTimeMsMean   float64
	// RequestsPerSec is the request rate per API name ("Produce", "Fetch", …).
	RequestsPerSec map[string]float64

	// ProcessCPUCores is the broker process's CPU over the last interval,
	// in cores (the rate of process_cpu_seconds_total); valid from the
	// second scrape of a broker that exposes it.
	ProcessCPUCores float64
	ProcessCPUValid bool

	ConnectionCount           float64
	ConnectionCreationPerSec  float64
	ConnectionClosePerSec     float64
	PartitionCount            float64
	LeaderCount               float64
	UnderReplicatedPartitions float64
	UnderMinISRPartitions     float64
	ActiveControllerCount     float64
	OfflinePartitionsCount    float64
	GlobalTopicCount          float64
	GlobalPartitionCount      float64

	// Families is the scrape as parsed, for exporters that re-export the
	// broker's own series under its own names. Shared: do not modify.
	Families []*dto.MetricFamily
}

// TopicRates is one topic's traffic on this broker.
type TopicRates struct {
	Topic            string
	BytesInPerSec    float64
	BytesOutPerSec   float64
	MessagesInPerSec float64
}

// Cluster is the cluster as the Kafka protocol shows it.
type Cluster struct {
	ClusterID    string
	ControllerID int32
	Brokers      []BrokerMeta // sorted by ID
	Topics       []Topic      // topics that pass the topic filter, sorted by name
}

// BrokerMeta is one broker in the metadata.
type BrokerMeta struct {
	ID   int32
	Host string
	Port int32
	Rack string
}

// Topic is one topic and its partitions.
type Topic struct {
	Name       string
	Internal   bool
	Partitions []Partition // sorted by partition
}

// Partition is one partition's placement and offsets.
type Partition struct {
	Partition int32
	Leader    int32 // -1 when offline
	Replicas  []int32
	ISR       []int32
	Offline   []int32
	// StartOffset and EndOffset are the log start offset and the log end
	// offset (the high watermark, what consumers can read up to); -1 when
	// ListOffsets failed for the partition.
	StartOffset int64
	EndOffset   int64
	// ProduceRate is the rate the end offset grew at over the agent's
	// recent window, in records per second (0 until two samples exist).
	ProduceRate float64
}

// UnderReplicated reports whether fewer replicas are in sync than assigned.
func (p Partition) UnderReplicated() bool { return len(p.ISR) < len(p.Replicas) }

// Group is one consumer group.
type Group struct {
	Name         string
	State        string // Stable, Empty, PreparingRebalance, …
	ProtocolType string // "consumer" for Kafka consumers
	Members      int
	Partitions   []GroupPartition // partitions with a committed offset, sorted by topic then partition
}

// GroupPartition is a group's position and lag on one partition.
type GroupPartition struct {
	Topic     string
	Partition int32
	Committed int64 // the committed offset
	End       int64 // the partition's end offset in this snapshot
	// Lag is End − Committed, never below 0.
	Lag int64
	// TimeLagMs estimates how far behind in time the group is: how long ago
	// the partition's end offset was where the committed offset is now
	// (docs/AGENT.md has the method). 0 when Lag is 0; -1 when the agent
	// has no history to estimate from yet.
	TimeLagMs int64
}

// LagByTopic sums a group's lag per topic and finds the largest time lag,
// the figures MSK's SumOffsetLag, MaxOffsetLag and EstimatedMaxTimeLag use.
func (g Group) LagByTopic() []TopicLag {
	var out []TopicLag
	for _, p := range g.Partitions {
		if len(out) == 0 || out[len(out)-1].Topic != p.Topic {
			out = append(out, TopicLag{Topic: p.Topic, MaxTimeLagMs: -1})
		}
		t := &out[len(out)-1]
		t.SumLag += p.Lag
		t.MaxLag = max(t.MaxLag, p.Lag)
		t.MaxTimeLagMs = max(t.MaxTimeLagMs, p.TimeLagMs)
	}
	return out
}

// TopicLag is a group's lag on one topic.
type TopicLag struct {
	Topic        string
	SumLag       int64
	MaxLag       int64
	MaxTimeLagMs int64 // -1 when no partition had an estimate
}

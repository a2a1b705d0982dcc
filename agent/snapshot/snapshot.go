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
	// Storage is the log dirs' sizes as brokers answered DescribeLogDirs,
	// sorted by broker: the agent's own broker, and every broker when the
	// agent publishes the cluster-wide metrics.
	Storage []BrokerStorage

	Errors []SourceError // sources that failed this cycle
	Agent  AgentHealth   // the agent itself, as of the previous cycle
}

// SourceError is one source's failure in a cycle.
type SourceError struct {
	Source string // "broker_admin", "host", "kafka", "kafka_groups", "kafka_log_dirs"
	Err    string
}

// PublishesClusterMetrics says whether this agent is the one that
// publishes the cluster-wide metrics (global counts, offline partitions,
// consumer lag), which every agent sees but only one should send: an agent
// run with broker id −1, else the active controller's (by its broker's
// ActiveControllerCount, or the metadata's controller id without a broker
// admin endpoint).
func (s *Snapshot) PublishesClusterMetrics() bool {
	switch {
	case s.BrokerID < 0:
		return true
	case s.Broker != nil:
		return s.Broker.ActiveControllerCount >= 1
	default:
		return s.Cluster != nil && s.Cluster.ControllerID == s.BrokerID
	}
}

// DataLogsUsedPercent is MSK's KafkaDataLogsDiskUsed for the agent's
// broker: used ÷ provisioned × 100 from its DescribeLogDirs answer, or, for
// a broker that does not report sizes (Kafka before 3.3) or did not answer,
// the fullest filesystem holding a log dir (statfs). False when neither is
// known.
func (s *Snapshot) DataLogsUsedPercent() (float64, bool) {
	if own, ok := s.OwnStorage(); ok {
		if pct, ok := own.UsedPercent(); ok {
			return pct, true
		}
	}
	if s.Host == nil || len(s.Host.Disks) == 0 {
		return 0, false
	}
	used := 0.0
	for _, d := range s.Host.Disks {
		used = max(used, d.UsedPercent)
	}
	return used, true
}

// OwnStorage is the agent's own broker's storage, if it answered.
func (s *Snapshot) OwnStorage() (BrokerStorage, bool) {
	for _, b := range s.Storage {
		if b.BrokerID == s.BrokerID {
			return b, true
		}
	}
	return BrokerStorage{}, false
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
	// NetInterval sums every device's counter increases since the previous
	// collection (MSK's NetworkRxPackets and the like are counts per period).
	NetInterval NetCounts
	// TCP is /proc/net/snmp's connection openings; zero when it is missing.
	TCP TCPOpens
	// Disks holds one entry per distinct filesystem under the broker's
	// log dirs.
	Disks []Disk
	// RootDisk is the filesystem at the host's root (MSK's RootDiskUsed),
	// AppLogDisk the one holding the broker's application logs
	// (KafkaAppLogsDiskUsed); nil when statfs failed.
	RootDisk   *Disk
	AppLogDisk *Disk
}

// NetCounts is the increase of every device's counters over an interval.
type NetCounts struct {
	Valid                bool // false on the first collection
	RxBytes, TxBytes     uint64
	RxPackets, TxPackets uint64
	RxErrors, TxErrors   uint64
	RxDropped, TxDropped uint64
}

// TCPOpens is the kernel's count of TCP connections opened (Tcp
// ActiveOpens: SYN sent; PassiveOpens: SYN received and answered).
type TCPOpens struct {
	Valid                     bool // /proc/net/snmp was read
	ActiveOpens, PassiveOpens uint64
	// InInterval is both counters' increase since the previous collection
	// (MSK's TcpConnections); IntervalValid is false on the first.
	InInterval    uint64
	IntervalValid bool
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
	CachedBytes, BuffersBytes                        uint64 // the page cache; block-device buffers
	SwapTotalBytes, SwapFreeBytes                    uint64
}

// SwapUsedBytes is the swap in use.
func (m Memory) SwapUsedBytes() uint64 {
	if m.SwapFreeBytes > m.SwapTotalBytes {
		return 0
	}
	return m.SwapTotalBytes - m.SwapFreeBytes
}

// NetDevice is one network interface's counters and rates.
type NetDevice struct {
	Device                         string
	RxBytesTotal, TxBytesTotal     uint64
	RxBytesPerSec, TxBytesPerSec   float64 // 0 on the first collection
	RxPacketsTotal, TxPacketsTotal uint64
	RxErrorsTotal, TxErrorsTotal   uint64
	RxDroppedTotal, TxDroppedTotal uint64
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
	Path        string   // the path statted, for the root and application-log disks
	TotalBytes  uint64
	UsedBytes   uint64
	AvailBytes  uint64  // available to unprivileged users (statfs Bavail)
	UsedPercent float64 // Used / (Used + Avail) × 100, as df computes it
}

// Label is how exporters name the filesystem: its mount point, else the
// path statted or the first log dir.
func (d Disk) Label() string {
	switch {
	case d.MountPoint != "":
		return d.MountPoint
	case d.Path != "":
		return d.Path
	case len(d.LogDirs) > 0:
		return d.LogDirs[0]
	}
	return ""
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

	// ClientConnectionCount is the open connections but other brokers'
	// (MSK's ClientConnectionCount); valid when the broker exposes it.
	ClientConnectionCount float64
	ClientConnectionValid bool

	// Replication bytes per second: fetched by this broker's followers (in)
	// and sent to other brokers' followers (out); valid when exposed.
	ReplicationBytesInPerSec  float64
	ReplicationBytesOutPerSec float64
	ReplicationValid          bool

	// Requests holds each RequestMetrics name's phases over the interval
	// (Produce, Fetch, FetchConsumer, FetchFollower, Metadata, …); only
	// names the broker times phase by phase.
	Requests map[string]RequestPhases
	// RequestBytesMean is the mean request size; RequestTimeMsMean and
	// RequestExemptTimeMsMean the mean time the broker worked on a request
	// (decoding, handling but parked time, encoding, writing) for requests
	// a client quota could throttle and for those exempt from quotas
	// (followers' fetches, other brokers' requests); RequestThrottleTimeMsMean
	// the mean throttle time of the former. Valid when the broker times
	// request phases.
	RequestBytesMean          float64
	RequestTimeMsMean         float64
	RequestExemptTimeMsMean   float64
	RequestThrottleTimeMsMean float64
	RequestStatsValid         bool
	// ProduceRequestBytesPerSec is the rate of produce request bytes (the
	// byte rate Kafka's produce quota tracks).
	ProduceRequestBytesPerSec float64

	// Idle shares of the broker's processors, in percent, over the
	// interval (docs/METRICS.md defines them for Weir).
	RequestHandlerIdlePercent   float64
	RequestHandlerIdleValid     bool
	NetworkProcessorIdlePercent float64
	NetworkProcessorIdleValid   bool

	// Message format conversions per second, all topics (per topic in
	// Topics); valid when exposed.
	ProduceMessageConversionsPerSec float64
	FetchMessageConversionsPerSec   float64
	ConversionsValid                bool

	// ThrottleQueueSize is responses held back for a client quota, per
	// resource ("Produce", "Fetch", "Request"); nil when not exposed.
	ThrottleQueueSize map[string]float64

	// HeapLiveBytes is the heap the broker's last GC found live;
	// HeapLimitBytes its GOMEMLIMIT (0: none). HeapValid when exposed.
	HeapLiveBytes  float64
	HeapLimitBytes float64
	HeapValid      bool

	// Families is the scrape as parsed, for exporters that re-export the
	// broker's own series under its own names. Shared: do not modify.
	Families []*dto.MetricFamily
}

// RequestPhases is one kind of request's mean phase times over the
// interval, in milliseconds (RequestMetrics' TotalTimeMs and its parts).
// Zero when no request of the kind completed.
type RequestPhases struct {
	Count                             float64 // requests completed in the interval
	TotalMs                           float64
	RequestQueueMs, LocalMs, RemoteMs float64
	ResponseQueueMs, ResponseSendMs   float64
	ThrottleMs, MessageConversionsMs  float64
}

// TopicRates is one topic's traffic on this broker.
type TopicRates struct {
	Topic                           string
	BytesInPerSec                   float64
	BytesOutPerSec                  float64
	MessagesInPerSec                float64
	ProduceMessageConversionsPerSec float64
	FetchMessageConversionsPerSec   float64
}

// BrokerStorage is one broker's log dirs as DescribeLogDirs (v4, KIP-827)
// answered: Apache Kafka 3.3+ answers each dir's filesystem; Weir answers
// the storage provisioned for the broker.
type BrokerStorage struct {
	BrokerID int32
	LogDirs  []LogDirStorage
}

// LogDirStorage is one log dir's answer. TotalBytes and UsableBytes are
// −1 when the broker does not report them (before Kafka 3.3).
type LogDirStorage struct {
	Dir                     string
	TotalBytes, UsableBytes int64
	Err                     string // the dir's error (an offline dir), "" if none
}

// Known reports whether the broker reported sizes for its log dirs: at
// least one dir without an error, and none answering −1.
func (b BrokerStorage) Known() bool {
	ok := false
	for _, d := range b.LogDirs {
		switch {
		case d.Err != "":
		case d.TotalBytes < 0:
			return false
		default:
			ok = true
		}
	}
	return ok
}

// ProvisionedBytes sums the dirs' total bytes; UsedBytes their total −
// usable bytes (dirs with an error left out).
func (b BrokerStorage) ProvisionedBytes() int64 {
	var n int64
	for _, d := range b.LogDirs {
		if d.Err == "" && d.TotalBytes > 0 {
			n += d.TotalBytes
		}
	}
	return n
}

// UsedBytes is what the dirs use: total − usable, summed.
func (b BrokerStorage) UsedBytes() int64 {
	var n int64
	for _, d := range b.LogDirs {
		if d.Err == "" && d.TotalBytes > 0 {
			n += max(d.TotalBytes-max(d.UsableBytes, 0), 0)
		}
	}
	return n
}

// UsedPercent is used ÷ provisioned × 100 (MSK's KafkaDataLogsDiskUsed);
// false when the sizes are not known.
func (b BrokerStorage) UsedPercent() (float64, bool) {
	p := b.ProvisionedBytes()
	if !b.Known() || p <= 0 {
		return 0, false
	}
	return float64(b.UsedBytes()) / float64(p) * 100, true
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

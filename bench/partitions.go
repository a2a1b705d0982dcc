package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// PartitionsReport is the many-partitions section: how long a Weir cluster
// took to create them and what each broker holds resident afterwards.
type PartitionsReport struct {
	Target             int           `json:"target_partitions"`
	PartitionsPerTopic int           `json:"partitions_per_topic"`
	ReplicationFactor  int16         `json:"replication_factor"`
	Requests           int           `json:"create_requests"`
	Created            int           `json:"created_partitions"` // partitions of topics whose creation was acknowledged
	CreateElapsed      time.Duration `json:"create_ns"`
	SlowestRequest     time.Duration `json:"slowest_create_request_ns"`
	Led                int           `json:"led_partitions"`  // partitions with a leader when the wait ended
	LeadersWait        time.Duration `json:"leaders_wait_ns"` // after creation, until every one had a leader
	Produced           int64         `json:"produced_records"`
	ProduceElapsed     time.Duration `json:"produce_ns"`
	Brokers            []BrokerState `json:"brokers"`
	Logs               []LogDigest   `json:"logs"`
	Err                string        `json:"error,omitempty"`
}

// BrokerState is one broker's resident memory and open files at the
// section's three points.
type BrokerState struct {
	Node          int32   `json:"node"`
	Start         Memory  `json:"start"`           // right after startup
	Created       Memory  `json:"created"`         // after creation and leaders
	Produced      Memory  `json:"produced"`        // after one record per partition
	OpenFiles     int     `json:"open_files"`      // after the produce
	OpenFileLimit int64   `json:"open_file_limit"` // its soft RLIMIT_NOFILE
	IdleCPU       float64 `json:"idle_cpu_cores"`  // CPU used over idleWindow after the produce, in cores
}

// idleWindow is how long the section watches the brokers' CPU once the
// records are in: replication and housekeeping of idle partitions.
const idleWindow = 5 * time.Second

// partitionsSection creates Cluster.Partitions partitions on a fresh Weir
// cluster, waits until each has a leader, writes one record to each and
// reads every broker's memory.
func (o CompareOptions) partitionsSection(ctx context.Context, rep *CompareReport) error {
	n := o.Cluster.brokers()
	pr := &PartitionsReport{Target: o.Cluster.Partitions, PartitionsPerTopic: cmpOr(o.Cluster.PartitionsPerTopic, 100),
		ReplicationFactor: int16(min(3, n))}
	rep.ManyPartitions = pr
	c, err := o.startCluster(ctx, "weir", "weir-partitions", n)
	if err != nil {
		pr.Err = err.Error()
		return fmt.Errorf("partitions section: %w", err)
	}
	err = o.manyPartitions(ctx, c, pr)
	pr.Logs = DigestLogs(c.LogPaths()) // before the shutdown's own noise
	c.Stop()
	if err != nil {
		pr.Err = err.Error()
		return fmt.Errorf("partitions section: %w", err)
	}
	return nil
}

func (o CompareOptions) manyPartitions(ctx context.Context, c *Cluster, pr *PartitionsReport) error {
	pr.Brokers = make([]BrokerState, len(c.Members))
	if err := c.readStates(pr.Brokers, func(b *BrokerState) *Memory { return &b.Start }); err != nil {
		return err
	}
	adm, err := newAdmin(c.Bootstrap())
	if err != nil {
		return err
	}
	defer adm.Close()
	adm.SetTimeoutMillis(int32(o.startTimeout().Milliseconds()))
	topics, err := o.createTopics(ctx, adm, pr)
	if err != nil {
		return err
	}
	if err := o.awaitLeaders(ctx, adm, topics, pr); err != nil {
		return err
	}
	if err := c.readStates(pr.Brokers, func(b *BrokerState) *Memory { return &b.Created }); err != nil {
		return err
	}
	if err := o.produceToEach(ctx, c.Bootstrap(), topics, pr); err != nil {
		return err
	}
	if err := c.readStates(pr.Brokers, func(b *BrokerState) *Memory { return &b.Produced }); err != nil {
		return err
	}
	return c.measureIdleCPU(ctx, pr.Brokers)
}

// measureIdleCPU reads each broker's CPU time across idleWindow.
func (c *Cluster) measureIdleCPU(ctx context.Context, states []BrokerState) error {
	before := make([]time.Duration, len(c.Members))
	for i, m := range c.Members {
		before[i] = cpuTime(m.Pid())
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(idleWindow):
	}
	elapsed := time.Since(start)
	for i, m := range c.Members {
		states[i].IdleCPU = float64(cpuTime(m.Pid())-before[i]) / float64(elapsed)
	}
	return nil
}

// createTopics creates the topics TopicsPerRequest at a time and stops at
// the first request that fails; it returns the topics created.
func (o CompareOptions) createTopics(ctx context.Context, adm *kadm.Client, pr *PartitionsReport) ([]string, error) {
	per := int32(pr.PartitionsPerTopic)
	total := (pr.Target + pr.PartitionsPerTopic - 1) / pr.PartitionsPerTopic
	batch := cmpOr(o.Cluster.TopicsPerRequest, 10)
	fmt.Fprintf(o.Progress, "weir-partitions: creating %d topics x %d partitions (RF %d), %d topics a request\n", total, per, pr.ReplicationFactor, batch)
	var created []string
	start := time.Now()
	defer func() { pr.CreateElapsed = time.Since(start) }()
	for first := 0; first < total; first += batch {
		names := topicNames(first, min(first+batch, total))
		for attempt := 1; len(names) > 0; attempt++ {
			retry, err := o.createBatch(ctx, adm, names, pr, &created, start)
			if err != nil || (len(retry) > 0 && attempt == 5) {
				if err == nil {
					err = fmt.Errorf("topic %s still failing after %d attempts", retry[0], attempt)
				}
				return created, fmt.Errorf("creating topics %s..%s after %d partitions: %w", names[0], names[len(names)-1], pr.Created, err)
			}
			names = retry
		}
	}
	return created, nil
}

// createBatch sends one CreateTopics for names and returns the ones to
// send again: those refused with a retriable error (NOT_CONTROLLER when
// the quorum elected another controller under load). A topic a retry
// finds already there was created by the attempt before.
func (o CompareOptions) createBatch(ctx context.Context, adm *kadm.Client, names []string, pr *PartitionsReport, created *[]string, start time.Time) ([]string, error) {
	per := int32(pr.PartitionsPerTopic)
	t0 := time.Now()
	resps, err := adm.CreateTopics(ctx, per, pr.ReplicationFactor, nil, names...)
	took := time.Since(t0)
	pr.Requests++
	pr.SlowestRequest = max(pr.SlowestRequest, took)
	var retry []string
	for _, r := range resps.Sorted() {
		switch {
		case r.Err == nil || errors.Is(r.Err, kerr.TopicAlreadyExists):
			*created = append(*created, r.Topic)
			pr.Created += int(per)
		case kerr.IsRetriable(r.Err):
			retry = append(retry, r.Topic)
		case err == nil:
			err = fmt.Errorf("topic %s: %w (%s)", r.Topic, r.Err, r.ErrMessage)
		}
	}
	fmt.Fprintf(o.Progress, "weir-partitions: %d partitions created (request %d took %s, %s in all; %d topics to retry)\n",
		pr.Created, pr.Requests, fmtLatency(took), fmtLatency(time.Since(start)), len(retry))
	return retry, err
}

func topicNames(from, to int) []string {
	names := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		names = append(names, fmt.Sprintf("weir-bench-parts-%04d", i))
	}
	return names
}

// awaitLeaders polls metadata until every partition of topics has a
// leader.
func (o CompareOptions) awaitLeaders(ctx context.Context, adm *kadm.Client, topics []string, pr *PartitionsReport) error {
	start := time.Now()
	defer func() { pr.LeadersWait = time.Since(start) }()
	for {
		md, err := adm.Metadata(ctx, topics...)
		if err == nil {
			pr.Led = countLed(md.Topics)
			if pr.Led >= pr.Created {
				return nil
			}
		}
		if time.Since(start) > o.startTimeout() {
			return fmt.Errorf("%d of %d partitions have a leader after %s (last metadata error: %v)", pr.Led, pr.Created, o.startTimeout(), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func countLed(topics kadm.TopicDetails) int {
	n := 0
	for _, t := range topics {
		for _, p := range t.Partitions {
			if p.Err == nil && p.Leader >= 0 {
				n++
			}
		}
	}
	return n
}

// produceToEach writes one small record to every partition of topics,
// acks=all, and waits for every acknowledgement.
func (o CompareOptions) produceToEach(ctx context.Context, brokers, topics []string, pr *PartitionsReport) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(pr.Target+1))
	if err != nil {
		return fmt.Errorf("creating producer client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, o.startTimeout())
	defer cancel()
	start := time.Now()
	var records []*kgo.Record
	for _, t := range topics {
		for p := range int32(pr.PartitionsPerTopic) {
			records = append(records, &kgo.Record{Topic: t, Partition: p, Value: []byte("one")})
		}
	}
	results := cl.ProduceSync(ctx, records...)
	pr.ProduceElapsed = time.Since(start)
	for _, r := range results {
		if r.Err == nil {
			pr.Produced++
		}
	}
	fmt.Fprintf(o.Progress, "weir-partitions: %d of %d records acknowledged in %s\n", pr.Produced, len(records), fmtLatency(pr.ProduceElapsed))
	if err := results.FirstErr(); err != nil {
		return fmt.Errorf("producing one record to each partition: %d failed, the first with: %w", len(records)-int(pr.Produced), err)
	}
	return nil
}

// readStates reads every broker's memory into the field at picks, and its
// open files.
func (c *Cluster) readStates(states []BrokerState, pick func(*BrokerState) *Memory) error {
	for i, m := range c.Members {
		st := &states[i]
		st.Node = int32(i + 1)
		mem, err := ReadMemory(m.Pid())
		if err != nil {
			return err
		}
		*pick(st) = mem
		st.OpenFiles = countOpenFiles(m.Pid())
		st.OpenFileLimit = openFileLimit(m.Pid())
	}
	return nil
}

// countOpenFiles counts /proc/<pid>/fd, -1 if it cannot be read.
func countOpenFiles(pid int) int {
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		return -1
	}
	return len(ents)
}

// openFileLimit reads the soft "Max open files" of pid, -1 if unknown.
func openFileLimit(pid int) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "limits"))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				if v, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return v
				}
			}
		}
	}
	return -1
}

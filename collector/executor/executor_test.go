package executor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/collector/executor"
	"github.com/weirhq/weir/collector/model"
	"github.com/weirhq/weir/internal/await"
)

func TestMain(m *testing.M) { brokertest.Main(m) }

// TestExecutor runs the executor against one 4-broker cluster shared by
// the subtests; each uses its own topics.
func TestExecutor(t *testing.T) {
	c := brokertest.StartCluster(t, 4, brokertest.Options{})
	env := &testEnv{c: c, adm: kadm.NewClient(c.Client(t, kgo.MetadataMinAge(10*time.Millisecond)))}
	t.Run("ReplicasOntoBroker4", env.testReplicasOntoBroker4)
	t.Run("LeadershipOnly", env.testLeadershipOnly)
	t.Run("BadMove", env.testBadMove)
	t.Run("StopAndBusy", env.testStopAndBusy)
	t.Run("Recovery", env.testRecovery)
	t.Run("RecoveryNothingInFlight", env.testRecoveryNothingInFlight)
}

type testEnv struct {
	c   *brokertest.Cluster
	adm *kadm.Client
}

func testConfig() executor.Config {
	cfg := executor.DefaultConfig()
	cfg.ProgressCheckInterval = 100 * time.Millisecond
	return cfg
}

// start runs an executor until the test ends (or the returned cancel),
// and waits until it has recovered.
func (env *testEnv) start(t *testing.T, cfg executor.Config) (*executor.Executor, context.CancelFunc) {
	e, _, stop := env.startWithRegistry(t, cfg)
	return e, stop
}

func (env *testEnv) startWithRegistry(t *testing.T, cfg executor.Config) (*executor.Executor, *prometheus.Registry, context.CancelFunc) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	e := executor.New(env.adm, cfg, logger, reg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { // owned: cancel and wait below
		defer close(done)
		if err := e.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return e, reg, stop
}

// metric returns the value of the series name{labels} in reg.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var got []string
			for _, l := range m.GetLabel() {
				got = append(got, l.GetName(), l.GetValue())
			}
			if !slices.Equal(got, labels) {
				continue
			}
			switch {
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

// setBrokerConfig sets (value non-nil) or deletes a dynamic config of broker.
func (env *testEnv) setBrokerConfig(t *testing.T, broker int32, name string, value *string) {
	t.Helper()
	op := kadm.SetConfig
	if value == nil {
		op = kadm.DeleteConfig
	}
	if err := executor.AlterErr(env.adm.AlterBrokerConfigs(ctxFor(t), []kadm.AlterConfig{{Op: op, Name: name, Value: value}}, broker)); err != nil {
		t.Fatal(err)
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// execute calls Execute once recovery is over.
func execute(t *testing.T, e *executor.Executor, req executor.Request) {
	t.Helper()
	await.For(t, 30*time.Second, "Execute accepted", func() error { return e.Execute(req) })
}

func wait(t *testing.T, e *executor.Executor, id string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return e.Wait(ctx, id)
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// createTopic creates topic with explicit replica assignments.
func (env *testEnv) createTopic(t *testing.T, topic string, assignment ...[]int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	for i, replicas := range assignment {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = int32(i), replicas
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctxFor(t), env.c.Client(t))
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].ErrorCode; code != 0 {
		t.Fatalf("create %s: error %d %v", topic, code, resp.Topics[0].ErrorMessage)
	}
	await.For(t, 30*time.Second, "full ISR of "+topic, func() error {
		md, err := env.adm.Metadata(context.Background(), topic)
		if err != nil {
			return err
		}
		for i, want := range assignment {
			p := md.Topics[topic].Partitions[int32(i)]
			if len(p.ISR) != len(want) || p.Leader != want[0] {
				return fmt.Errorf("partition %d: leader %d ISR %v", i, p.Leader, p.ISR)
			}
		}
		return nil
	})
}

// fill writes n bytes (1 KiB records) into each of partitions.
func (env *testEnv) fill(t *testing.T, topic string, partitions int32, n int) {
	t.Helper()
	cl := env.c.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RequiredAcks(kgo.AllISRAcks()))
	value := make([]byte, 1024)
	var recs []*kgo.Record
	for p := range partitions {
		for range n / len(value) {
			recs = append(recs, &kgo.Record{Partition: p, Value: value})
		}
	}
	if err := cl.ProduceSync(ctxFor(t), recs...).FirstErr(); err != nil {
		t.Fatalf("filling %s: %v", topic, err)
	}
}

func (env *testEnv) partition(t *testing.T, topic string, p int32) kadm.PartitionDetail {
	t.Helper()
	md, err := env.adm.Metadata(ctxFor(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	return md.Topics[topic].Partitions[p]
}

// throttleConfigs returns the dynamic throttle configs of a broker ("1")
// or a topic.
func (env *testEnv) throttleConfigs(t *testing.T, broker int32, topic string) map[string]string {
	t.Helper()
	var got map[string]map[string]string
	var err error
	if topic == "" {
		got, err = executor.DynamicConfigs(ctxFor(t), env.adm, kmsg.ConfigSourceDynamicBrokerConfig, []string{fmt.Sprint(broker)})
		if err == nil {
			return got[fmt.Sprint(broker)]
		}
	} else {
		got, err = executor.DynamicConfigs(ctxFor(t), env.adm, kmsg.ConfigSourceDynamicTopicConfig, []string{topic})
	}
	if err != nil {
		t.Fatal(err)
	}
	return got[topic]
}

// noThrottles waits until brokers 1–4 have no throttle rate and topic
// lists exactly wantLeader and wantFollower (config changes reach the
// broker that answers through the metadata log, a moment later).
func (env *testEnv) noThrottles(t *testing.T, topic, wantLeader, wantFollower string) {
	t.Helper()
	await.For(t, 10*time.Second, "throttles removed", func() error {
		for b := int32(1); b <= 4; b++ {
			if got := env.throttleConfigs(t, b, ""); len(got) > 0 {
				return fmt.Errorf("broker %d still has throttle configs %v", b, got)
			}
		}
		got := env.throttleConfigs(t, 0, topic)
		if got[executor.LeaderReplicas] != wantLeader || got[executor.FollowerReplicas] != wantFollower {
			return fmt.Errorf("topic %s throttled replicas %v, want leader %q follower %q", topic, got, wantLeader, wantFollower)
		}
		return nil
	})
}

func (env *testEnv) noReassignments(t *testing.T, topic string, partitions ...int32) {
	t.Helper()
	s := kadm.TopicsSet{}
	for _, p := range partitions {
		s.Add(topic, p)
	}
	listed, err := env.adm.ListPartitionReassignments(ctxFor(t), s)
	if err != nil || len(listed) > 0 {
		t.Errorf("reassignments still listed: %v (%v)", listed, err)
	}
}

func move(topic string, p int32, old, new []int32, size float64) model.Move {
	return model.Move{Topic: topic, Partition: p, OldReplicas: old, NewReplicas: new, OldLeader: old[0], Size: size}
}

// testReplicasOntoBroker4 moves a replica of every partition onto broker
// 4 under a throttle and a per-broker limit of 2, with an operator's
// throttled-replica entry on the topic that must survive.
func (env *testEnv) testReplicasOntoBroker4(t *testing.T) {
	const topic, size = "onto4", 256 << 10
	env.createTopic(t, topic, []int32{1, 2}, []int32{2, 3}, []int32{3, 1}, []int32{1, 2})
	env.fill(t, topic, 4, size)
	if err := executor.AlterErr(env.adm.AlterTopicConfigs(ctxFor(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: executor.LeaderReplicas, Value: kadm.StringPtr("3:3")}}, topic)); err != nil {
		t.Fatal(err)
	}
	// An operator's rate on broker 1: overridden during, restored after.
	const operatorRate = "10000000"
	env.setBrokerConfig(t, 1, executor.LeaderRate, kadm.StringPtr(operatorRate))
	await.True(t, 10*time.Second, "broker 1 sees its own rate", func() bool {
		return env.throttleConfigs(t, 1, "")[executor.LeaderRate] == operatorRate
	})
	cfg := testConfig()
	cfg.ConcurrentPartitionMovementsPerBroker = 2
	cfg.ReplicationThrottle = 512 << 10
	e, reg, _ := env.startWithRegistry(t, cfg)
	moves := []model.Move{
		move(topic, 0, []int32{1, 2}, []int32{4, 2}, size),
		move(topic, 1, []int32{2, 3}, []int32{2, 4}, size),
		move(topic, 2, []int32{3, 1}, []int32{3, 4}, size),
		move(topic, 3, []int32{1, 2}, []int32{1, 4}, size),
	}
	execute(t, e, executor.Request{TaskID: "onto4", Moves: moves})

	// Throttles are on while the moves run; the per-broker limit holds.
	peak := 0
	await.For(t, 30*time.Second, "throttles set during the execution", func() error {
		peak = max(peak, inFlightOn(e.State(), 4))
		if e.State().Phase == executor.PhaseIdle {
			t.Fatalf("the execution ended before its throttles were seen: %+v", e.State())
		}
		rates, lists := env.throttleConfigs(t, 4, ""), env.throttleConfigs(t, 0, topic)
		if rates[executor.FollowerRate] != fmt.Sprint(512<<10) || rates[executor.LeaderRate] != fmt.Sprint(512<<10) {
			return fmt.Errorf("broker 4 rates %v", rates)
		}
		if l := executor.SplitList(lists[executor.LeaderReplicas]); !slices.Contains(l, "3:3") || !slices.Contains(l, "0:1") {
			return fmt.Errorf("leader list %v", l)
		}
		if !slices.Contains(executor.SplitList(lists[executor.FollowerReplicas]), "0:4") {
			return fmt.Errorf("follower list %v", lists[executor.FollowerReplicas])
		}
		return nil
	})
	for e.State().Phase != executor.PhaseIdle {
		peak = max(peak, inFlightOn(e.State(), 4))
		time.Sleep(await.Every) // sampling the state while it runs, not waiting for an event
	}
	if err := wait(t, e, "onto4"); err != nil {
		t.Fatalf("execution: %v", err)
	}
	s := e.State()
	if s.Partitions.Completed != 4 || s.Partitions.Total != 4 || s.DataMoved != 4*size || s.DataRemaining != 0 {
		t.Errorf("final state %+v", s)
	}
	if s.PeakBrokerMoves != 2 || peak > 2 {
		t.Errorf("peak moves on one broker: %d by the executor, %d seen on broker 4; limit 2", s.PeakBrokerMoves, peak)
	}
	for _, m := range moves {
		p := env.partition(t, topic, m.Partition)
		if !executor.SameSet(p.Replicas, m.NewReplicas) {
			t.Errorf("%s: replicas %v, want %v", m.Name(), p.Replicas, m.NewReplicas)
		}
	}
	if p := env.partition(t, topic, 0); p.Leader != 4 {
		t.Errorf("partition 0 leader %d, want 4", p.Leader)
	}
	await.For(t, 10*time.Second, "broker 1's own rate restored", func() error {
		if got := env.throttleConfigs(t, 1, ""); len(got) != 1 || got[executor.LeaderRate] != operatorRate {
			return fmt.Errorf("broker 1 throttle configs %v, want only %s=%s", got, executor.LeaderRate, operatorRate)
		}
		return nil
	})
	env.setBrokerConfig(t, 1, executor.LeaderRate, nil)
	env.noThrottles(t, topic, "3:3", "")
	for name, want := range map[string]float64{
		"weir_collector_execution_bytes_moved_total": 4 * size, "weir_collector_execution_running": 0,
		"weir_collector_execution_moves_in_flight": 0, "weir_collector_execution_bytes_remaining": 0,
	} {
		if got := metric(t, reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := metric(t, reg, "weir_collector_execution_partitions", "state", "completed"); got != 4 {
		t.Errorf("completed partitions metric %v, want 4", got)
	}
}

// inFlightOn counts the moves in flight that add or remove broker b.
func inFlightOn(s executor.State, b int32) int {
	n := 0
	for _, m := range s.InFlight {
		if slices.Contains(m.From, b) != slices.Contains(m.To, b) {
			n++
		}
	}
	return n
}

// testLeadershipOnly reorders replica sets: the same brokers, another
// preferred leader.
func (env *testEnv) testLeadershipOnly(t *testing.T) {
	const topic = "lead"
	env.createTopic(t, topic, []int32{1, 2, 3}, []int32{1, 2, 3})
	e, _ := env.start(t, testConfig())
	moves := []model.Move{
		move(topic, 0, []int32{1, 2, 3}, []int32{2, 1, 3}, 0),
		move(topic, 1, []int32{1, 2, 3}, []int32{3, 2, 1}, 0),
	}
	if err := wait(t, e, "lead"); err == nil || !strings.Contains(err.Error(), "no such task") {
		t.Errorf("Wait before Execute: %v", err)
	}
	execute(t, e, executor.Request{TaskID: "lead", Moves: moves})
	if err := wait(t, e, "lead"); err != nil {
		t.Fatalf("execution: %v (state %+v)", err, e.State())
	}
	for _, m := range moves {
		p := env.partition(t, topic, m.Partition)
		if !slices.Equal(p.Replicas, m.NewReplicas) || p.Leader != m.NewLeader() {
			t.Errorf("%s: replicas %v leader %d, want %v led by %d", m.Name(), p.Replicas, p.Leader, m.NewReplicas, m.NewLeader())
		}
	}
	if s := e.State(); s.Leaders.Completed != 2 || s.Partitions.Total != 0 {
		t.Errorf("final state %+v", s)
	}
}

// testBadMove sends one move to an unknown broker: it is dead with the
// broker's error, the other completes.
func (env *testEnv) testBadMove(t *testing.T) {
	const topic = "bad"
	env.createTopic(t, topic, []int32{1, 2}, []int32{1, 2})
	e, _ := env.start(t, testConfig())
	if err := e.Execute(executor.Request{Moves: []model.Move{move(topic, 0, []int32{1, 2}, []int32{1, 1}, 0)}}); err == nil || errors.Is(err, executor.ErrBusy) {
		t.Fatalf("a duplicate broker: Execute = %v, want a validation error", err)
	}
	moves := []model.Move{
		move(topic, 0, []int32{1, 2}, []int32{1, 99}, 0),
		move(topic, 1, []int32{1, 2}, []int32{1, 3}, 0),
		move("no-such-topic", 0, []int32{1}, []int32{2}, 0),
	}
	execute(t, e, executor.Request{TaskID: "bad", Moves: moves})
	err := wait(t, e, "bad")
	if err == nil || !strings.Contains(err.Error(), "2 partition movements dead") {
		t.Fatalf("execution: %v, want 2 dead", err)
	}
	s := e.State()
	if s.Partitions.Completed != 1 || s.Partitions.Dead != 2 || len(s.Failures) != 2 {
		t.Fatalf("final state %+v", s)
	}
	for _, f := range s.Failures {
		want := map[string]string{"bad-0": "INVALID_REPLICA_ASSIGNMENT", "no-such-topic-0": "UNKNOWN_TOPIC_OR_PARTITION"}[f.Partition]
		if want == "" || !strings.Contains(f.Error, want) {
			t.Errorf("failure %+v, want %s", f, want)
		}
	}
	if p := env.partition(t, topic, 1); !executor.SameSet(p.Replicas, []int32{1, 3}) {
		t.Errorf("bad-1 replicas %v", p.Replicas)
	}
	if p := env.partition(t, topic, 0); !executor.SameSet(p.Replicas, []int32{1, 2}) {
		t.Errorf("bad-0 replicas %v", p.Replicas)
	}
}

// testStopAndBusy stops a slow execution: the reassignments in flight are
// cancelled, the throttles removed; Execute meanwhile is refused.
func (env *testEnv) testStopAndBusy(t *testing.T) {
	const topic, size = "slow", 1 << 20
	env.createTopic(t, topic, []int32{1, 2}, []int32{2, 1})
	env.fill(t, topic, 2, size)
	cfg := testConfig()
	cfg.ReplicationThrottle = 50 << 10
	e, _ := env.start(t, cfg)
	moves := []model.Move{
		move(topic, 0, []int32{1, 2}, []int32{3, 2}, size),
		move(topic, 1, []int32{2, 1}, []int32{2, 4}, size),
	}
	execute(t, e, executor.Request{TaskID: "slow", Moves: moves})
	await.True(t, 30*time.Second, "moves in flight", func() bool { return len(e.State().InFlight) == 2 })
	err := e.Execute(executor.Request{TaskID: "other", Moves: []model.Move{move(topic, 0, []int32{1, 2}, []int32{1, 3}, 0)}})
	if !errors.Is(err, executor.ErrBusy) || !strings.Contains(err.Error(), "slow") {
		t.Fatalf("Execute while busy: %v, want executor.ErrBusy naming task slow", err)
	}
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, e, "slow"); !errors.Is(err, executor.ErrStopped) {
		t.Fatalf("stopped execution: %v, want executor.ErrStopped", err)
	}
	if err := e.Stop(); !errors.Is(err, executor.ErrNotRunning) {
		t.Errorf("Stop when idle: %v", err)
	}
	env.noReassignments(t, topic, 0, 1)
	for _, m := range moves {
		p := env.partition(t, topic, m.Partition)
		if !executor.SameSet(p.Replicas, m.OldReplicas) && !executor.SameSet(p.Replicas, m.NewReplicas) {
			t.Errorf("%s: replicas %v after the stop", m.Name(), p.Replicas)
		}
	}
	if s := e.State(); s.Partitions.Aborted+s.Partitions.Completed != 2 || s.Partitions.Aborted == 0 {
		t.Errorf("final state %+v", s)
	}
	env.noThrottles(t, topic, "", "")
}

// testRecovery ends an executor's Run mid-execution (a crash: no Stop);
// a new executor with the same state file adopts the moves in flight,
// finishes them and removes the throttles.
func (env *testEnv) testRecovery(t *testing.T) {
	const topic, size = "crash", 1 << 20
	env.createTopic(t, topic, []int32{1, 2})
	env.fill(t, topic, 1, size)
	// A slow reassignment an operator started (throttled by hand): the
	// executors must report it as external and leave it alone.
	const ext = "ext"
	env.createTopic(t, ext, []int32{1, 2})
	env.fill(t, ext, 1, size)
	env.setBrokerConfig(t, 4, executor.FollowerRate, kadm.StringPtr(fmt.Sprint(50<<10)))
	if err := executor.AlterErr(env.adm.AlterTopicConfigs(ctxFor(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: executor.FollowerReplicas, Value: kadm.StringPtr("0:4")}}, ext)); err != nil {
		t.Fatal(err)
	}
	resp, err := env.adm.AlterPartitionAssignments(ctxFor(t), kadm.AlterPartitionAssignmentsReq{ext: {0: {4, 2}}})
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("external reassignment: %v", err)
	}

	cfg := testConfig()
	cfg.ReplicationThrottle = 300 << 10
	cfg.StateFile = filepath.Join(t.TempDir(), "execution.json")
	first, crash := env.start(t, cfg)
	m := move(topic, 0, []int32{1, 2}, []int32{3, 1}, size)
	execute(t, first, executor.Request{TaskID: "crash", Moves: []model.Move{m}})
	await.True(t, 30*time.Second, "the move in flight", func() bool { return len(first.State().InFlight) == 1 })
	crash()

	if _, err := os.Stat(cfg.StateFile); err != nil {
		t.Fatalf("state file after the crash: %v", err)
	}
	if got := env.throttleConfigs(t, 3, ""); got[executor.FollowerRate] == "" {
		t.Fatalf("throttle gone after the crash: %v", got)
	}
	second, _ := env.start(t, cfg)
	// The adopted task shows as running before Recovering turns false:
	// no reader (the anomaly detector) sees an idle executor in between.
	await.True(t, 30*time.Second, "recovery over", func() bool { return !second.State().Recovering })
	if s := second.State(); s.TaskID != "crash" && s.LastTaskID != "crash" {
		t.Fatalf("recovered, yet the adopted task is neither running nor finished: %+v", s)
	}
	if err := wait(t, second, "crash"); err != nil {
		t.Fatalf("adopted execution: %v", err)
	}
	if p := env.partition(t, topic, 0); !slices.Equal(p.Replicas, m.NewReplicas) || p.Leader != 3 {
		t.Errorf("replicas %v leader %d, want %v led by 3", p.Replicas, p.Leader, m.NewReplicas)
	}
	if s := second.State(); s.Partitions.Completed != 1 || !slices.Equal(s.External, []string{"ext-0"}) {
		t.Errorf("final state %+v, want external [ext-0]", s)
	}
	listed, err := env.adm.ListPartitionReassignments(ctxFor(t), kadm.TopicsSet{ext: {0: {}}})
	if err != nil || len(listed) != 1 {
		t.Errorf("the external reassignment: listed %v (%v), want still in flight", listed, err)
	}
	if got := env.throttleConfigs(t, 4, ""); got[executor.FollowerRate] != fmt.Sprint(50<<10) {
		t.Errorf("broker 4's own rate: %v", got)
	}
	if _, err := env.adm.AlterPartitionAssignments(ctxFor(t), kadm.AlterPartitionAssignmentsReq{ext: {0: nil}}); err != nil {
		t.Fatal(err)
	}
	env.setBrokerConfig(t, 4, executor.FollowerRate, nil)
	env.noThrottles(t, topic, "", "")
	if _, err := os.Stat(cfg.StateFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file after the adopted execution: %v", err)
	}
}

// testRecoveryNothingInFlight starts an executor on a state file whose
// execution has nothing in flight any more: the throttles it records are
// removed, an operator's entry beside them kept, the file deleted.
func (env *testEnv) testRecoveryNothingInFlight(t *testing.T) {
	const topic = "leftover"
	env.createTopic(t, topic, []int32{2, 3})
	env.setBrokerConfig(t, 2, executor.LeaderRate, kadm.StringPtr("1000"))
	env.setBrokerConfig(t, 2, executor.FollowerRate, kadm.StringPtr("1000"))
	if err := executor.AlterErr(env.adm.AlterTopicConfigs(ctxFor(t), []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: executor.LeaderReplicas, Value: kadm.StringPtr("0:2,0:3,0:9")},
		{Op: kadm.SetConfig, Name: executor.FollowerReplicas, Value: kadm.StringPtr("0:1")},
	}, topic)); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.StateFile = filepath.Join(t.TempDir(), "execution.json")
	state := `{"version": 1, "task_id": "gone", "started": "2026-01-01T00:00:00Z",
		"moves": [{"Topic": "leftover", "Partition": 0, "OldReplicas": [1, 2], "NewReplicas": [2, 3], "OldLeader": 1, "Size": 0}],
		"throttles": {"rate": 1000, "brokers": [{"broker": 2}],
			"topics": [{"topic": "leftover", "leader": ["0:2", "0:3"], "follower": ["0:1"]}]}}`
	if err := os.WriteFile(cfg.StateFile, []byte(state), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _ := env.start(t, cfg)
	await.True(t, 30*time.Second, "the state file removed", func() bool {
		_, err := os.Stat(cfg.StateFile)
		return errors.Is(err, os.ErrNotExist)
	})
	env.noThrottles(t, topic, "0:9", "")
	// The state says what the restart cut off: the recorded task, and that
	// its moves were not restarted.
	if s := e.State(); s.Phase != executor.PhaseIdle || s.Recovering || s.LastTaskID != "gone" || !strings.Contains(s.LastResult, "interrupted by a collector restart") {
		t.Errorf("state after recovery %+v", s)
	}
}

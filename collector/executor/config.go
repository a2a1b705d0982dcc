package executor

import (
	"errors"
	"fmt"
	"time"

	"github.com/weirhq/weir/collector/model"
)

// Config holds the executor's defaults, named after Cruise Control's
// properties; a Request may override the limits for one execution.
type Config struct {
	// ConcurrentPartitionMovementsPerBroker bounds the replica moves in
	// flight that count against one broker
	// (num.concurrent.partition.movements.per.broker).
	ConcurrentPartitionMovementsPerBroker int
	// MaxClusterPartitionMovements bounds the replica moves in flight in
	// the whole cluster (max.num.cluster.partition.movements).
	MaxClusterPartitionMovements int
	// ConcurrentLeaderMovements is the size of one leader election batch
	// (num.concurrent.leader.movements).
	ConcurrentLeaderMovements int
	// ReplicationThrottle is the replication throttle in bytes/s set on
	// every broker a move involves (default.replication.throttle); 0 sets
	// none.
	ReplicationThrottle int64
	// ProgressCheckInterval is how often progress is polled
	// (execution.progress.check.interval.ms).
	ProgressCheckInterval time.Duration
	// StateFile records the running execution (its moves and the
	// throttles it set) so that a restarted collector knows which
	// reassignments and throttles are its own; "" keeps it in memory.
	StateFile string
}

// DefaultConfig returns Cruise Control's defaults, with a 1s progress
// check (Cruise Control polls every 10s).
func DefaultConfig() Config {
	return Config{
		ConcurrentPartitionMovementsPerBroker: 5,
		MaxClusterPartitionMovements:          1250,
		ConcurrentLeaderMovements:             1000,
		ProgressCheckInterval:                 time.Second,
	}
}

// withDefaults fills the zero fields of c from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.ConcurrentPartitionMovementsPerBroker <= 0 {
		c.ConcurrentPartitionMovementsPerBroker = d.ConcurrentPartitionMovementsPerBroker
	}
	if c.MaxClusterPartitionMovements <= 0 {
		c.MaxClusterPartitionMovements = d.MaxClusterPartitionMovements
	}
	if c.ConcurrentLeaderMovements <= 0 {
		c.ConcurrentLeaderMovements = d.ConcurrentLeaderMovements
	}
	if c.ProgressCheckInterval <= 0 {
		c.ProgressCheckInterval = d.ProgressCheckInterval
	}
	return c
}

// Request is one execution: a proposal's moves and, optionally, limits
// for this execution only.
type Request struct {
	// TaskID names the execution (Cruise Control's user task id); ""
	// gets a generated one.
	TaskID string
	Moves  []model.Move
	// 0 takes the Config's value.
	ConcurrentPartitionMovementsPerBroker int
	MaxClusterPartitionMovements          int
	ConcurrentLeaderMovements             int
	// ReplicationThrottle in bytes/s: 0 takes the Config's, -1 sets none.
	ReplicationThrottle int64
}

// limits are the effective limits of one execution.
type limits struct {
	perBroker, cluster, leaders int
	throttle                    int64 // bytes/s; 0: none
}

// limitsFor merges r's overrides into c.
func (c Config) limitsFor(r Request) limits {
	l := limits{
		perBroker: pick(r.ConcurrentPartitionMovementsPerBroker, c.ConcurrentPartitionMovementsPerBroker),
		cluster:   pick(r.MaxClusterPartitionMovements, c.MaxClusterPartitionMovements),
		leaders:   pick(r.ConcurrentLeaderMovements, c.ConcurrentLeaderMovements),
		throttle:  c.ReplicationThrottle,
	}
	switch {
	case r.ReplicationThrottle < 0:
		l.throttle = 0
	case r.ReplicationThrottle > 0:
		l.throttle = r.ReplicationThrottle
	}
	return l
}

func pick(override, def int) int {
	if override > 0 {
		return override
	}
	return def
}

// validate checks every move before anything touches the cluster: a
// target replica set that is non-empty and names no broker twice, and at
// most one move per partition.
func validate(moves []model.Move) error {
	if len(moves) == 0 {
		return errors.New("no moves")
	}
	seen := make(map[string]bool, len(moves))
	for i := range moves {
		m := &moves[i]
		if err := validateMove(m); err != nil {
			return err
		}
		if seen[m.Name()] {
			return fmt.Errorf("move %d: partition %s is moved twice", i, m.Name())
		}
		seen[m.Name()] = true
	}
	return nil
}

func validateMove(m *model.Move) error {
	if m.Topic == "" || m.Partition < 0 {
		return fmt.Errorf("move of %s: no topic or a negative partition", m.Name())
	}
	if len(m.NewReplicas) == 0 {
		return fmt.Errorf("move of %s: no new replicas", m.Name())
	}
	if dup, ok := duplicate(m.NewReplicas); ok {
		return fmt.Errorf("move of %s: broker %d twice in new replicas %v", m.Name(), dup, m.NewReplicas)
	}
	return nil
}

func duplicate(ids []int32) (int32, bool) {
	seen := make(map[int32]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return id, true
		}
		seen[id] = true
	}
	return 0, false
}

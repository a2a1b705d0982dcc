package planner

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/weirhq/weir/collector/model"
)

func twoBrokers(states ...model.BrokerState) *model.Cluster {
	c := &model.Cluster{}
	for i, st := range states {
		c.Brokers = append(c.Brokers, model.Broker{ID: int32(i + 1), Rack: string(rune('a' + i)), State: st,
			Capacity: model.Load{10, 1000, 1000, 1000}})
	}
	c.Partitions = []model.Partition{{Topic: "t", Replicas: []int32{1, 2}, Leader: 1, Load: model.PartitionLoad{Size: 900}}}
	return c
}

func TestPlanErrors(t *testing.T) {
	alive := twoBrokers(model.Alive, model.Alive)
	for _, tc := range []struct {
		name  string
		c     *model.Cluster
		o     Options
		check func(err error) bool
	}{
		{"unknown goal lists the known ones", alive, Options{Goals: []string{"Nope"}}, func(err error) bool {
			var ge *GoalError
			return errors.As(err, &ge) && slices.Equal(ge.Unknown, []string{"Nope"}) && len(ge.Known) == len(registry)
		}},
		{"hard goals missing", alive, Options{Goals: []string{"ReplicaDistributionGoal"}}, func(err error) bool {
			var ge *GoalError
			return errors.As(err, &ge) && len(ge.Missing) == 6
		}},
		{"unplaceable partitions are listed", twoBrokers(model.Alive, model.Dead), Options{}, func(err error) bool {
			var ue *UnplaceableError
			return errors.As(err, &ue) && slices.Equal(ue.Partitions, []string{"t-0"})
		}},
		{"unsatisfiable hard goal refuses the proposal", alive, Options{Goals: []string{"DiskCapacityGoal"}, SkipHardGoalCheck: true},
			func(err error) bool {
				var he *HardGoalError
				return errors.As(err, &he) && he.Goal == "DiskCapacityGoal"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Plan(tc.c, tc.o)
			if p != nil || !tc.check(err) {
				t.Fatalf("Plan = %v, %v", p, err)
			}
		})
	}
}

func TestConfigSet(t *testing.T) {
	c := DefaultConfig()
	for k, v := range map[string]string{
		"disk.balance.threshold": "1.2", "cpu.capacity.threshold": "0.5", "network.outbound.low.utilization.threshold": "0.1",
		"max.replicas.per.broker": "7", "default.goals": "RackAwareGoal, DiskCapacityGoal",
		"topic.replica.count.balance.threshold": "2", "leader.replica.count.balance.threshold": "1.3",
	} {
		if err := c.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if c.BalanceThreshold[model.Disk] != 1.2 || c.CapacityThreshold[model.CPU] != 0.5 ||
		c.LowUtilizationThreshold[model.NetworkOut] != 0.1 || c.MaxReplicasPerBroker != 7 ||
		len(c.DefaultGoals) != 2 || c.TopicReplicaCountBalanceThreshold != 2 || c.LeaderReplicaCountBalanceThreshold != 1.3 {
		t.Fatalf("config not set: %+v", c)
	}
	for k, v := range map[string]string{"disk.balance.treshold": "1", "max.replicas.per.broker": "x", "default.goals": "Nope"} {
		if err := c.Set(k, v); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("Set(%q, %q) = %v, want an error naming the key", k, v, err)
		}
	}
}

func TestGoalsInPriorityOrder(t *testing.T) {
	goals := Goals()
	if len(goals) != 15 || goals[0].Name != "RackAwareGoal" || !goals[5].Hard || goals[6].Hard {
		t.Fatalf("Goals() = %v", goals)
	}
}

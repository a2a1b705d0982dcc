package planner

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/weirhq/weir/collector/model"
	"github.com/weirhq/weir/internal/ddtest"
)

// TestScripts runs the scripts in testdata: one file per goal and per
// broker-state mode. Commands:
//
//	cluster
//	brokers 1-3 racks=(a,b,c) cpu=10 in=100 out=100 disk=1000 [state=dead]
//	broker 4 rack=a cpu=10 in=100 out=100 disk=1000 [state=new]
//	partition t-0 replicas=(1,2) [leader=2] size=100 in=10 out=5 cpu=1 fcpu=0.5
//	----
//	(the brokers' loads)
//
//	plan goals=(Goal,...) [exclude=regexp] [dest=(1,2)] [hard-goal-check] [set=(key:value,...)] [loads]
//	----
//	(the moves, each goal's status, data to move, and with loads the brokers after)
//
// Loads are in base units; capacities likewise. Unless hard-goal-check is
// given, a goal list need not name every hard goal.
func TestScripts(t *testing.T) {
	ddtest.Walk(t, "testdata", func(*testing.T) ddtest.Handler {
		var c *model.Cluster
		return func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "cluster":
				var err error
				if c, err = parseCluster(d.Input); err != nil {
					return "error: " + err.Error()
				}
				return renderLoads(c)
			case "plan":
				return runPlan(t, c, d)
			}
			return ddtest.Unknown(t, d)
		}
	})
}

func runPlan(t *testing.T, c *model.Cluster, d *datadriven.TestData) string {
	o := Options{Config: DefaultConfig(), SkipHardGoalCheck: !d.HasArg("hard-goal-check")}
	for _, a := range d.CmdArgs {
		switch a.Key {
		case "goals":
			o.Goals = a.Vals
		case "exclude":
			o.ExcludedTopics = regexp.MustCompile(a.Vals[0])
		case "dest":
			for _, v := range a.Vals {
				o.DestinationBrokers = append(o.DestinationBrokers, int32(ddtest.Atoi(t, v)))
			}
		case "set":
			for _, kv := range a.Vals {
				k, v, _ := strings.Cut(kv, ":")
				if err := o.Config.Set(k, v); err != nil {
					return "error: " + err.Error()
				}
			}
		}
	}
	p, err := Plan(c, o)
	if err != nil {
		return fmt.Sprintf("error: %v\n", err)
	}
	out := renderProposal(p)
	if d.HasArg("loads") {
		after, _ := model.Apply(c, p.Moves)
		out += "after:\n" + renderLoads(after)
	}
	return out
}

func renderProposal(p *model.Proposal) string {
	var b strings.Builder
	for _, m := range p.Moves {
		fmt.Fprintf(&b, "%s: %v -> %v", m.Name(), m.OldReplicas, m.NewReplicas)
		if m.MovesLeader() {
			fmt.Fprintf(&b, " leader %d -> %d", m.OldLeader, m.NewLeader())
		}
		b.WriteString("\n")
	}
	if len(p.Moves) == 0 {
		b.WriteString("no moves\n")
	}
	for _, g := range p.Goals {
		fmt.Fprintf(&b, "%s: %s (%.0f -> %.0f)\n", g.Goal, g.Status, g.Before, g.After)
	}
	fmt.Fprintf(&b, "data to move: %g (lower bound %g)\n", p.DataToMove, p.LowerBound)
	return b.String()
}

func renderLoads(c *model.Cluster) string {
	var b strings.Builder
	for i, l := range c.BrokerLoads() {
		br := &c.Brokers[i]
		fmt.Fprintf(&b, "%d %s %s: replicas=%d leaders=%d", br.ID, br.Rack, br.State, l.Replicas, l.Leaders)
		for _, r := range model.Resources {
			fmt.Fprintf(&b, " %s=%g", shortName[r], l.Load[r])
		}
		b.WriteString("\n")
	}
	return b.String()
}

var shortName = [model.NumResources]string{"cpu", "in", "out", "disk"}

func parseCluster(input string) (*model.Cluster, error) {
	c := &model.Cluster{}
	for _, line := range strings.Split(input, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		kv := keyValues(fields[2:])
		var err error
		switch fields[0] {
		case "broker":
			err = addBrokers(c, fields[1], kv)
		case "brokers":
			err = addBrokers(c, fields[1], kv)
		case "partition":
			err = addPartition(c, fields[1], kv)
		default:
			err = fmt.Errorf("unknown line %q", line)
		}
		if err != nil {
			return nil, err
		}
	}
	c.Sort()
	return c, c.Validate()
}

func keyValues(fields []string) map[string]string {
	kv := map[string]string{}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		kv[k] = strings.Trim(v, "()")
	}
	return kv
}

// addBrokers adds broker "4" or brokers "1-6", racks assigned round robin.
func addBrokers(c *model.Cluster, ids string, kv map[string]string) error {
	lo, hi, found := strings.Cut(ids, "-")
	if !found {
		hi = lo
	}
	first, err1 := strconv.Atoi(lo)
	last, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("bad broker ids %q", ids)
	}
	racks := strings.Split(kv["rack"]+kv["racks"], ",")
	state, err := parseState(kv["state"])
	for id := first; id <= last && err == nil; id++ {
		b := model.Broker{ID: int32(id), Rack: racks[(id-first)%len(racks)], State: state}
		for r, name := range shortName {
			b.Capacity[r], err = parseFloat(kv[name])
		}
		c.Brokers = append(c.Brokers, b)
	}
	return err
}

func parseState(s string) (model.BrokerState, error) {
	for st := model.Alive; st <= model.Removing; st++ {
		if strings.EqualFold(st.String(), s) || s == "" {
			return st, nil
		}
	}
	return 0, fmt.Errorf("unknown broker state %q", s)
}

func addPartition(c *model.Cluster, name string, kv map[string]string) error {
	i := strings.LastIndexByte(name, '-')
	n, err := strconv.Atoi(name[i+1:])
	if i < 0 || err != nil {
		return fmt.Errorf("bad partition name %q", name)
	}
	p := model.Partition{Topic: name[:i], Partition: int32(n), Leader: -2}
	for _, r := range strings.Split(kv["replicas"], ",") {
		id, err := strconv.Atoi(r)
		if err != nil {
			return fmt.Errorf("%s: bad replicas %q", name, kv["replicas"])
		}
		p.Replicas = append(p.Replicas, int32(id))
	}
	p.Leader = p.Replicas[0]
	if l, ok := kv["leader"]; ok {
		id, _ := strconv.Atoi(l)
		p.Leader = int32(id)
	}
	l := &p.Load
	for _, f := range []struct {
		key string
		v   *float64
	}{{"size", &l.Size}, {"in", &l.BytesIn}, {"out", &l.BytesOut}, {"cpu", &l.LeaderCPU}, {"fcpu", &l.FollowerCPU}} {
		if *f.v, err = parseFloat(kv[f.key]); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	c.Partitions = append(c.Partitions, p)
	return nil
}

func parseFloat(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.ParseFloat(s, 64)
}

package policy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/weirhq/weir/internal/ddtest"
)

// TestScripts runs the scripts in testdata on a fake clock: t=… is the time
// since Monday 2026-01-05 00:00 UTC. Commands:
//
//	policy                      a policy file; prints ok or its refusals
//	<yaml>
//	----
//	cluster brokers=3 [state=ACTIVE] [storage=100GiB] [operation=op-1]
//	                            the control plane's view; storage sets every
//	                            broker's provisioned size
//	metrics from=0s to=10m every=1m [brokers=(1,2)] [cpu=80] [in=10MiB]
//	        [out=10MiB] [partitions=100] [leaders=30] [used=50GiB]
//	                            samples for each broker (all by default);
//	                            unset values carry over from its last sample
//	decide t=10m                the decision at t
//	apply t=10m                 take the last decision's actions: sizes and
//	                            count change, the history records them
//
// Run with -rewrite to regenerate the expected output.
func TestScripts(t *testing.T) {
	ddtest.Walk(t, "testdata", func(*testing.T) ddtest.Handler {
		s := &script{in: Input{Cluster: Cluster{State: Active, Provisioned: map[int32]int64{}}, Metrics: map[int32][]Sample{}}}
		return s.run
	})
}

type script struct {
	in   Input
	last Decision
}

var clock = ddtest.Clock{Epoch: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)} // a Monday

func (s *script) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "policy":
		p, err := Parse([]byte(d.Input), "policy.yaml")
		if err != nil {
			return err.Error() + "\n"
		}
		s.in.Policy = p
		return "ok\n"
	case "cluster":
		s.cluster(t, d)
		return ""
	case "metrics":
		s.metrics(t, d)
		return ""
	case "decide":
		s.in.Now = clock.At(t, d, "t")
		s.last = Decide(s.in)
		return render(s.last)
	case "apply":
		return s.apply(t, d)
	}
	return ddtest.Unknown(t, d)
}

func (s *script) cluster(t *testing.T, d *datadriven.TestData) {
	s.in.Cluster.Operation = ""
	for _, a := range d.CmdArgs {
		switch a.Key {
		case "brokers":
			s.in.Cluster.Brokers = ddtest.Atoi(t, a.Vals[0])
		case "state":
			s.in.Cluster.State = a.Vals[0]
		case "operation":
			s.in.Cluster.Operation = a.Vals[0]
		case "storage":
			for b := 1; b <= s.in.Cluster.Brokers; b++ {
				s.in.Cluster.Provisioned[int32(b)] = size(t, a.Vals[0])
			}
		default:
			t.Fatalf("%s: unknown argument %s", d.Pos, a.Key)
		}
	}
}

func (s *script) metrics(t *testing.T, d *datadriven.TestData) {
	from, to, every := clock.At(t, d, "from"), clock.At(t, d, "to"), clock.At(t, d, "every").Sub(clock.Epoch)
	var brokers []int32
	for b := 1; b <= s.in.Cluster.Brokers; b++ {
		brokers = append(brokers, int32(b))
	}
	for _, a := range d.CmdArgs {
		if a.Key == "brokers" {
			brokers = brokers[:0]
			for _, v := range a.Vals {
				brokers = append(brokers, int32(ddtest.Atoi(t, v)))
			}
		}
	}
	for _, b := range brokers {
		for ts := from; !ts.After(to); ts = ts.Add(every) {
			smp := Sample{}
			if ss := s.in.Metrics[b]; len(ss) > 0 {
				smp = ss[len(ss)-1]
			}
			smp.At = ts
			setSample(t, d, &smp)
			s.in.Metrics[b] = append(s.in.Metrics[b], smp)
		}
	}
}

func setSample(t *testing.T, d *datadriven.TestData, smp *Sample) {
	for _, a := range d.CmdArgs {
		v := a.Vals[0]
		switch a.Key {
		case "cpu":
			smp.CPUPercent = float64(ddtest.Atoi(t, v))
		case "in":
			smp.NetworkIn = float64(size(t, v))
		case "out":
			smp.NetworkOut = float64(size(t, v))
		case "partitions":
			smp.Partitions = ddtest.Atoi(t, v)
		case "leaders":
			smp.Leaders = ddtest.Atoi(t, v)
		case "used":
			smp.StorageUsed = size(t, v)
		case "from", "to", "every", "brokers":
		default:
			t.Fatalf("%s: unknown argument %s", d.Pos, a.Key)
		}
	}
}

func (s *script) apply(t *testing.T, d *datadriven.TestData) string {
	now := clock.At(t, d, "t")
	var sb strings.Builder
	for _, a := range s.last.Actions {
		r := Record{Kind: a.Kind, At: now, Brokers: a.Brokers, From: s.in.Cluster.Brokers, To: a.BrokerCount}
		s.in.History = append(s.in.History, r)
		switch a.Kind {
		case GrowStorage:
			for _, b := range a.Brokers {
				s.in.Cluster.Provisioned[b] = a.StorageBytes
			}
		case SetBrokerCount:
			s.resize(a.BrokerCount)
		}
		fmt.Fprintf(&sb, "applied: %s\n", a)
	}
	if sb.Len() == 0 {
		return "nothing to apply\n"
	}
	return sb.String()
}

// resize adds brokers (with the first broker's size, no metrics yet) or
// removes the highest ids.
func (s *script) resize(n int) {
	for b := s.in.Cluster.Brokers + 1; b <= n; b++ {
		s.in.Cluster.Provisioned[int32(b)] = s.in.Cluster.Provisioned[1]
	}
	for b := n + 1; b <= s.in.Cluster.Brokers; b++ {
		delete(s.in.Cluster.Provisioned, int32(b))
		delete(s.in.Metrics, int32(b))
	}
	s.in.Cluster.Brokers = n
}

func render(d Decision) string {
	var sb strings.Builder
	for _, a := range d.Actions {
		fmt.Fprintf(&sb, "%s\n", a)
	}
	for _, h := range d.Holds {
		fmt.Fprintf(&sb, "%s\n", h)
	}
	if sb.Len() == 0 {
		return "no change\n"
	}
	return sb.String()
}

func size(t *testing.T, s string) int64 {
	n, err := ParseBytes(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

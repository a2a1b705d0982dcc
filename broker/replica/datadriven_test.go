package replica

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/weirhq/weir/internal/ddtest"
)

// TestScripts runs the scripts in testdata against one Partition on a fake
// clock (t=… is the time since the script's start; a command without t=
// happens when the last one did). Commands, each printing the partition's
// state after it (role, epochs, ISR and maximal ISR, high watermark,
// whether it is known, each follower's log end offset as the leader knows
// it, a pending ISR change):
//
//	new self=1 [hw=40]              a hosted partition not yet serving
//	                                (hw: the checkpoint)
//	leader epoch=3 pepoch=7 replicas=(1,2,3) isr=(1,2,3) leo=100 [hw=40] [t=…]
//	follower leader=2 epoch=4 pepoch=8 replicas=(1,2,3) isr=(1,2,3) leo=100
//	                                metadata naming this broker leader or
//	                                follower; both print "stale" instead
//	                                when the assignment is older than the
//	                                one applied, as the server skips it
//	stop                            the partition left this broker
//	fetch replica=2 offset=100 leo=100 [t=…]
//	                                a follower's fetch at offset while the
//	                                leader's log end offset is leo
//	append leo=120                  a local append on the leader
//	leader-hw hw=80 leo=70          a follower's fetch response
//	truncated leo=50                the local log was truncated
//	next-isr [t=…] [lag=30s] [ineligible=(3)]
//	                                the ISR change the leader asks for now
//	committed isr=(1,2) epoch=3 pepoch=8 [t=…]
//	                                the controller's answer to it
//	failed [t=…]                    the change was rejected or not sent
//
// Run with -rewrite to regenerate the expected output.
func TestScripts(t *testing.T) {
	ddtest.Walk(t, "testdata", func(*testing.T) ddtest.Handler {
		s := &replicaScript{clock: ddtest.Clock{Epoch: t0}, now: t0}
		return s.run
	})
}

type replicaScript struct {
	clock ddtest.Clock
	now   time.Time
	p     *Partition
}

func (s *replicaScript) run(t *testing.T, d *datadriven.TestData) string {
	s.now = s.clock.MaybeAt(t, d, "t", s.now)
	if d.Cmd != "new" && s.p == nil {
		t.Fatalf("%s: %s before new", d.Pos, d.Cmd)
	}
	switch d.Cmd {
	case "new":
		var self int32
		var hw int64
		d.ScanArgs(t, "self", &self)
		s.p = New(self)
		if d.MaybeScanArgs(t, "hw", &hw) {
			s.p.SetHighWatermark(hw)
		}
	case "leader", "follower":
		if out, ok := s.assign(t, d); !ok {
			return out
		}
	case "stop":
		s.p.Stop()
	case "fetch":
		var replica int32
		var offset, leo int64
		d.ScanArgs(t, "replica", &replica)
		d.ScanArgs(t, "offset", &offset)
		d.ScanArgs(t, "leo", &leo)
		return moved(s.p.FollowerFetch(replica, offset, leo, s.now)) + s.state()
	case "append":
		return moved(s.p.LocalAppend(scanInt64(t, d, "leo"))) + s.state()
	case "leader-hw":
		s.p.FollowerHighWatermark(scanInt64(t, d, "hw"), scanInt64(t, d, "leo"))
	case "truncated":
		s.p.Truncated(scanInt64(t, d, "leo"))
	case "next-isr":
		return s.nextISR(t, d) + s.state()
	case "committed":
		var isr []int32
		var epoch, pepoch int32
		d.ScanArgs(t, "isr", &isr)
		d.ScanArgs(t, "epoch", &epoch)
		d.ScanArgs(t, "pepoch", &pepoch)
		s.p.ISRCommitted(isr, epoch, pepoch, s.now)
	case "failed":
		s.p.ISRChangeFailed(s.now)
	default:
		return ddtest.Unknown(t, d)
	}
	return s.state()
}

// assign applies a leader or follower assignment unless it is stale.
func (s *replicaScript) assign(t *testing.T, d *datadriven.TestData) (string, bool) {
	a := Assignment{Leader: s.p.self}
	d.MaybeScanArgs(t, "leader", &a.Leader)
	d.ScanArgs(t, "epoch", &a.LeaderEpoch)
	d.ScanArgs(t, "pepoch", &a.PartitionEpoch)
	d.ScanArgs(t, "replicas", &a.Replicas)
	d.ScanArgs(t, "isr", &a.ISR)
	if s.p.Stale(a) {
		return "stale: not applied\n" + s.state(), false
	}
	leo := scanInt64(t, d, "leo")
	if d.Cmd == "leader" {
		var hw int64
		d.MaybeScanArgs(t, "hw", &hw)
		s.p.BecomeLeader(a, leo, hw, s.now)
	} else {
		s.p.BecomeFollower(a, leo)
	}
	return "", true
}

func (s *replicaScript) nextISR(t *testing.T, d *datadriven.TestData) string {
	lag := 30 * time.Second
	d.MaybeScanArgs(t, "lag", &lag)
	var ineligible []int32
	d.MaybeScanArgs(t, "ineligible", &ineligible)
	eligible := func(r int32) bool {
		for _, x := range ineligible {
			if x == r {
				return false
			}
		}
		return true
	}
	ch, ok := s.p.NextISRChange(s.now, lag, eligible)
	if !ok {
		return "no change\n"
	}
	return fmt.Sprintf("propose isr=%v at epoch %d/%d\n", ch.ISR, ch.LeaderEpoch, ch.PartitionEpoch)
}

func (s *replicaScript) state() string {
	p := s.p
	var b strings.Builder
	a := p.Assignment()
	fmt.Fprintf(&b, "%s leader=%d epoch=%d/%d isr=%v", p.Role(), a.Leader, a.LeaderEpoch, a.PartitionEpoch, a.ISR)
	if p.pendingISR != nil {
		fmt.Fprintf(&b, " pending=%v maximal=%v", p.pendingISR, p.MaximalISR())
	}
	fmt.Fprintf(&b, " hw=%d", p.HighWatermark())
	if !p.HighWatermarkKnown() {
		fmt.Fprintf(&b, " (unknown until %d)", p.epochStart)
	}
	if p.Role() == Leader {
		b.WriteString(" followers:")
		for _, r := range a.Replicas {
			if r != p.self {
				fmt.Fprintf(&b, " %d=%d", r, p.FollowerLEO(r))
			}
		}
	}
	return b.String() + "\n"
}

func moved(advanced bool) string {
	if advanced {
		return "hw advanced\n"
	}
	return ""
}

func scanInt64(t *testing.T, d *datadriven.TestData, key string) int64 {
	var v int64
	d.ScanArgs(t, key, &v)
	return v
}

package quorum

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/broker/acl"
	"github.com/weirhq/weir/broker/sasl"
	"github.com/weirhq/weir/internal/ddtest"
)

// TestScripts runs the scripts in testdata against the controller's pure
// decisions and the commands' deterministic apply, with no raft: each
// command is encoded and applied at the next index, as the log would, and
// every image must keep checkInvariants. A command prints "ok" or its
// error as "error CODE: what was being done", then what changed: brokers
// (id, rack, epoch, fenced), partitions (leader, leader/partition epochs,
// replicas, ISR, adding/removing). Commands:
//
//	register id=1 [rack=a] [inc=x]     RegisterBroker (inc defaults to inc-<id>)
//	unfence id=1 [epoch=3]             UnfenceBroker
//	fence id=1 [epoch=3]               FenceBroker (also what a heartbeat with
//	                                   WantShutdown proposes: controlled shutdown)
//	unregister id=1                    UnregisterBroker
//	heartbeat id=1 epoch=3 [caught-up] OnHeartbeat, then its command applied
//	beat id=1 t=0s                     a heartbeat reaches the tracker
//	expire t=3s [timeout=2s]           FenceExpired, its commands applied
//	place n=6 rf=3 [start=0]           PlaceReplicas over the live brokers
//	create name=t [unclean] [id=9]     CreateTopic (id=0: the zero id), one replica
//	                                   list a line:
//	1 2 3
//	add-partitions topic=t             CreatePartitions, likewise
//	delete name=t                      DeleteTopic
//	alter topic=t p=0 isr=(1,2) [broker=1] [epoch=0] [pepoch=1] [broker-epoch=3] [topic-id=9]
//	                                   AlterPartition from a leader (broker and
//	                                   epochs default to the current ones)
//	reassign topic=t p=0 replicas=(4,5,6) | reassign topic=t p=0 cancel
//	complete topic=t p=0               CompleteReassignment
//	elect type=preferred|unclean partitions=(t-0,t-1)
//	steps current=(1,2,3) target=(3,4) ReassignmentSteps
//	pids broker=1 [epoch=3]            AllocateProducerIDs
//	init id=abc                        InitCluster
//	image                              every broker and partition
//	reset                              an empty image and tracker
//	next-pid id=N                      the next producer id (to reach the end)
//	alter-scram                        AlterScramCredentials, an alteration a line:
//	upsert alice SCRAM-SHA-256 4096 pw   (salt "salt-<user>"; "-" is an empty
//	delete bob SCRAM-SHA-512             password, giving empty keys)
//	describe-scram [users=(a,b)]       DescribeScram
//	create-acls                        CreateACLs, a binding a line (acl.ParseBinding)
//	delete-acls                        DeleteACLs, a filter a line (acl.ParseFilter)
//
// Run with -rewrite to regenerate the expected output.
func TestScripts(t *testing.T) {
	ddtest.Walk(t, "testdata", func(t *testing.T) ddtest.Handler {
		s := &quorumScript{b: newBuilder(t), clock: ddtest.Clock{Epoch: time.Unix(1_000_000, 0)},
			hb: NewHeartbeatTracker()}
		return s.run
	})
}

type quorumScript struct {
	b     *builder
	clock ddtest.Clock
	hb    *HeartbeatTracker
}

func (s *quorumScript) run(t *testing.T, d *datadriven.TestData) string {
	s.b.t = t
	switch d.Cmd {
	case "register":
		c := RegisterBroker{IncarnationID: "", Host: "127.0.0.1", Port: 9092}
		d.ScanArgs(t, "id", &c.ID)
		c.IncarnationID = fmt.Sprintf("inc-%d", c.ID)
		d.MaybeScanArgs(t, "rack", &c.Rack)
		d.MaybeScanArgs(t, "inc", &c.IncarnationID)
		return s.apply(c)
	case "unfence":
		c := UnfenceBroker{}
		d.ScanArgs(t, "id", &c.ID)
		d.MaybeScanArgs(t, "epoch", &c.Epoch)
		return s.apply(c)
	case "fence":
		c := FenceBroker{}
		d.ScanArgs(t, "id", &c.ID)
		d.MaybeScanArgs(t, "epoch", &c.Epoch)
		return s.apply(c)
	case "unregister":
		c := UnregisterBroker{}
		d.ScanArgs(t, "id", &c.ID)
		s.hb.Forget(c.ID)
		return s.apply(c)
	case "heartbeat":
		return s.heartbeat(t, d)
	case "beat":
		var id int32
		d.ScanArgs(t, "id", &id)
		s.hb.Beat(id, s.clock.At(t, d, "t"))
		return ""
	case "expire":
		return s.expire(t, d)
	case "place":
		return s.place(t, d)
	case "create":
		return s.create(t, d)
	case "add-partitions":
		c := CreatePartitions{Assignment: assignment(t, d)}
		d.ScanArgs(t, "topic", &c.Topic)
		return s.apply(c)
	case "delete":
		c := DeleteTopic{}
		d.ScanArgs(t, "name", &c.Name)
		return s.apply(c)
	case "alter":
		return s.alter(t, d)
	case "reassign":
		c := Reassign{}
		d.ScanArgs(t, "topic", &c.Topic)
		d.ScanArgs(t, "p", &c.Partition)
		if a, _ := d.Arg("replicas"); len(a.Vals) == 1 && a.Vals[0] == "" {
			c.Replicas = []int32{} // replicas=(): an empty target, not a cancel
		} else if !d.HasArg("cancel") {
			d.ScanArgs(t, "replicas", &c.Replicas)
		}
		return s.apply(c)
	case "complete":
		c := CompleteReassignment{}
		d.ScanArgs(t, "topic", &c.Topic)
		d.ScanArgs(t, "p", &c.Partition)
		return s.apply(c)
	case "elect":
		return s.elect(t, d)
	case "steps":
		var cur, target []int32
		d.ScanArgs(t, "current", &cur)
		d.ScanArgs(t, "target", &target)
		r, a, rm := ReassignmentSteps(cur, target)
		return fmt.Sprintf("replicas=%v adding=%v removing=%v\n", r, a, rm)
	case "pids":
		c := AllocateProducerIDs{}
		d.ScanArgs(t, "broker", &c.BrokerID)
		d.MaybeScanArgs(t, "epoch", &c.BrokerEpoch)
		return s.apply(c)
	case "init":
		c := InitCluster{}
		d.ScanArgs(t, "id", &c.ClusterID)
		return s.apply(c)
	case "image":
		return renderImage(s.b.img)
	case "next-pid":
		// Only a test can get near the end of the producer id space: set
		// the image's next id directly (the builder owns this image).
		d.ScanArgs(t, "id", &s.b.img.NextProducerID)
		return ""
	case "reset":
		s.b, s.hb = newBuilder(t), NewHeartbeatTracker()
		return ""
	case "alter-scram", "describe-scram", "create-acls", "delete-acls":
		return s.security(t, d)
	}
	return ddtest.Unknown(t, d)
}

// apply applies c at the next index and renders its outcome.
func (s *quorumScript) apply(c Command) string {
	before := s.b.img
	v, err := s.b.do(c)
	if err != nil {
		return renderErr(err) + "\n"
	}
	return "ok" + renderValue(v) + "\n" + renderDiff(before, s.b.img)
}

func (s *quorumScript) heartbeat(t *testing.T, d *datadriven.TestData) string {
	var id int32
	var epoch int64
	d.ScanArgs(t, "id", &id)
	d.ScanArgs(t, "epoch", &epoch)
	c, err := OnHeartbeat(s.b.img, id, epoch, d.HasArg("caught-up"))
	switch {
	case err != nil:
		return renderErr(err) + "\n"
	case c == nil:
		return "nothing to do\n"
	}
	return fmt.Sprintf("%s %+v: ", c.Op(), c) + s.apply(c)
}

func (s *quorumScript) expire(t *testing.T, d *datadriven.TestData) string {
	timeout := 2 * time.Second
	d.MaybeScanArgs(t, "timeout", &timeout)
	cmds := FenceExpired(s.b.img, s.hb, s.clock.At(t, d, "t"), timeout)
	if len(cmds) == 0 {
		return "nothing expired\n"
	}
	var b strings.Builder
	for _, c := range cmds {
		fmt.Fprintf(&b, "%s %+v: %s", c.Op(), c, s.apply(c))
	}
	return b.String()
}

func (s *quorumScript) place(t *testing.T, d *datadriven.TestData) string {
	var n, rf, start int
	d.ScanArgs(t, "n", &n)
	d.ScanArgs(t, "rf", &rf)
	d.MaybeScanArgs(t, "start", &start)
	out, err := PlaceReplicas(s.b.img, n, rf, start)
	if err != nil {
		return renderErr(err) + "\n"
	}
	var b strings.Builder
	for i, replicas := range out {
		var racks []string
		for _, r := range replicas {
			racks = append(racks, s.b.img.Brokers[r].Rack)
		}
		fmt.Fprintf(&b, "%d: %v racks=%v\n", i, replicas, racks)
	}
	return b.String()
}

func (s *quorumScript) create(t *testing.T, d *datadriven.TestData) string {
	c := CreateTopic{ID: testTopicID(), Assignment: assignment(t, d)}
	d.ScanArgs(t, "name", &c.Name)
	var id byte
	if d.MaybeScanArgs(t, "id", &id) {
		c.ID = TopicID{1, id}
		if id == 0 {
			c.ID = TopicID{} // id=0: the zero id, never valid
		}
	}
	if d.HasArg("unclean") {
		c.Configs = map[string]string{"unclean.leader.election.enable": "true"}
	}
	return s.apply(c)
}

func (s *quorumScript) alter(t *testing.T, d *datadriven.TestData) string {
	c := AlterPartition{}
	d.ScanArgs(t, "topic", &c.Topic)
	d.ScanArgs(t, "p", &c.Partition)
	// Left out, the leader, leader epoch and partition epoch are the
	// current ones: the request a leader in good standing sends.
	if p, ok := s.b.img.Partition(c.Topic, c.Partition); ok {
		c.BrokerID, c.LeaderEpoch, c.PartitionEpoch = p.Leader, p.LeaderEpoch, p.PartitionEpoch
	}
	d.MaybeScanArgs(t, "broker", &c.BrokerID)
	d.MaybeScanArgs(t, "epoch", &c.LeaderEpoch)
	d.MaybeScanArgs(t, "pepoch", &c.PartitionEpoch)
	d.ScanArgs(t, "isr", &c.ISR)
	d.MaybeScanArgs(t, "broker-epoch", &c.BrokerEpoch)
	var id byte
	if d.MaybeScanArgs(t, "topic-id", &id) {
		c.TopicID = TopicID{1, id}
	}
	return s.apply(c)
}

func (s *quorumScript) elect(t *testing.T, d *datadriven.TestData) string {
	var typ string
	var names []string
	d.ScanArgs(t, "type", &typ)
	d.ScanArgs(t, "partitions", &names)
	c := ElectLeaders{Type: map[string]ElectionType{"preferred": ElectPreferred, "unclean": ElectUnclean}[typ]}
	if typ != "preferred" && typ != "unclean" {
		c.Type = 7
	}
	for _, n := range names {
		i := strings.LastIndex(n, "-")
		c.Partitions = append(c.Partitions, TopicPartition{Topic: n[:i], Partition: int32(ddtest.Atoi(t, n[i+1:]))})
	}
	return s.apply(c)
}

// assignment reads one replica list a line.
func assignment(t *testing.T, d *datadriven.TestData) [][]int32 {
	var out [][]int32
	for _, l := range ddtest.Lines(d.Input) {
		out = append(out, ddtest.Int32s(t, strings.Fields(l)))
	}
	return out
}

// renderErr names the Kafka error code an error wraps and what was done.
func renderErr(err error) string {
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return "error: " + err.Error()
	}
	return "error " + ke.Message + ": " + strings.TrimSuffix(err.Error(), ": "+ke.Error())
}

func renderValue(v any) string {
	switch v := v.(type) {
	case RegisterResult:
		return fmt.Sprintf(": epoch %d", v.Epoch)
	case ProducerIDBlock:
		return fmt.Sprintf(": producer ids [%d, %d)", v.First, v.First+int64(v.Size))
	case []UserResult:
		var b strings.Builder
		for _, r := range v {
			fmt.Fprintf(&b, "\n  user %q: ", r.User)
			if r.Err != nil {
				b.WriteString(renderErr(r.Err))
			} else {
				b.WriteString("ok")
			}
		}
		return b.String()
	case []error:
		var b strings.Builder
		for i, err := range v {
			if err != nil {
				fmt.Fprintf(&b, "\n  %d: %s", i, renderErr(err))
			}
		}
		return b.String()
	case []DeleteACLsResult:
		var b strings.Builder
		for i, r := range v {
			fmt.Fprintf(&b, "\n  filter %d: ", i)
			if r.Err != nil {
				b.WriteString(renderErr(r.Err))
				continue
			}
			fmt.Fprintf(&b, "deleted %d", len(r.Deleted))
			for _, d := range r.Deleted {
				fmt.Fprintf(&b, "\n    %s", d)
			}
		}
		return b.String()
	case []ElectionResult:
		var b strings.Builder
		for _, r := range v {
			fmt.Fprintf(&b, "\n  %s-%d: ", r.Topic, r.Partition)
			if r.Err != nil {
				b.WriteString(renderErr(r.Err))
			} else {
				fmt.Fprintf(&b, "leader %d", r.Leader)
			}
		}
		return b.String()
	}
	return ""
}

// renderDiff lists the brokers and partitions that differ between two
// images, as they are after.
func renderDiff(before, after *Image) string {
	was, is := imageLines(before), imageLines(after)
	var b strings.Builder
	for _, k := range sortedKeys(was, is) {
		switch {
		case is[k] == "":
			fmt.Fprintf(&b, "  %s: gone\n", k)
		case was[k] != is[k]:
			fmt.Fprintf(&b, "  %s: %s\n", k, is[k])
		}
	}
	if before.ClusterID != after.ClusterID {
		fmt.Fprintf(&b, "  cluster id: %s\n", after.ClusterID)
	}
	return b.String()
}

func renderImage(img *Image) string {
	lines := imageLines(img)
	var b strings.Builder
	for _, k := range sortedKeys(lines, nil) {
		fmt.Fprintf(&b, "%s: %s\n", k, lines[k])
	}
	return b.String()
}

// imageLines renders an image as one line per broker and partition, keyed
// so that brokers sort before topics.
func imageLines(img *Image) map[string]string {
	out := map[string]string{}
	for id, br := range img.Brokers {
		state := "live"
		if br.Fenced {
			state = "fenced"
		}
		out[fmt.Sprintf("broker %d", id)] = fmt.Sprintf("%s epoch=%d rack=%q", state, br.Epoch, br.Rack)
	}
	for name, tp := range img.Topics {
		for i, p := range tp.Partitions {
			l := fmt.Sprintf("leader=%d epochs=%d/%d replicas=%v isr=%v", p.Leader, p.LeaderEpoch, p.PartitionEpoch, p.Replicas, p.ISR)
			if p.Reassigning() {
				l += fmt.Sprintf(" adding=%v removing=%v", p.AddingReplicas, p.RemovingReplicas)
			}
			out[fmt.Sprintf("%s-%d", name, i)] = l
		}
	}
	for user, creds := range img.Scram {
		var l []string
		for _, m := range sasl.ScramMechanisms {
			if c, ok := creds[m]; ok {
				l = append(l, fmt.Sprintf("%s i=%d", m, c.Iterations))
			}
		}
		out[fmt.Sprintf("scram %q", user)] = strings.Join(l, ", ")
	}
	for _, b := range img.ACLs {
		out["acl "+b.String()] = "exists"
	}
	return out
}

func sortedKeys(a, b map[string]string) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func (s *quorumScript) security(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "alter-scram":
		var c AlterScramCredentials
		for _, l := range ddtest.Lines(d.Input) {
			f := strings.Fields(l)
			m := sasl.ParseMechanism(f[2])
			if f[1] == "-" {
				f[1] = ""
			}
			switch {
			case f[0] == "delete" && len(f) == 3:
				c.Deletions = append(c.Deletions, ScramDeletion{User: f[1], Mechanism: m})
			case f[0] == "upsert" && len(f) == 5:
				salt := []byte("salt-" + f[1])
				var sp []byte
				if f[4] != "-" {
					var err error
					hm := m
					if !hm.Valid() {
						hm = sasl.ScramSHA256
					}
					if sp, err = sasl.SaltedPassword(hm, f[4], salt, 4096); err != nil {
						t.Fatal(err)
					}
				}
				c.Upsertions = append(c.Upsertions, NewScramUpsertion(f[1], m, int32(ddtest.Atoi(t, f[3])), salt, sp))
			default:
				t.Fatalf("%s: bad alteration %q", d.Pos, l)
			}
		}
		return s.apply(c)
	case "describe-scram":
		var users []string
		d.MaybeScanArgs(t, "users", &users)
		var b strings.Builder
		for _, r := range s.b.img.DescribeScram(users) {
			fmt.Fprintf(&b, "user %q: ", r.User)
			if r.Err != nil {
				b.WriteString(renderErr(r.Err) + "\n")
				continue
			}
			for i, c := range r.Credentials {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%s i=%d", c.Mechanism, c.Iterations)
			}
			b.WriteString("\n")
		}
		return b.String()
	case "create-acls":
		var c CreateACLs
		for _, l := range ddtest.Lines(d.Input) {
			b, err := acl.ParseBinding(l)
			if err != nil {
				t.Fatal(err)
			}
			c.Bindings = append(c.Bindings, b)
		}
		return s.apply(c)
	case "delete-acls":
		var c DeleteACLs
		for _, l := range ddtest.Lines(d.Input) {
			f, err := acl.ParseFilter(l)
			if err != nil {
				t.Fatal(err)
			}
			c.Filters = append(c.Filters, f)
		}
		return s.apply(c)
	}
	return ddtest.Unknown(t, d)
}

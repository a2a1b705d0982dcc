package txn

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/internaltopic"
	"github.com/weirhq/weir/internal/ddtest"
)

// TestScripts runs the scripts in testdata/scripts against a Coordinator
// on a fake clock over a MemoryStorage (the harness of harness_test.go:
// four __transaction_state and four __consumer_offsets partitions,
// transaction.max.timeout.ms 15m, the timeout check every 10s, markers
// retried after 1s; producer ids from 1000). Every marker request the
// coordinator sends during a command is printed after its answer
// ("markers t: commit pid=1000 epoch=0 …") and stays pending until an
// ack. Topics named missing* do not exist. id= defaults to t.
//
//	config [tv=2] [max-timeout=1m] [expiration=1h]   a new coordinator, partitions loaded
//	load | loading | unload [id=t]    ownership of the id's __transaction_state partition
//	close                             the coordinator closes (broker shutdown)
//	failover                          a new coordinator on the same storage loads every
//	                                  partition at the next coordinator epoch
//	advance by=10s                    the clock moves; Tick runs
//	storage fail=NOT_ENOUGH_REPLICAS|io|none   appends to __transaction_state fail, or not
//	pids fail=COORDINATOR_LOAD_IN_PROGRESS|none   the producer id allocator fails, or not
//	delete-topic tp=a-0               a partition stops existing
//
//	force-epoch epoch=32765          the id's stored epoch is set (a shortcut to exhaustion)
//	init [id=t] [timeout=60s] [pid=1000 epoch=0] [v=4] [null]
//	add [pid=1000] [epoch=0] tps=(a-0,b-1) [v=3] [verify]   (v=4: one batched transaction)
//	offsets [pid=1000] [epoch=0] group=g [v=3]
//	end [pid=1000] [epoch=0] commit|abort [v=4]
//	ack [id=t] [fail=(a-0:NOT_LEADER_OR_FOLLOWER)]   answer the pending marker request
//	state [id=t]                      the stored state: state, producer id and epoch, partitions
//	log [id=t]                        every record stored for the id, oldest first
//	describe ids=(t,u)
//	list [states=(Ongoing)] [pids=(1000)] [duration=1s] [pattern=^t] [v=2]
//	stats                             ids per state, transactions completed, loads
//	settled [id=t]                    MarkersSettled now (waiting: markers being written;
//	                                  settled: none are; none: nothing to wait for) and
//	                                  whether the channel the previous settled got is closed
func TestScripts(t *testing.T) {
	ddtest.Walk(t, "testdata/scripts", func(t *testing.T) ddtest.Handler {
		s := &script{}
		s.h = newHarness(t)
		s.h.loadAll()
		return s.run
	})
}

type script struct {
	h       *harness
	settled <-chan struct{} // what the last settled command got
}

func (s *script) run(t *testing.T, d *datadriven.TestData) string {
	s.h.t = t
	out := s.command(t, d)
	for _, m := range s.h.writer.drain() {
		out += renderMarkers(m) + "\n"
	}
	return out
}

func (s *script) command(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "config":
		return s.config(t, d)
	case "load", "loading", "unload":
		return s.ownership(t, d)
	case "close":
		s.h.c.Close()
		return ""
	case "failover":
		s.h.start()
		s.h.loadAll()
		return ""
	case "advance":
		var by time.Duration
		d.ScanArgs(t, "by", &by)
		s.h.advance(by)
		return ""
	case "storage", "pids":
		return s.fail(t, d)
	case "delete-topic":
		var tp string
		d.ScanArgs(t, "tp", &tp)
		s.h.deleted[parseTP(t, tp)] = true
		return ""
	case "init":
		return s.init(t, d)
	case "force-epoch":
		return s.forceEpoch(t, d)
	case "add":
		return s.add(t, d)
	case "offsets":
		return s.offsets(t, d)
	case "end":
		return s.end(t, d)
	case "ack":
		return s.ack(t, d)
	case "state":
		return s.state(t, d)
	case "log":
		return s.log(t, d)
	case "describe":
		return s.describe(t, d)
	case "list":
		return s.list(t, d)
	case "settled":
		return s.markersSettled(t, d)
	case "stats":
		st := s.h.c.Stats()
		return fmt.Sprintf("states=%v committed=%d aborted=%d loads=%d\n", st.States, st.Committed, st.Aborted, st.Loads)
	}
	return ddtest.Unknown(t, d)
}

func (s *script) markersSettled(t *testing.T, d *datadriven.TestData) string {
	out := ""
	if s.settled != nil {
		out = "earlier: " + chanState(s.settled) + "\n"
	}
	ch := s.h.c.MarkersSettled(txnID(t, d))
	s.settled = ch
	switch {
	case ch == nil:
		return out + "now: none\n"
	case chanState(ch) == "closed":
		return out + "now: settled\n"
	}
	return out + "now: waiting\n"
}

func chanState(ch <-chan struct{}) string {
	select {
	case <-ch:
		return "closed"
	default:
		return "open"
	}
}

func txnID(t *testing.T, d *datadriven.TestData) string {
	id := "t"
	d.MaybeScanArgs(t, "id", &id)
	return id
}

func (s *script) config(t *testing.T, d *datadriven.TestData) string {
	var tv int16
	var maxTimeout, expiration time.Duration
	d.MaybeScanArgs(t, "tv", &tv)
	d.MaybeScanArgs(t, "max-timeout", &maxTimeout)
	d.MaybeScanArgs(t, "expiration", &expiration)
	s.h = newHarness(t, func(cfg *Config) {
		cfg.TransactionVersion = tv
		if maxTimeout > 0 {
			cfg.MaxTimeout = maxTimeout
		}
		if expiration > 0 {
			cfg.IDExpiration, cfg.ExpireCheckInterval = expiration, expiration/4
		}
	})
	s.h.loadAll()
	return ""
}

func (s *script) ownership(t *testing.T, d *datadriven.TestData) string {
	p := s.h.c.PartitionFor(txnID(t, d))
	switch d.Cmd {
	case "unload":
		s.h.c.UnloadPartition(p)
	case "loading":
		s.h.c.MarkLoading(p)
	case "load":
		s.h.coordEp++
		if err := s.h.c.LoadPartition(p, s.h.coordEp); err != nil {
			return "error: " + err.Error() + "\n"
		}
	}
	return fmt.Sprintf("__transaction_state-%d loaded=%t\n", p, s.h.c.Loaded(p))
}

func (s *script) fail(t *testing.T, d *datadriven.TestData) string {
	var name string
	d.ScanArgs(t, "fail", &name)
	var err error
	if name != "none" {
		err = kafkaError(t, name)
	}
	if d.Cmd == "storage" {
		s.h.store.Fail(err)
	} else {
		s.h.pidErr = err
	}
	return ""
}

// producer reads pid= and epoch=, defaulting to the id's stored ones.
func (s *script) producer(t *testing.T, d *datadriven.TestData) (int64, int16) {
	pid, epoch := int64(-1), int16(-1)
	if tx, _ := s.h.c.lookup(txnID(t, d)); tx != nil {
		tx.mu.Lock()
		pid, epoch = tx.meta.producerID, tx.meta.epoch
		tx.mu.Unlock()
	}
	d.MaybeScanArgs(t, "pid", &pid)
	d.MaybeScanArgs(t, "epoch", &epoch)
	return pid, epoch
}

func (s *script) init(t *testing.T, d *datadriven.TestData) string {
	r := kmsg.NewPtrInitProducerIDRequest()
	r.Version = 5
	d.MaybeScanArgs(t, "v", &r.Version)
	id := txnID(t, d)
	if !d.HasArg("null") {
		r.TransactionalID = &id
	}
	timeout := time.Minute
	d.MaybeScanArgs(t, "timeout", &timeout)
	r.TransactionTimeoutMillis = int32(timeout.Milliseconds())
	d.MaybeScanArgs(t, "pid", &r.ProducerID)
	d.MaybeScanArgs(t, "epoch", &r.ProducerEpoch)
	resp := s.h.c.InitProducerID(r)
	if resp.ErrorCode != 0 {
		return codeName(resp.ErrorCode) + "\n"
	}
	return fmt.Sprintf("pid=%d epoch=%d\n", resp.ProducerID, resp.ProducerEpoch)
}

func (s *script) add(t *testing.T, d *datadriven.TestData) string {
	id := txnID(t, d)
	pid, epoch := s.producer(t, d)
	var tps []string
	d.ScanArgs(t, "tps", &tps)
	byTopic := map[string][]int32{}
	var topics []string
	for _, s := range tps {
		tp := parseTP(t, s)
		if _, ok := byTopic[tp.Topic]; !ok {
			topics = append(topics, tp.Topic)
		}
		byTopic[tp.Topic] = append(byTopic[tp.Topic], tp.Partition)
	}
	r := kmsg.NewPtrAddPartitionsToTxnRequest()
	r.Version = 3
	d.MaybeScanArgs(t, "v", &r.Version)
	if r.Version < 4 {
		r.TransactionalID, r.ProducerID, r.ProducerEpoch = id, pid, epoch
		for _, topic := range topics {
			rt := kmsg.NewAddPartitionsToTxnRequestTopic()
			rt.Topic, rt.Partitions = topic, byTopic[topic]
			r.Topics = append(r.Topics, rt)
		}
	} else {
		rt := kmsg.NewAddPartitionsToTxnRequestTransaction()
		rt.TransactionalID, rt.ProducerID, rt.ProducerEpoch, rt.VerifyOnly = id, pid, epoch, d.HasArg("verify")
		for _, topic := range topics {
			rtt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
			rtt.Topic, rtt.Partitions = topic, byTopic[topic]
			rt.Topics = append(rt.Topics, rtt)
		}
		r.Transactions = append(r.Transactions, rt)
	}
	return renderAdd(s.h.c.AddPartitionsToTxn(r))
}

// renderAdd prints one line per distinct answer: "ok" when every
// partition succeeded, else "a-0: ERROR".
func renderAdd(resp *kmsg.AddPartitionsToTxnResponse) string {
	var lines []string
	allOK := true
	note := func(topic string, p int32, code int16) {
		lines = append(lines, fmt.Sprintf("%s-%d: %s", topic, p, codeName(code)))
		allOK = allOK && code == 0
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			note(rt.Topic, rp.Partition, rp.ErrorCode)
		}
	}
	for _, tx := range resp.Transactions {
		for _, rt := range tx.Topics {
			for _, rp := range rt.Partitions {
				note(rt.Topic, rp.Partition, rp.ErrorCode)
			}
		}
	}
	if allOK {
		return "ok\n"
	}
	return strings.Join(lines, "\n") + "\n"
}

func (s *script) offsets(t *testing.T, d *datadriven.TestData) string {
	r := kmsg.NewPtrAddOffsetsToTxnRequest()
	r.Version = 3
	d.MaybeScanArgs(t, "v", &r.Version)
	r.TransactionalID = txnID(t, d)
	r.ProducerID, r.ProducerEpoch = s.producer(t, d)
	d.ScanArgs(t, "group", &r.Group)
	return codeName(s.h.c.AddOffsetsToTxn(r).ErrorCode) + "\n"
}

func (s *script) end(t *testing.T, d *datadriven.TestData) string {
	r := kmsg.NewPtrEndTxnRequest()
	r.Version = 4
	d.MaybeScanArgs(t, "v", &r.Version)
	r.TransactionalID = txnID(t, d)
	r.ProducerID, r.ProducerEpoch = s.producer(t, d)
	switch {
	case d.HasArg("commit"):
		r.Commit = true
	case !d.HasArg("abort"):
		t.Fatalf("%s: end needs commit or abort", d.Pos)
	}
	resp := s.h.c.EndTxn(r)
	if resp.ErrorCode != 0 {
		return codeName(resp.ErrorCode) + "\n"
	}
	if r.Version >= 5 {
		return fmt.Sprintf("ok pid=%d epoch=%d\n", resp.ProducerID, resp.ProducerEpoch)
	}
	return "ok\n"
}

func (s *script) ack(t *testing.T, d *datadriven.TestData) string {
	failed := map[TopicPartition]error{}
	var fails []string
	d.MaybeScanArgs(t, "fail", &fails)
	for _, f := range fails {
		tp, name, _ := strings.Cut(f, ":")
		failed[parseTP(t, tp)] = kafkaError(t, name)
	}
	if !s.h.writer.answer(txnID(t, d), failed) {
		return "no markers pending\n"
	}
	return ""
}

func (s *script) state(t *testing.T, d *datadriven.TestData) string {
	tx, err := s.h.c.lookup(txnID(t, d))
	switch {
	case err != nil:
		return err.Message + "\n"
	case tx == nil:
		return "no transactional id\n"
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return renderMeta(tx.meta, s.h.now) + "\n"
}

func renderMeta(m meta, now time.Time) string {
	out := fmt.Sprintf("%s pid=%d epoch=%d", m.state, m.producerID, m.epoch)
	if m.lastProducerID != noProducer {
		out += fmt.Sprintf(" previous-pid=%d", m.lastProducerID)
	}
	if m.nextProducerID != noProducer {
		out += fmt.Sprintf(" next-pid=%d", m.nextProducerID)
	}
	out += fmt.Sprintf(" timeout=%s", time.Duration(m.timeoutMs)*time.Millisecond)
	if m.startMs >= 0 {
		out += fmt.Sprintf(" started=%s", time.UnixMilli(m.startMs).Sub(epoch0))
	}
	if len(m.partitions) > 0 {
		var ps []string
		for _, tp := range m.partitions {
			ps = append(ps, tp.String())
		}
		out += " [" + strings.Join(ps, " ") + "]"
	}
	return out
}

// log prints every record stored for the id, decoded.
func (s *script) log(t *testing.T, d *datadriven.TestData) string {
	id := txnID(t, d)
	p := s.h.c.PartitionFor(id)
	b, err := s.h.store.Read(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	internaltopic.DecodeBatches(b, nil, func(offset int64, key, value []byte) {
		k, _, err := DecodeKey(key)
		if err != nil || k != id {
			return
		}
		if value == nil {
			fmt.Fprintf(&out, "%d: tombstone\n", offset)
			return
		}
		v, err := DecodeValue(value)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "%d: v%d %s\n", offset, v.Version, renderMeta(metaFromValue(v), s.h.now))
	}, func(offset int64, err error) { t.Fatalf("offset %d: %v", offset, err) })
	return out.String()
}

func (s *script) describe(t *testing.T, d *datadriven.TestData) string {
	r := kmsg.NewPtrDescribeTransactionsRequest()
	d.ScanArgs(t, "ids", &r.TransactionalIDs)
	var out strings.Builder
	for _, st := range s.h.c.DescribeTransactions(r).TransactionStates {
		if st.ErrorCode != 0 {
			fmt.Fprintf(&out, "%s: %s\n", st.TransactionalID, codeName(st.ErrorCode))
			continue
		}
		var ts []string
		for _, tt := range st.Topics {
			ts = append(ts, fmt.Sprintf("%s%v", tt.Topic, tt.Partitions))
		}
		start := "-"
		if st.StartTimestamp >= 0 {
			start = time.UnixMilli(st.StartTimestamp).Sub(epoch0).String()
		}
		fmt.Fprintf(&out, "%s: %s pid=%d epoch=%d timeout=%dms start=%s topics=%v\n", st.TransactionalID,
			st.State, st.ProducerID, st.ProducerEpoch, st.TimeoutMillis, start, ts)
	}
	return out.String()
}

func (s *script) list(t *testing.T, d *datadriven.TestData) string {
	r := kmsg.NewPtrListTransactionsRequest()
	r.Version = 1
	d.MaybeScanArgs(t, "v", &r.Version)
	d.MaybeScanArgs(t, "states", &r.StateFilters)
	d.MaybeScanArgs(t, "pids", &r.ProducerIDFilters)
	var dur time.Duration
	if d.MaybeScanArgs(t, "duration", &dur) {
		r.DurationFilterMillis = dur.Milliseconds()
	}
	var pattern string
	if d.MaybeScanArgs(t, "pattern", &pattern) {
		r.TransactionalIDPattern = &pattern
	}
	resp := s.h.c.ListTransactions(r)
	if resp.ErrorCode != 0 {
		return codeName(resp.ErrorCode) + "\n"
	}
	var out strings.Builder
	if len(resp.UnknownStateFilters) > 0 {
		fmt.Fprintf(&out, "unknown states %v\n", resp.UnknownStateFilters)
	}
	for _, st := range resp.TransactionStates {
		fmt.Fprintf(&out, "%s pid=%d %s\n", st.TransactionalID, st.ProducerID, st.TransactionState)
	}
	if out.Len() == 0 {
		return "none\n"
	}
	return out.String()
}

// forceEpoch stores the id's state with another epoch, as that many
// InitProducerId calls would have left it.
func (s *script) forceEpoch(t *testing.T, d *datadriven.TestData) string {
	var epoch int16
	d.ScanArgs(t, "epoch", &epoch)
	tx, _ := s.h.c.lock(txnID(t, d))
	if tx == nil {
		t.Fatalf("%s: no transactional id", d.Pos)
	}
	defer tx.mu.Unlock()
	next := tx.meta
	next.epoch, next.lastEpoch = epoch, noEpoch
	tx.meta.epoch = min(tx.meta.epoch, epoch)
	if err := tx.persist(next); err != nil {
		return err.Message + "\n"
	}
	return ""
}

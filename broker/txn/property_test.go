package txn

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/internaltopic"
)

// TestRandomSequences drives the coordinator with random requests from a
// few producers (current, stale and made-up epochs, both transaction
// versions), random marker answers, failing appends, failovers and time,
// and checks what must always hold:
//
//   - every stored record is a legal transition from the id's previous one;
//   - a producer id's epoch never goes back, in the log or in answers;
//   - a transaction that reached PrepareCommit ends in CompleteCommit, and
//     one that reached PrepareAbort in CompleteAbort;
//   - a new coordinator loading the log has the state the old one had.
func TestRandomSequences(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 30
	}
	for seed := range seeds {
		runSequence(t, uint64(seed), 300)
	}
}

func FuzzSequences(f *testing.F) {
	f.Add(uint64(1), uint16(200))
	f.Fuzz(func(t *testing.T, seed uint64, steps uint16) {
		runSequence(t, seed, int(steps%1000))
	})
}

type sequence struct {
	t      *testing.T
	rng    *rand.Rand
	h      *harness
	ids    []string
	epochs map[int64]int16 // the highest epoch seen for each producer id
	trace  []string
}

func runSequence(t *testing.T, seed uint64, steps int) {
	s := &sequence{t: t, rng: rand.New(rand.NewPCG(seed, seed*7919)), ids: []string{"p", "q", "r"}, epochs: map[int64]int16{}}
	s.h = newHarness(t, func(cfg *Config) {
		cfg.TransactionVersion = int16(seed % 3)
		cfg.IDExpiration, cfg.ExpireCheckInterval = 30*time.Minute, 5*time.Minute
	})
	s.h.loadAll()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("seed %d: panic %v after:\n%s", seed, r, s.history())
		}
	}()
	for range steps {
		s.step()
		if t.Failed() {
			t.Fatalf("seed %d failed after:\n%s", seed, s.history())
		}
	}
	s.checkLog(seed)
	s.checkReload(seed)
}

func (s *sequence) history() string {
	out := ""
	for _, l := range s.trace[max(0, len(s.trace)-40):] {
		out += l + "\n"
	}
	return out
}

func (s *sequence) logf(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf(format, args...))
}

// current is the id's stored producer id and epoch, or made-up ones.
func (s *sequence) producer(id string) (int64, int16) {
	if tx, _ := s.h.c.lookup(id); tx != nil {
		tx.mu.Lock()
		defer tx.mu.Unlock()
		pid, epoch := tx.meta.producerID, tx.meta.epoch
		switch s.rng.IntN(6) {
		case 0:
			return pid, epoch - 1 // a zombie
		case 1:
			return pid + 1, epoch
		}
		return pid, epoch
	}
	return 1000 + s.rng.Int64N(5), int16(s.rng.IntN(3))
}

func (s *sequence) seen(what string, pid int64, epoch int16) {
	if pid < 0 {
		return
	}
	if max, ok := s.epochs[pid]; ok && epoch < max {
		s.t.Errorf("%s: producer %d answered epoch %d after %d", what, pid, epoch, max)
	}
	s.epochs[pid] = max(s.epochs[pid], epoch)
}

func (s *sequence) step() {
	id := s.ids[s.rng.IntN(len(s.ids))]
	switch n := s.rng.IntN(100); {
	case n < 15:
		s.init(id)
	case n < 40:
		s.add(id)
	case n < 45:
		s.offsets(id)
	case n < 60:
		s.end(id)
	case n < 80:
		s.ack(id)
	case n < 88:
		by := time.Duration(s.rng.IntN(90)) * time.Second
		s.logf("advance %s", by)
		s.h.advance(by)
	case n < 93:
		var err error
		if s.rng.IntN(2) == 0 {
			err = kerr.NotEnoughReplicas
		}
		s.logf("storage fail=%v", err)
		s.h.store.Fail(err)
	case n < 97:
		s.logf("failover")
		s.h.store.Fail(nil)
		s.h.start()
		s.h.loadAll()
	default:
		p := s.h.c.PartitionFor(id)
		s.logf("reload %d", p)
		s.h.coordEp++
		if err := s.h.c.LoadPartition(p, s.h.coordEp); err != nil {
			s.t.Fatal(err)
		}
	}
}

func (s *sequence) init(id string) {
	r := kmsg.NewPtrInitProducerIDRequest()
	r.Version, r.TransactionalID, r.TransactionTimeoutMillis = 5, &id, int32(30_000+s.rng.IntN(60_000))
	if s.rng.IntN(3) == 0 {
		r.ProducerID, r.ProducerEpoch = s.producer(id)
	}
	resp := s.h.c.InitProducerID(r)
	s.logf("init %s pid=%d epoch=%d: %s pid=%d epoch=%d", id, r.ProducerID, r.ProducerEpoch, codeName(resp.ErrorCode), resp.ProducerID, resp.ProducerEpoch)
	if resp.ErrorCode == 0 {
		s.seen("InitProducerId", resp.ProducerID, resp.ProducerEpoch)
	}
}

func (s *sequence) add(id string) {
	r := kmsg.NewPtrAddPartitionsToTxnRequest()
	r.Version, r.TransactionalID = 3, id
	r.ProducerID, r.ProducerEpoch = s.producer(id)
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = []string{"a", "b"}[s.rng.IntN(2)], []int32{int32(s.rng.IntN(3))}
	r.Topics = append(r.Topics, rt)
	resp := s.h.c.AddPartitionsToTxn(r)
	s.logf("add %s %s-%d: %s", id, rt.Topic, rt.Partitions[0], codeName(resp.Topics[0].Partitions[0].ErrorCode))
}

func (s *sequence) offsets(id string) {
	r := kmsg.NewPtrAddOffsetsToTxnRequest()
	r.TransactionalID, r.Group = id, "g"
	r.ProducerID, r.ProducerEpoch = s.producer(id)
	s.logf("offsets %s: %s", id, codeName(s.h.c.AddOffsetsToTxn(r).ErrorCode))
}

func (s *sequence) end(id string) {
	r := kmsg.NewPtrEndTxnRequest()
	r.Version, r.TransactionalID, r.Commit = int16(4+s.rng.IntN(2)), id, s.rng.IntN(2) == 0
	r.ProducerID, r.ProducerEpoch = s.producer(id)
	resp := s.h.c.EndTxn(r)
	s.logf("end %s v%d commit=%t pid=%d epoch=%d: %s pid=%d epoch=%d", id, r.Version, r.Commit, r.ProducerID, r.ProducerEpoch,
		codeName(resp.ErrorCode), resp.ProducerID, resp.ProducerEpoch)
	if resp.ErrorCode == 0 && r.Version >= 5 {
		s.seen("EndTxn", resp.ProducerID, resp.ProducerEpoch)
	}
}

func (s *sequence) ack(id string) {
	failed := map[TopicPartition]error{}
	if s.rng.IntN(3) == 0 {
		failed[TopicPartition{"a", int32(s.rng.IntN(3))}] = []error{kerr.NotLeaderForPartition, errors.New("io"), kerr.InvalidProducerEpoch}[s.rng.IntN(3)]
	}
	if s.h.writer.answer(id, failed) {
		s.logf("ack %s %v", id, failed)
	}
}

// checkLog replays every record of every partition in order and checks
// the transitions and epochs.
func (s *sequence) checkLog(seed uint64) {
	last := map[string]meta{}
	epochs := map[int64]int16{}
	for p := range s.h.c.cfg.NumPartitions {
		b, _ := s.h.store.Read(p, 0)
		internaltopic.DecodeBatches(b, nil, func(offset int64, key, value []byte) {
			id, _, _ := DecodeKey(key)
			if value == nil {
				delete(last, id)
				return
			}
			v, err := DecodeValue(value)
			if err != nil {
				s.t.Fatalf("seed %d: offset %d: %v", seed, offset, err)
			}
			m := metaFromValue(v)
			if prev, ok := last[id]; ok {
				if prev.state != m.state && !CanTransition(prev.state, m.state) {
					s.t.Errorf("seed %d: %s: stored %s after %s", seed, id, m.state, prev.state)
				}
				if (prev.state == PrepareCommit && m.state != PrepareCommit && m.state != CompleteCommit) ||
					(prev.state == PrepareAbort && m.state != PrepareAbort && m.state != CompleteAbort) {
					s.t.Errorf("seed %d: %s: %s ended in %s", seed, id, prev.state, m.state)
				}
			}
			if e, ok := epochs[m.producerID]; ok && m.epoch < e {
				s.t.Errorf("seed %d: %s: producer %d stored epoch %d after %d", seed, id, m.producerID, m.epoch, e)
			}
			epochs[m.producerID] = max(epochs[m.producerID], m.epoch)
			last[id] = m
		}, func(offset int64, err error) { s.t.Fatalf("seed %d: offset %d: %v", seed, offset, err) })
	}
}

// checkReload loads the log into a new coordinator and compares.
func (s *sequence) checkReload(seed uint64) {
	before := s.states()
	s.h.store.Fail(nil)
	s.h.start()
	s.h.loadAll()
	after := s.states()
	for id, m := range before {
		if after[id] != m {
			s.t.Errorf("seed %d: %s was %s, loaded as %s", seed, id, m, after[id])
		}
	}
	for id, m := range after {
		if _, ok := before[id]; !ok {
			s.t.Errorf("seed %d: %s loaded as %s, was not there", seed, id, m)
		}
	}
}

func (s *sequence) states() map[string]string {
	out := map[string]string{}
	for _, tx := range s.h.c.loaded() {
		tx.mu.Lock()
		if tx.meta.epoch != noEpoch { // created by an InitProducerId whose append failed: never stored
			out[tx.id] = renderMeta(tx.meta, s.h.now)
		}
		tx.mu.Unlock()
	}
	return out
}

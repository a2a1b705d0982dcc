package txn

import (
	"regexp"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeTransactions (API key 65, KIP-664): each id's state, producer
// id and epoch, timeout, start time and partitions. An id not served here
// gets NOT_COORDINATOR (or COORDINATOR_LOAD_IN_PROGRESS); an unknown one
// TRANSACTIONAL_ID_NOT_FOUND; the empty id INVALID_REQUEST.
func (c *Coordinator) DescribeTransactions(r *kmsg.DescribeTransactionsRequest) *kmsg.DescribeTransactionsResponse {
	resp := kmsg.NewPtrDescribeTransactionsResponse()
	resp.Version = r.Version
	for _, id := range r.TransactionalIDs {
		resp.TransactionStates = append(resp.TransactionStates, c.describe(id))
	}
	return resp
}

func (c *Coordinator) describe(id string) kmsg.DescribeTransactionsResponseTransactionState {
	st := kmsg.NewDescribeTransactionsResponseTransactionState()
	st.TransactionalID, st.ProducerID, st.ProducerEpoch, st.StartTimestamp = id, noProducer, noEpoch, -1
	if id == "" {
		st.ErrorCode = kerr.InvalidRequest.Code
		return st
	}
	t, err := c.lock(id)
	switch {
	case err != nil:
		st.ErrorCode = err.Code
		return st
	case t == nil:
		st.ErrorCode = kerr.TransactionalIDNotFound.Code
		return st
	}
	defer t.mu.Unlock()
	m := t.meta
	st.State, st.TimeoutMillis, st.StartTimestamp = m.state.String(), m.timeoutMs, m.startMs
	st.ProducerID, st.ProducerEpoch = m.producerID, m.epoch
	for _, tp := range m.partitions {
		if n := len(st.Topics); n > 0 && st.Topics[n-1].Topic == tp.Topic {
			st.Topics[n-1].Partitions = append(st.Topics[n-1].Partitions, tp.Partition)
			continue
		}
		dt := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
		dt.Topic, dt.Partitions = tp.Topic, []int32{tp.Partition}
		st.Topics = append(st.Topics, dt)
	}
	return st
}

// ListTransactions (API key 66, KIP-664): the transactions of every
// partition served here, filtered by state names (unknown names are
// returned in UnknownStateFilters and match nothing), by producer ids,
// from v1 by running longer than DurationFilterMillis, and from v2 by a
// regular expression on the id (Go's RE2 syntax, which for the patterns
// tools send matches Java's). While any partition is loading the answer
// is COORDINATOR_LOAD_IN_PROGRESS.
func (c *Coordinator) ListTransactions(r *kmsg.ListTransactionsRequest) *kmsg.ListTransactionsResponse {
	resp := kmsg.NewPtrListTransactionsResponse()
	resp.Version = r.Version
	f := filter{pids: r.ProducerIDFilters, names: len(r.StateFilters) > 0, minDuration: -1}
	for _, name := range r.StateFilters {
		if s, ok := StateNamed(name); ok {
			f.states = append(f.states, s)
		} else {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, name)
		}
	}
	if r.Version >= 1 {
		f.minDuration = r.DurationFilterMillis
	}
	if r.Version >= 2 && r.TransactionalIDPattern != nil && *r.TransactionalIDPattern != "" {
		re, err := regexp.Compile(*r.TransactionalIDPattern)
		if err != nil {
			resp.ErrorCode = kerr.InvalidRegularExpression.Code
			return resp
		}
		f.pattern = re
	}
	if err := c.listable(); err != nil {
		resp.ErrorCode = err.Code
		return resp
	}
	now := c.now().UnixMilli()
	for _, t := range c.loaded() {
		t.mu.Lock()
		m, gone := t.meta, t.gone
		t.mu.Unlock()
		if gone || !f.match(t.id, m, now) {
			continue
		}
		lt := kmsg.NewListTransactionsResponseTransactionState()
		lt.TransactionalID, lt.ProducerID, lt.TransactionState = t.id, m.producerID, m.state.String()
		resp.TransactionStates = append(resp.TransactionStates, lt)
	}
	return resp
}

func (c *Coordinator) listable() *kerr.Error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return kerr.CoordinatorNotAvailable
	}
	if c.mu.partitions.AnyLoading() {
		return kerr.CoordinatorLoadInProgress
	}
	return nil
}

type filter struct {
	states      []State
	names       bool // state filters were given (perhaps none known)
	pids        []int64
	minDuration int64 // -1: none
	pattern     *regexp.Regexp
}

func (f filter) match(id string, m meta, nowMs int64) bool {
	switch {
	case m.state == Dead:
		return false
	case len(f.pids) > 0 && !slices.Contains(f.pids, m.producerID):
		return false
	case f.names && !slices.Contains(f.states, m.state):
		return false
	case f.minDuration >= 0 && nowMs-m.startMs <= f.minDuration:
		return false
	case f.pattern != nil && !f.pattern.MatchString(id):
		return false
	}
	return true
}

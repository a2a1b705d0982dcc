package server

import (
	"math"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/quorum"
)

// InitProducerId, versions 0–5 (v5: v4's body, for KIP-890's
// TRANSACTION_ABORTABLE, never sent here).
//
// Idempotent producers (no transactional id) get a producer id that was
// never handed out before in the cluster: each broker reserves blocks of
// ids from the controller (AllocateProducerIds, committed to the metadata
// log) and hands them out, with epoch 0. From v3 (KIP-360) a producer may
// send its current id and epoch to bump the epoch after an
// OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID, keeping its id; when
// the epoch would overflow it gets a new id. A transactional id goes to the
// transaction coordinator (broker/txn, transactions.go), which allocates
// from the same blocks.

// producerIDs is this broker's reserved block.
type producerIDs struct {
	mu        sync.Mutex
	next, end int64
}

func (b *Broker) handleInitProducerID(r *kmsg.InitProducerIDRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if r.TransactionalID != nil {
		return b.txns.InitProducerID(r)
	}
	if r.ProducerID >= 0 && r.ProducerEpoch >= 0 && r.ProducerEpoch < math.MaxInt16-1 {
		resp.ProducerID, resp.ProducerEpoch = r.ProducerID, r.ProducerEpoch+1
		return resp
	}
	id, err := b.nextProducerID()
	if err != nil {
		b.logger.Warn("allocating a producer id failed", "err", err)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp
}

func (b *Broker) nextProducerID() (int64, error) {
	b.pids.mu.Lock()
	defer b.pids.mu.Unlock()
	if b.pids.next >= b.pids.end {
		blk, err := b.allocateProducerIDBlock()
		if err != nil {
			return 0, err
		}
		b.pids.next, b.pids.end = blk.First, blk.First+int64(blk.Size)
	}
	id := b.pids.next
	b.pids.next++
	return id, nil
}

// allocateProducerIDBlock reserves ids from the controller: directly when
// this broker is it, else with AllocateProducerIds.
func (b *Broker) allocateProducerIDBlock() (quorum.ProducerIDBlock, error) {
	epoch := b.life.BrokerEpoch()
	if b.node.IsLeader() {
		res, err := b.ctrl.Propose(quorum.AllocateProducerIDs{BrokerID: b.cfg.NodeID, BrokerEpoch: epoch})
		if err != nil {
			return quorum.ProducerIDBlock{}, err
		}
		return res.(quorum.ProducerIDBlock), nil
	}
	req := kmsg.NewPtrAllocateProducerIDsRequest()
	req.BrokerID, req.BrokerEpoch = b.cfg.NodeID, epoch
	raw, err := b.life.Request(req)
	if err != nil {
		return quorum.ProducerIDBlock{}, err
	}
	resp := raw.(*kmsg.AllocateProducerIDsResponse)
	if resp.ErrorCode != 0 {
		return quorum.ProducerIDBlock{}, kerr.ErrorForCode(resp.ErrorCode)
	}
	return quorum.ProducerIDBlock{First: resp.ProducerIDStart, Size: resp.ProducerIDLen}, nil
}

package server

import (
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitProducerId, versions 0–4.
//
// Idempotent producers (no transactional id) get a producer id that was
// never handed out before, reserved in blocks in the metadata store so a
// restart cannot reuse one, with epoch 0. From v3 (KIP-360) a producer may
// send its current id and epoch to bump the epoch after an
// OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID, keeping its id; when
// the epoch would overflow it gets a new id. Transactional ids need the
// transaction coordinator, which does not exist yet: they are refused.

func (b *Broker) handleInitProducerID(r *kmsg.InitProducerIDRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if r.TransactionalID != nil {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp
	}
	if r.ProducerID >= 0 && r.ProducerEpoch >= 0 && r.ProducerEpoch < math.MaxInt16-1 {
		resp.ProducerID, resp.ProducerEpoch = r.ProducerID, r.ProducerEpoch+1
		return resp
	}
	id, err := b.meta.NextProducerID()
	if err != nil {
		b.logger.Error("allocating a producer id failed", "err", err)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp
}

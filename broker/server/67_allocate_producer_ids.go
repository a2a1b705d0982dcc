package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/quorum"
)

// AllocateProducerIds, version 0 (KIP-730), inter-broker only.
//
// A broker reserves a block of producer ids from the controller, which
// commits the reservation through the metadata log, so no id is ever
// handed out twice in the cluster, across restarts and failovers.

func (b *Broker) handleAllocateProducerIDs(r *kmsg.AllocateProducerIDsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.AllocateProducerIDsResponse)
	if !b.node.IsLeader() {
		resp.ErrorCode = kerr.NotController.Code
		return resp
	}
	res, err := b.ctrl.Propose(quorum.AllocateProducerIDs{BrokerID: r.BrokerID, BrokerEpoch: r.BrokerEpoch})
	if err != nil {
		resp.ErrorCode = errCode(err)
		return resp
	}
	blk := res.(quorum.ProducerIDBlock)
	resp.ProducerIDStart, resp.ProducerIDLen = blk.First, blk.Size
	return resp
}

package server

import "github.com/twmb/franz-go/pkg/kmsg"

// WriteTxnMarkers, versions 0–1, sent by transaction coordinators to
// partition leaders: each partition gets a control batch (commit or abort)
// of the producer at its epoch, fenced on an older producer epoch
// (INVALID_PRODUCER_EPOCH) or coordinator epoch
// (TRANSACTION_COORDINATOR_FENCED), and is answered once the ISR has it;
// for __consumer_offsets partitions the group coordinator then commits or
// drops the producer's pending offsets (transactions.go).
func (b *Broker) handleWriteTxnMarkers(r *kmsg.WriteTxnMarkersRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	var ws []markerWrite
	for _, m := range r.Markers {
		for _, t := range m.Topics {
			for _, p := range t.Partitions {
				ws = append(ws, markerWrite{t.Topic, p, m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch})
			}
		}
	}
	codes := b.writeTxnMarkers(ws)
	i := 0
	for _, m := range r.Markers {
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		for _, t := range m.Topics {
			rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				rp.Partition, rp.ErrorCode = p, codes[i]
				i++
				rt.Partitions = append(rt.Partitions, rp)
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp
}

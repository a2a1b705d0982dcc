package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteRecords, versions 0–2.
//
// Moves a partition's log start offset forward; -1 means the high
// watermark. An offset past the high watermark is OFFSET_OUT_OF_RANGE.
// Whole segments below the new start are deleted; the new start survives a
// restart (the log checkpoints it).

func (b *Broker) handleDeleteRecords(r *kmsg.DeleteRecordsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition, sp.LowWatermark = rp.Partition, -1
			p := b.lookup(rt.Topic, rp.Partition)
			switch {
			case p == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			default:
				off := rp.Offset
				if off == -1 {
					off = p.highWatermark()
				}
				if off < 0 || off > p.highWatermark() {
					sp.ErrorCode = kerr.OffsetOutOfRange.Code
					break
				}
				lw, err := p.log.DeleteRecordsBefore(off)
				if err != nil {
					sp.ErrorCode = logErrorCode(err)
					break
				}
				sp.LowWatermark = lw
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

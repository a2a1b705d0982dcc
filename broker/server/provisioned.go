package server

import (
	"errors"
	"strconv"

	"github.com/weirhq/weir/broker/metrics"
	"github.com/weirhq/weir/broker/volume"
)

// Provisioned storage (weir.storage.provisioned.bytes; broker/volume has
// the accounting and the decision). The size in force is the dynamic
// per-broker value from the metadata image (this broker's own, else the
// cluster default), else server.properties': reconcile applies it with
// every image, as it applies the replication throttles, so an
// IncrementalAlterConfigs on the broker resource takes effect at once.
//
// Only a leader's append from a client Produce to a non-internal topic is
// checked. Not checked, and so able to pass the size:
//   - follower appends: refusing records the leader already accepted would
//     drop the follower from the ISR and weaken acks=all;
//   - __consumer_offsets and __transaction_state (offset commits are small
//     and compacted; refusing them would stall every consumer group), and
//     the metadata log, which is not a partition log and is not counted.

// applyProvisioned sets the provisioned size from the dynamic configs in
// force (see brokerDynamicConfigs), falling back to the static value.
func (b *Broker) applyProvisioned(dyn map[string]string) {
	n := b.cfg.StorageProvisionedBytes
	if v, ok := dyn[volume.Key]; ok && v != "" {
		d, err := strconv.ParseInt(v, 10, 64)
		if err != nil || d < 0 {
			b.logger.Error("dynamic config is invalid; keeping the static value", "key", volume.Key, "value", v)
		} else {
			n = d
		}
	}
	b.volume.SetProvisioned(n)
}

// admitProduce is the produce path's log.AppendOptions.Admit for p: nil
// (no check) on an internal topic.
func (b *Broker) admitProduce(p *partition) func(int64) error {
	if p.topic.Load().internal {
		return nil
	}
	return b.volume.Admit
}

// storageFull reports whether err is the provisioned-storage refusal,
// which is answered like a disk error but is no fault worth logging per
// request (the volume logs the start and end of a full episode).
func storageFull(err error) bool {
	var full *volume.FullError
	return errors.As(err, &full)
}

// StorageStats implements metrics.PartitionSource.
func (b *Broker) StorageStats() metrics.StorageStat {
	r := b.volume.Report()
	return metrics.StorageStat{Provisioned: r.Provisioned, Used: r.Used, Limit: r.Limit}
}

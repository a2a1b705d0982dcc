package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"syscall"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/weirhq/weir/internal/bytesize"
)

// StorageKey is the broker config that holds a broker's provisioned
// storage (the local stand-in for its EBS volume size): a per-broker
// dynamic config, so a new size takes effect without a restart.
const StorageKey = "weir.storage.provisioned.bytes"

// OpUpdateStorage is MSK's UPDATE_BROKER_STORAGE.
const OpUpdateStorage = "UPDATE_BROKER_STORAGE"

// AllBrokers is MSK's kafkaBrokerNodeId for every broker of the cluster.
const AllBrokers = "All"

// MinStorage is the smallest provisioned size the control plane sets: a
// broker needs room for a segment, its indexes and the metadata log.
const MinStorage = 16 << 20

// BrokerVolume is MSK's BrokerEBSVolumeInfo: a broker ("All" for every
// broker) and its volume size, in GiB as MSK takes it or, Weir's addition
// for small local volumes, in bytes.
type BrokerVolume struct {
	BrokerID  string `json:"kafkaBrokerNodeId"`
	SizeGB    int64  `json:"volumeSizeGB,omitempty"`
	SizeBytes int64  `json:"volumeSizeBytes,omitempty"`
}

// bytes is the volume's size in bytes.
func (v BrokerVolume) bytes() int64 {
	if v.SizeBytes > 0 {
		return v.SizeBytes
	}
	return v.SizeGB << 30
}

// UpdateBrokerStorage grows the provisioned storage of brokers, MSK's
// UpdateBrokerStorage: each broker's weir.storage.provisioned.bytes is set
// through the Kafka protocol (IncrementalAlterConfigs on the broker
// resource, taking effect at once: a broker refusing produce because it is
// full accepts it again), then saved in the cluster spec so a restarted
// broker keeps it. Storage only grows, as on MSK; a size the filesystem
// cannot hold is refused.
func (cp *ControlPlane) UpdateBrokerStorage(ctx context.Context, vols []BrokerVolume, currentVersion string) (string, error) {
	target, err := cp.storageTargets(vols)
	if err != nil {
		return "", err
	}
	if err := cp.checkRoom(ctx, target); err != nil {
		return "", err
	}
	var shape []BrokerVolume
	for _, id := range slices.Sorted(maps.Keys(target)) {
		shape = append(shape, BrokerVolume{BrokerID: strconv.Itoa(id), SizeBytes: target[id]})
	}
	op, err := cp.begin(OpUpdateStorage, currentVersion, ClusterShape{NumberOfBrokerNodes: len(cp.Spec().Brokers), Volumes: shape}, StateUpdating)
	if err != nil {
		return "", err
	}
	arn := op.ARN
	cp.run(ctx, arn, func(ctx context.Context, step func(string, func() error) error) error {
		for _, v := range shape {
			id, _ := strconv.Atoi(v.BrokerID)
			if err := step(fmt.Sprintf("set broker %d's provisioned storage to %s", id, bytesize.Format(v.SizeBytes)), func() error {
				return cp.setStorage(ctx, id, v.SizeBytes)
			}); err != nil {
				return err
			}
		}
		return step("save the cluster spec", func() error {
			s := cp.Spec()
			for i := range s.Brokers {
				if n, ok := target[s.Brokers[i].ID]; ok {
					s.Brokers[i].StorageBytes = n
				}
			}
			if err := SaveSpec(cp.l, s); err != nil {
				return err
			}
			cp.setSpec(s)
			return nil
		})
	})
	return arn, nil
}

// storageTargets resolves the request to a size per broker, refusing
// unknown brokers, sizes under the minimum and shrinks.
func (cp *ControlPlane) storageTargets(vols []BrokerVolume) (map[int]int64, error) {
	s := cp.Spec()
	if len(vols) == 0 {
		return nil, fmt.Errorf("%w: targetBrokerEBSVolumeInfo names no broker", errBadRequest)
	}
	target := map[int]int64{}
	for _, v := range vols {
		if v.SizeGB > 0 && v.SizeBytes > 0 {
			return nil, fmt.Errorf("%w: broker %s: give volumeSizeGB or volumeSizeBytes, not both", errBadRequest, v.BrokerID)
		}
		n := v.bytes()
		if n < MinStorage {
			return nil, fmt.Errorf("%w: broker %s: a volume of %s is under the minimum %s", errBadRequest, v.BrokerID, bytesize.Format(n), bytesize.Format(MinStorage))
		}
		if v.BrokerID == AllBrokers {
			for _, b := range s.Brokers {
				target[b.ID] = n
			}
			continue
		}
		id, err := strconv.Atoi(v.BrokerID)
		if err != nil || id < 1 || id > len(s.Brokers) {
			return nil, fmt.Errorf("%w: kafkaBrokerNodeId %q is not a broker of the cluster (1 to %d, or %q)", errBadRequest, v.BrokerID, len(s.Brokers), AllBrokers)
		}
		target[id] = n
	}
	changes := 0
	for _, b := range s.Brokers {
		n, ok := target[b.ID]
		switch {
		case !ok:
		case b.StorageBytes > n:
			return nil, fmt.Errorf("%w: broker %d has %s provisioned; storage only grows (asked %s)", errBadRequest, b.ID, bytesize.Format(b.StorageBytes), bytesize.Format(n))
		case b.StorageBytes == n:
			delete(target, b.ID)
		default:
			changes++
		}
	}
	if changes == 0 {
		return nil, fmt.Errorf("%w: every named broker already has that storage", errBadRequest)
	}
	return target, nil
}

// checkRoom refuses sizes the filesystem under the cluster directory
// cannot hold: the room the brokers would be promised beyond what they use
// must be free. Every broker of a local cluster shares one filesystem.
func (cp *ControlPlane) checkRoom(ctx context.Context, target map[int]int64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(cp.l.Dir, &st); err != nil {
		return nil // no figure to check against; the broker caps and warns
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	used := cp.storageUsed(ctx, cp.Spec().Brokers)
	var need int64
	for id, n := range target {
		need += max(0, n-used[int32(id)])
	}
	if need > free {
		return fmt.Errorf("%w: the brokers would need %s more than they use, and the filesystem holding %s has %s free", errBadRequest,
			bytesize.Human(need), cp.l.Dir, bytesize.Human(free))
	}
	return nil
}

// setStorage sets one broker's provisioned storage through the Kafka
// protocol, as an operator would with kafka-configs --entity-type brokers.
func (cp *ControlPlane) setStorage(ctx context.Context, id int, n int64) error {
	rs, err := cp.adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: StorageKey, Value: kadm.StringPtr(strconv.FormatInt(n, 10))}}, int32(id))
	if err != nil {
		return fmt.Errorf("setting %s on broker %d: %w", StorageKey, id, err)
	}
	for _, r := range rs {
		if r.Err != nil {
			return fmt.Errorf("setting %s on broker %d: %w (%s)", StorageKey, id, r.Err, r.ErrMessage)
		}
	}
	return nil
}

package kafka

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/agent/snapshot"
)

// Storage asks each broker in ids for its log dirs' total and usable bytes
// (DescribeLogDirs v4, KIP-827) with an empty topic list, so the answer
// holds the dirs and no partitions. The brokers are asked at once; the
// result is sorted by broker and holds every broker that answered, and the
// error names those that did not.
func (s *Source) Storage(ctx context.Context, ids []int32) ([]snapshot.BrokerStorage, error) {
	out := make([]snapshot.BrokerStorage, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { out[i], errs[i] = s.logDirs(ctx, id) })
	}
	wg.Wait()
	var answered []snapshot.BrokerStorage
	var failed []error
	for i := range ids {
		if errs[i] != nil {
			failed = append(failed, errs[i])
			continue
		}
		answered = append(answered, out[i])
	}
	slices.SortFunc(answered, func(a, b snapshot.BrokerStorage) int { return cmp.Compare(a.BrokerID, b.BrokerID) })
	if len(failed) > 0 {
		return answered, fmt.Errorf("describe log dirs: %w", failed[0])
	}
	return answered, nil
}

func (s *Source) logDirs(ctx context.Context, id int32) (snapshot.BrokerStorage, error) {
	req := kmsg.NewPtrDescribeLogDirsRequest()
	req.Topics = []kmsg.DescribeLogDirsRequestTopic{} // none: the dirs alone (null would list every partition)
	resp, err := req.RequestWith(ctx, s.cl.Broker(int(id)))
	if err != nil {
		return snapshot.BrokerStorage{}, fmt.Errorf("broker %d: %w", id, err)
	}
	return LogDirs(id, resp)
}

// LogDirs turns a broker's DescribeLogDirs answer into its storage. A dir
// with an error (an offline dir) is kept with the error and no sizes.
func LogDirs(id int32, resp *kmsg.DescribeLogDirsResponse) (snapshot.BrokerStorage, error) {
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return snapshot.BrokerStorage{}, fmt.Errorf("broker %d: %w", id, err)
	}
	b := snapshot.BrokerStorage{BrokerID: id}
	for _, d := range resp.Dirs {
		ld := snapshot.LogDirStorage{Dir: d.Dir, TotalBytes: d.TotalBytes, UsableBytes: d.UsableBytes}
		if err := kerr.ErrorForCode(d.ErrorCode); err != nil {
			ld.Err, ld.TotalBytes, ld.UsableBytes = err.Error(), -1, -1
		}
		b.LogDirs = append(b.LogDirs, ld)
	}
	slices.SortFunc(b.LogDirs, func(a, b snapshot.LogDirStorage) int { return cmp.Compare(a.Dir, b.Dir) })
	return b, nil
}

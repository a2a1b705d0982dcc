package server

import (
	"path/filepath"
	"syscall"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeLogDirs, versions 1–4.
//
// Reports every log dir with the real on-disk size of each hosted
// partition in it (null topics: all). v4 adds the volume's total and
// usable bytes (KIP-827), from statfs. OffsetLag is 0: there are no future
// replicas (AlterReplicaLogDirs) yet.

func (b *Broker) handleDescribeLogDirs(r *kmsg.DescribeLogDirsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	want := func(string, int32) bool { return true }
	if r.Topics != nil {
		set := map[string]map[int32]bool{}
		for _, t := range r.Topics {
			set[t.Topic] = map[int32]bool{}
			for _, p := range t.Partitions {
				set[t.Topic][p] = true
			}
		}
		want = func(topic string, p int32) bool { return set[topic][p] }
	}
	byDir := map[string]map[string][]kmsg.DescribeLogDirsResponseDirTopicPartition{}
	for _, p := range b.allPartitions() {
		name := p.name()
		if !want(name, p.index) {
			continue
		}
		dir := filepath.Dir(p.log.Dir())
		if byDir[dir] == nil {
			byDir[dir] = map[string][]kmsg.DescribeLogDirsResponseDirTopicPartition{}
		}
		sp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		sp.Partition, sp.Size = p.index, p.log.Size()
		byDir[dir][name] = append(byDir[dir][name], sp)
	}
	for _, d := range b.cfg.LogDirs {
		rd := kmsg.NewDescribeLogDirsResponseDir()
		abs, _ := filepath.Abs(d)
		rd.Dir = abs
		rd.TotalBytes, rd.UsableBytes = volumeBytes(d)
		for topic, parts := range byDir[filepath.Clean(d)] {
			rt := kmsg.NewDescribeLogDirsResponseDirTopic()
			rt.Topic, rt.Partitions = topic, parts
			rd.Topics = append(rd.Topics, rt)
		}
		resp.Dirs = append(resp.Dirs, rd)
	}
	return resp
}

// volumeBytes returns the total and available bytes of the volume holding
// dir, or -1, -1 when statfs fails.
func volumeBytes(dir string) (int64, int64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return -1, -1
	}
	return int64(st.Blocks) * st.Bsize, int64(st.Bavail) * st.Bsize
}

package server

import (
	"path/filepath"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeLogDirs, versions 0–4 (v1 is v0 with the throttle sent first).
//
// Reports every log dir with the real on-disk size of each hosted
// partition in it (null topics: all). v4 adds the volume's total and
// usable bytes (KIP-827): with weir.storage.provisioned.bytes set they are
// the broker's provisioned size and that minus the bytes used (never
// negative), split evenly over the log dirs so sums over the dirs are the
// broker's figures (broker/volume's Describe); without it, the log dir's
// filesystem from statfs, as Kafka reports them. OffsetLag is 0: there are
// no future replicas (AlterReplicaLogDirs) yet.

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
	for _, d := range b.volume.Describe() {
		rd := kmsg.NewDescribeLogDirsResponseDir()
		abs, _ := filepath.Abs(d.Path)
		rd.Dir = abs
		rd.TotalBytes, rd.UsableBytes = d.Total, d.Usable
		for topic, parts := range byDir[d.Path] {
			rt := kmsg.NewDescribeLogDirsResponseDirTopic()
			rt.Topic, rt.Partitions = topic, parts
			rd.Topics = append(rd.Topics, rt)
		}
		resp.Dirs = append(resp.Dirs, rd)
	}
	return resp
}

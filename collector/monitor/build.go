package monitor

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/weirhq/weir/collector/model"
)

// modelInput is everything a model is built from; buildModel is a pure
// function of it.
type modelInput struct {
	cfg      Config
	now      time.Time
	meta     *metadata
	win      *windows
	sizes    map[tp]int64 // DescribeLogDirs' sizes, for partitions without sampled ones
	capacity *capacityFile
}

// buildModel returns the model as of now, or *NotEnoughDataError.
func buildModel(in modelInput) (*model.Cluster, error) {
	if in.meta == nil {
		return nil, fmt.Errorf("building the load model: no cluster metadata read yet")
	}
	c := in.win.evaluate(in.now, in.meta.counted(in.cfg.Topic))
	if len(c.valid) < in.cfg.MinValidWindows {
		return nil, in.win.notEnough(c, in.now)
	}
	out := &model.Cluster{Time: in.now, Windows: len(c.valid), ValidPartitionRatio: c.ratio}
	for _, p := range in.meta.partitions {
		out.Partitions = append(out.Partitions, in.partition(p, c.valid))
	}
	out.Brokers = in.brokers()
	if unknown := in.capacity.unknownBrokers(func(id int32) bool { return out.Broker(id) != nil }); len(unknown) > 0 {
		return nil, fmt.Errorf("capacity file %s names brokers the cluster does not have: %v", in.capacity.path, unknown)
	}
	apportionCPU(out.Partitions, in.brokerCPU())
	out.Sort()
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("building the load model: %w", err)
	}
	return out, nil
}

// partition is p with its load averaged over the valid windows in which
// it has enough samples; its size is the latest sampled, else
// DescribeLogDirs'.
func (in *modelInput) partition(p partitionMeta, valid []int64) model.Partition {
	out := model.Partition{Topic: p.topic, Partition: p.partition, Replicas: slices.Clone(p.replicas), Leader: p.leader}
	s := in.win.partitions[p.tp]
	if s == nil {
		out.Load.Size = float64(in.sizes[p.tp])
		return out
	}
	var n, nBytes int
	for _, i := range valid {
		a, ok := s.windows.get(i)
		if !ok || a.samples < in.cfg.MinSamplesPerPartitionWindow {
			continue
		}
		n++
		out.Load.MessagesIn += a.messagesIn / float64(a.samples)
		if a.bytesSamples > 0 {
			nBytes++
			out.Load.BytesIn += a.bytesIn / float64(a.bytesSamples)
			out.Load.BytesOut += a.bytesOut / float64(a.bytesSamples)
		}
	}
	if n > 0 {
		out.Load.MessagesIn /= float64(n)
	}
	if nBytes > 0 {
		out.Load.BytesIn /= float64(nBytes)
		out.Load.BytesOut /= float64(nBytes)
	}
	out.Load.Size = float64(in.sizes[p.tp])
	if !s.sizeTime.IsZero() {
		out.Load.Size = float64(s.size)
	}
	return out
}

// brokers are the live brokers (Alive) and the ones in replica sets that
// the metadata does not list (Dead), with their capacity.
func (in *modelInput) brokers() []model.Broker {
	ids := map[int32]bool{}
	for id := range in.meta.brokers {
		ids[id] = true
	}
	for _, p := range in.meta.partitions {
		for _, r := range p.replicas {
			if _, alive := in.meta.brokers[r]; !alive {
				ids[r] = false
			}
		}
	}
	var out []model.Broker
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		out = append(out, in.broker(id, ids[id]))
	}
	return out
}

func (in *modelInput) broker(id int32, alive bool) model.Broker {
	b := model.Broker{ID: id, State: model.Dead}
	if alive {
		m := in.meta.brokers[id]
		b.State, b.Host, b.Rack = model.Alive, m.host, m.rack
	}
	if s := in.win.brokers[id]; s != nil && b.Rack == "" && s.latest.Rack != nil {
		b.Rack = *s.latest.Rack
	}
	b.Capacity, b.CapacitySource = in.brokerCapacity(id)
	return b
}

// brokerCapacity is a broker's capacity and where it came from: the
// capacity file when it names the broker (or has a default entry), else
// the agent's latest v2 sample, else defaults (a v1 sample still gives
// the disk).
func (in *modelInput) brokerCapacity(id int32) (model.Load, string) {
	var agentCores float64
	s := in.win.brokers[id]
	if s != nil {
		agentCores = s.latest.CPUCores
	}
	if f, ok := in.capacity.lookup(id); ok {
		return f.load(agentCores, in.cfg.DefaultCPUCores), SourceFile
	}
	nw := in.cfg.DefaultNetworkCapacity
	l := model.Load{model.CPU: in.cfg.DefaultCPUCores, model.NetworkIn: nw, model.NetworkOut: nw}
	if s == nil {
		return l, SourceDefault
	}
	b := s.latest
	l[model.Disk] = float64(b.DiskCapacityBytes)
	if b.CPUCores <= 0 { // a v1 sample
		return l, SourceDefault
	}
	l[model.CPU] = b.CPUCores
	if p := b.ProvisionedStorageBytes; p != nil && float64(*p) < l[model.Disk] {
		l[model.Disk] = float64(*p)
	}
	if b.NetworkCapacityBytesPerSec != nil {
		l[model.NetworkIn], l[model.NetworkOut] = *b.NetworkCapacityBytesPerSec, *b.NetworkCapacityBytesPerSec
	}
	return l, SourceAgent
}

// brokerCPU is each sampled broker's cores in use.
func (in *modelInput) brokerCPU() map[int32]float64 {
	out := map[int32]float64{}
	for id := range in.win.brokers {
		if cpu, ok := in.win.brokerCPU(id, in.now); ok {
			out[id] = cpu
		}
	}
	return out
}

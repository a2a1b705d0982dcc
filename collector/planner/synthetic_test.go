package planner

import (
	"fmt"
	"math/rand/v2"

	"github.com/weirhq/weir/collector/model"
)

// synth describes a synthetic cluster: Zipf-distributed topic sizes and
// rates, replicas placed rack-aware but skewed onto the first hot brokers.
type synth struct {
	brokers, racks, topics, partitions, rf int
	hot                                    int        // brokers that attract a skewed share of replicas
	skew                                   float64    // probability a replica goes to a hot broker
	fill                                   model.Load // mean utilization per resource
	seed                                   uint64
}

func (sp synth) cluster() *model.Cluster {
	r := rand.New(rand.NewPCG(sp.seed, 7))
	c := &model.Cluster{Windows: 1, ValidPartitionRatio: 1}
	for i := range sp.brokers {
		c.Brokers = append(c.Brokers, model.Broker{ID: int32(i + 1), Rack: fmt.Sprintf("r%d", i%sp.racks)})
	}
	sizes, rates := rand.NewZipf(r, 1.3, 4, 1000), rand.NewZipf(r, 1.3, 4, 1000)
	for t := range sp.topics {
		size, rate := float64(sizes.Uint64()+1)*1e6, float64(rates.Uint64()+1)*1e3
		for p := range sp.partitions / sp.topics {
			c.Partitions = append(c.Partitions, sp.partition(r, fmt.Sprintf("topic-%05d", t), p, size, rate))
		}
	}
	sp.setCapacity(c)
	return c
}

func (sp synth) partition(r *rand.Rand, topic string, n int, size, rate float64) model.Partition {
	jitter := 0.5 + r.Float64()
	in, out := rate*jitter, rate*jitter*r.Float64()*3
	p := model.Partition{Topic: topic, Partition: int32(n), Load: model.PartitionLoad{
		Size: size * jitter, BytesIn: in, BytesOut: out,
		LeaderCPU: (in + out) / 1e6, FollowerCPU: in / 2e6,
	}}
	rack0 := r.IntN(sp.racks)
	for j := range sp.rf {
		p.Replicas = append(p.Replicas, sp.pick(r, (rack0+j)%sp.racks, p.Replicas))
	}
	p.Leader = p.Replicas[0]
	return p
}

// pick chooses a broker in rack, hot with probability skew, not in taken.
func (sp synth) pick(r *rand.Rand, rack int, taken []int32) int32 {
	perRack := sp.brokers / sp.racks
	for {
		n := perRack
		if r.Float64() < sp.skew {
			n = max(sp.hot/sp.racks, 1)
		}
		id := int32(r.IntN(n)*sp.racks + rack + 1)
		if int(id) <= sp.brokers && !containsID(taken, id) {
			return id
		}
	}
}

func containsID(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// setCapacity gives every broker the same capacity, sized so the mean
// utilization of each resource is sp.fill's.
func (sp synth) setCapacity(c *model.Cluster) {
	var total model.Load
	for _, l := range c.BrokerLoads() {
		total = total.Add(l.Load)
	}
	for i := range c.Brokers {
		for _, res := range model.Resources {
			c.Brokers[i].Capacity[res] = total[res] / float64(len(c.Brokers)) / sp.fill[res]
		}
	}
}

// benchFill leaves outbound network room for PotentialNwOutGoal: a broker
// that led all its replicas would send RF times its share.
var benchFill = model.Load{0.5, 0.5, 0.2, 0.5}

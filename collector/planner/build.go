package planner

import (
	"regexp"
	"slices"
	"strconv"

	"github.com/weirhq/weir/collector/model"
)

// newState indexes the model for planning: replicas by broker, sums per
// broker, racks and topics numbered, and which brokers may receive
// replicas and lead.
func newState(c *model.Cluster, o *Options) *state {
	s := &state{c: c, cfg: &o.Config, nb: len(c.Brokers), parts: make([]partition, len(c.Partitions))}
	s.indexBrokers(o.DestinationBrokers)
	s.indexTopics(o.ExcludedTopics)
	s.indexReplicas()
	return s
}

func (s *state) indexBrokers(destinations []int32) {
	s.canHost, s.canLead, s.dest = make([]bool, s.nb), make([]bool, s.nb), make([]bool, s.nb)
	adding := slices.ContainsFunc(s.c.Brokers, func(b model.Broker) bool { return b.State == model.New })
	racks := map[string]int32{}
	hostRacks := map[int32]bool{}
	s.rack = make([]int32, s.nb)
	for i, b := range s.c.Brokers {
		s.canHost[i], s.canLead[i] = b.State.CanHost(), b.State.CanLead()
		s.dest[i] = s.canHost[i] && (!adding || b.State == model.New) &&
			(len(destinations) == 0 || slices.Contains(destinations, b.ID))
		s.rack[i] = rackIndex(racks, b)
		if s.canHost[i] {
			hostRacks[s.rack[i]] = true
		}
	}
	s.racks = len(hostRacks)
	s.hostRack = make([]bool, len(racks))
	for k := range hostRacks {
		s.hostRack[k] = true
	}
}

// rackIndex numbers racks in broker order; a broker without a rack gets a
// number of its own.
func rackIndex(racks map[string]int32, b model.Broker) int32 {
	name := b.Rack
	if name == "" {
		name = "\x00broker-" + strconv.Itoa(int(b.ID))
	}
	if i, ok := racks[name]; ok {
		return i
	}
	racks[name] = int32(len(racks))
	return racks[name]
}

func (s *state) indexTopics(excluded *regexp.Regexp) {
	ps := s.c.Partitions
	for i := range ps {
		if i == 0 || ps[i].Topic != ps[i-1].Topic {
			ex := excluded != nil && excluded.MatchString(ps[i].Topic)
			s.topics = append(s.topics, topic{name: ps[i].Topic, start: int32(i), excluded: ex})
		}
		t := int32(len(s.topics) - 1)
		s.topics[t].end = int32(i + 1)
		s.parts[i].topic, s.parts[i].excluded = t, s.topics[t].excluded
	}
	s.byTopic = make([]int32, len(s.topics)*s.nb)
}

func (s *state) indexReplicas() {
	s.load = make([]brokerLoad, s.nb)
	s.hosted = make([][]int32, s.nb)
	ids := make(map[int32]int32, s.nb)
	for i, b := range s.c.Brokers {
		ids[b.ID] = int32(i)
	}
	for i := range s.c.Partitions {
		s.indexPartition(int32(i), &s.c.Partitions[i], ids)
	}
	s.orig = slices.Clone(s.slots)
	s.disk0 = make([]float64, s.nb)
	for b := range s.nb {
		s.disk0[b] = s.load[b].load[model.Disk]
	}
}

func (s *state) indexPartition(p int32, mp *model.Partition, ids map[int32]int32) {
	pp := &s.parts[p]
	pp.off, pp.rf, pp.leader = int32(len(s.slots)), int32(len(mp.Replicas)), -1
	pp.lead, pp.follow = mp.ReplicaLoad(true), mp.ReplicaLoad(false)
	for _, id := range mp.Replicas {
		s.slots = append(s.slots, ids[id])
	}
	if l, ok := ids[mp.Leader]; ok && mp.Leader >= 0 {
		pp.leader = l
	}
	for _, b := range s.replicas(p) {
		s.add(p, b, 1)
		s.hosted[b] = append(s.hosted[b], p)
	}
}

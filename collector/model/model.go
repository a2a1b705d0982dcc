// Package model is the collector's load model of a cluster: brokers with
// their rack, state and capacity, partitions with their replicas, leader
// and load, and the proposals the planner makes over them. Pure data and
// arithmetic, no I/O: the monitor builds a Cluster from metadata and the
// agents' samples, the planner reads one and returns a Proposal, the
// executor carries a Proposal out, the API renders both.
//
// Units are base units throughout: bytes, bytes per second, CPU cores.
// Cruise Control's units (MB, KB/s, percent) exist only at the REST edge.
//
// A replica's load follows Cruise Control's model with one correction:
// the leader's outbound network counts the followers' replication fetches
// as well as the consumers', because that is what leaves its NIC.
//
//	            CPU          NW_IN     NW_OUT                        DISK
//	leader      LeaderCPU    BytesIn   BytesOut + (RF-1)·BytesIn     Size
//	follower    FollowerCPU  BytesIn   0                             Size
package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Resource is one of the four resources Cruise Control balances.
type Resource uint8

// The resources, in Cruise Control's order.
const (
	CPU Resource = iota
	NetworkIn
	NetworkOut
	Disk
	NumResources = 4
)

// Resources lists every resource, for loops.
var Resources = [NumResources]Resource{CPU, NetworkIn, NetworkOut, Disk}

var resourceNames = [NumResources]string{"cpu", "networkInbound", "networkOutbound", "disk"}

// String is Cruise Control's JSON name for the resource.
func (r Resource) String() string {
	if r < NumResources {
		return resourceNames[r]
	}
	return fmt.Sprintf("resource(%d)", r)
}

// ParseResource accepts Cruise Control's JSON names and its enum names
// (CPU, NW_IN, NW_OUT, DISK), in any case.
func ParseResource(s string) (Resource, error) {
	switch strings.ToLower(s) {
	case "cpu":
		return CPU, nil
	case "networkinbound", "nw_in":
		return NetworkIn, nil
	case "networkoutbound", "nw_out":
		return NetworkOut, nil
	case "disk":
		return Disk, nil
	}
	return 0, fmt.Errorf("unknown resource %q (cpu, networkInbound, networkOutbound, disk)", s)
}

// Load is an amount of each resource: cores, bytes/s in, bytes/s out, bytes.
type Load [NumResources]float64

// Add returns l + o.
func (l Load) Add(o Load) Load {
	for r := range l {
		l[r] += o[r]
	}
	return l
}

// Sub returns l − o.
func (l Load) Sub(o Load) Load {
	for r := range l {
		l[r] -= o[r]
	}
	return l
}

// BrokerState is Cruise Control's broker state.
type BrokerState uint8

// Broker states. New brokers are being added (the planner may move
// replicas onto them and, with add_broker, only onto them); Demoted ones
// keep their replicas but lead none; Dead ones are offline and their
// replicas must move; Removing ones are being emptied.
const (
	Alive BrokerState = iota
	New
	Demoted
	Dead
	Removing
)

var stateNames = [...]string{"ALIVE", "NEW", "DEMOTED", "DEAD", "REMOVING"}

// String is Cruise Control's name for the state.
func (s BrokerState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", s)
}

// CanHost reports whether replicas may be placed on a broker in this state.
func (s BrokerState) CanHost() bool { return s == Alive || s == New || s == Demoted }

// CanLead reports whether a broker in this state may lead partitions.
func (s BrokerState) CanLead() bool { return s == Alive || s == New }

// Broker is one broker of the model.
type Broker struct {
	ID       int32
	Rack     string // "" when the broker has none
	Host     string
	State    BrokerState
	Capacity Load
	// CapacitySource says where Capacity came from: "agent" (the agent's
	// host readings), "file" (a capacity.json), or "default".
	CapacitySource string
}

// PartitionLoad is the load of one partition, averaged over the model's
// windows.
type PartitionLoad struct {
	Size        float64 // bytes one replica holds on disk
	BytesIn     float64 // produced, bytes per second
	BytesOut    float64 // fetched by consumers, bytes per second
	MessagesIn  float64 // records per second
	LeaderCPU   float64 // cores spent by the leader replica
	FollowerCPU float64 // cores spent by each follower replica
}

// Partition is one partition of the model.
type Partition struct {
	Topic     string
	Partition int32
	Replicas  []int32 // the assignment, preferred leader first
	Leader    int32   // -1 when offline
	Load      PartitionLoad
}

// Name is "topic-partition", Kafka's way of writing a partition.
func (p *Partition) Name() string { return fmt.Sprintf("%s-%d", p.Topic, p.Partition) }

// ReplicaLoad is the load one replica of p puts on its broker.
func (p *Partition) ReplicaLoad(leader bool) Load {
	if leader {
		return Load{
			CPU: p.Load.LeaderCPU, NetworkIn: p.Load.BytesIn, Disk: p.Load.Size,
			NetworkOut: p.Load.BytesOut + float64(max(len(p.Replicas)-1, 0))*p.Load.BytesIn,
		}
	}
	return Load{CPU: p.Load.FollowerCPU, NetworkIn: p.Load.BytesIn, Disk: p.Load.Size}
}

// Cluster is the load model: every broker (by id) and every partition (by
// topic, then partition), at one time.
type Cluster struct {
	Time       time.Time
	Brokers    []Broker
	Partitions []Partition
	// Windows is how many valid load windows the loads average;
	// ValidPartitionRatio the share of partitions with valid load.
	Windows             int
	ValidPartitionRatio float64
}

// Broker returns the broker with the id, or nil.
func (c *Cluster) Broker(id int32) *Broker {
	i, ok := slices.BinarySearchFunc(c.Brokers, id, func(b Broker, id int32) int { return int(b.ID - id) })
	if !ok {
		return nil
	}
	return &c.Brokers[i]
}

// Sort puts brokers in id order and partitions in (topic, partition) order.
func (c *Cluster) Sort() {
	slices.SortFunc(c.Brokers, func(a, b Broker) int { return int(a.ID - b.ID) })
	slices.SortFunc(c.Partitions, func(a, b Partition) int {
		if n := strings.Compare(a.Topic, b.Topic); n != 0 {
			return n
		}
		return int(a.Partition - b.Partition)
	})
}

// Validate checks the model's invariants: brokers unique and sorted,
// partitions sorted, every replica on a known broker and listed once, the
// leader one of the replicas (or -1), loads finite and non-negative.
func (c *Cluster) Validate() error {
	var errs []error
	for i := range c.Brokers {
		b := &c.Brokers[i]
		if i > 0 && c.Brokers[i-1].ID >= b.ID {
			errs = append(errs, fmt.Errorf("brokers not sorted by id at broker %d", b.ID))
		}
		if bad := badLoad(b.Capacity); bad != "" {
			errs = append(errs, fmt.Errorf("broker %d: capacity %s", b.ID, bad))
		}
	}
	for i := range c.Partitions {
		if err := c.validatePartition(i); err != nil {
			errs = append(errs, err)
		}
		if len(errs) > 20 {
			errs = append(errs, errors.New("more errors left out"))
			break
		}
	}
	return errors.Join(errs...)
}

func (c *Cluster) validatePartition(i int) error {
	p := &c.Partitions[i]
	if i > 0 {
		q := &c.Partitions[i-1]
		if q.Topic > p.Topic || q.Topic == p.Topic && q.Partition >= p.Partition {
			return fmt.Errorf("partitions not sorted at %s", p.Name())
		}
	}
	if len(p.Replicas) == 0 {
		return fmt.Errorf("%s: no replicas", p.Name())
	}
	for j, r := range p.Replicas {
		if c.Broker(r) == nil {
			return fmt.Errorf("%s: replica on unknown broker %d", p.Name(), r)
		}
		if slices.Contains(p.Replicas[:j], r) {
			return fmt.Errorf("%s: broker %d listed twice", p.Name(), r)
		}
	}
	if p.Leader != -1 && !slices.Contains(p.Replicas, p.Leader) {
		return fmt.Errorf("%s: leader %d is not a replica", p.Name(), p.Leader)
	}
	l := p.Load
	if bad := badLoad(Load{l.LeaderCPU, l.FollowerCPU, l.BytesIn, l.BytesOut}); bad != "" || !finite(l.Size) || l.Size < 0 {
		return fmt.Errorf("%s: load %+v is negative or not finite", p.Name(), l)
	}
	return nil
}

func badLoad(l Load) string {
	for r, v := range l {
		if !finite(v) || v < 0 {
			return fmt.Sprintf("%s = %v", Resource(r), v)
		}
	}
	return ""
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

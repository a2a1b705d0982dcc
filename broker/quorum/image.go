package quorum

import (
	"slices"
	"sort"

	"github.com/weirhq/weir/broker/acl"
	"github.com/weirhq/weir/broker/sasl"
)

// NoLeader is a partition's Leader when no replica may lead it.
const NoLeader int32 = -1

// ProducerIDBlockSize is how many producer ids AllocateProducerIDs hands
// out at a time (Kafka's controller uses the same size).
const ProducerIDBlockSize = 1000

// Broker is one registered broker.
type Broker struct {
	ID   int32  `json:"id"`
	Rack string `json:"rack,omitempty"`
	// Host and Port are the advertised Kafka listener.
	Host string `json:"host"`
	Port int32  `json:"port"`
	// RaftAddr is where the broker's raft node is reached (host:port of
	// the Kafka listener, raft connections start with RaftPreamble).
	RaftAddr string `json:"raft_addr"`
	// Listeners are the broker's advertised listeners by name (empty for
	// a registration older than them: Host and Port serve every
	// listener).
	Listeners []Endpoint `json:"listeners,omitempty"`
	// IncarnationID is chosen by the broker process at start; a new one
	// means the broker restarted.
	IncarnationID string `json:"incarnation_id"`
	// Epoch is the raft index of the registration: a newer registration
	// of the same id has a larger epoch (Kafka's broker epoch).
	Epoch int64 `json:"epoch"`
	// Fenced brokers lead nothing and are in no ISR unless they were the
	// last member; a broker registers fenced and is unfenced once it has
	// caught up with the metadata log.
	Fenced bool `json:"fenced"`
	// Features are the levels the broker registered as supported; nil
	// (a Weir older than them) supports level 0 of every feature.
	Features map[string]FeatureRange `json:"features,omitempty"`
}

// Endpoint returns the broker's advertised address on the listener named
// name, else its inter-broker one (Host and Port).
func (b Broker) Endpoint(name string) (string, int32) {
	for _, e := range b.Listeners {
		if e.Name == name {
			return e.Host, e.Port
		}
	}
	return b.Host, b.Port
}

// Partition is one partition's replica state.
type Partition struct {
	// Replicas is the assignment; Replicas[0] is the preferred leader.
	// While a reassignment runs it is the union of the old and the target
	// replicas (target first).
	Replicas []int32 `json:"replicas"`
	ISR      []int32 `json:"isr"`
	// Leader is NoLeader (-1) when no live ISR member exists.
	Leader int32 `json:"leader"`
	// LeaderEpoch grows by one on every leader change.
	LeaderEpoch int32 `json:"leader_epoch"`
	// PartitionEpoch grows by one on every change to the partition
	// (Kafka's partition epoch, checked by AlterPartition).
	PartitionEpoch   int32   `json:"partition_epoch"`
	AddingReplicas   []int32 `json:"adding,omitempty"`
	RemovingReplicas []int32 `json:"removing,omitempty"`
}

// Reassigning reports whether a reassignment is in flight.
func (p Partition) Reassigning() bool {
	return len(p.AddingReplicas) > 0 || len(p.RemovingReplicas) > 0
}

// TargetReplicas is where a reassignment ends (Replicas minus
// RemovingReplicas), or Replicas when none runs.
func (p Partition) TargetReplicas() []int32 {
	return without(p.Replicas, p.RemovingReplicas)
}

func (p Partition) clone() Partition {
	p.Replicas = slices.Clone(p.Replicas)
	p.ISR = slices.Clone(p.ISR)
	p.AddingReplicas = slices.Clone(p.AddingReplicas)
	p.RemovingReplicas = slices.Clone(p.RemovingReplicas)
	return p
}

// Topic is one topic. A published Topic is never modified, and neither is
// a published Partition's slices: a change replaces the whole Partition
// value (p.clone(), then assign), so a topic copy may share them.
type Topic struct {
	Name       string            `json:"name"`
	ID         TopicID           `json:"id"`
	Configs    map[string]string `json:"configs,omitempty"`
	Partitions []Partition       `json:"partitions"`
}

func (t *Topic) clone() *Topic {
	c := *t
	c.Configs = cloneMap(t.Configs)
	// Shallow: the partitions' slices are shared (see Topic). A deep copy
	// cost 2,000 allocations per ISR change in a 1,000-partition topic.
	c.Partitions = slices.Clone(t.Partitions)
	return &c
}

// Image is the metadata state after some prefix of the raft log. It is
// immutable once published: every applied batch that changes anything
// produces a new Image, sharing unchanged topics with the previous one.
// Readers hold the pointer as long as they like and must not modify
// anything reachable from it.
type Image struct {
	// Version is the raft index of the last log entry that changed the
	// state (entries that fail or change nothing leave it alone).
	Version   uint64 `json:"version"`
	ClusterID string `json:"cluster_id"`

	Brokers map[int32]Broker  `json:"brokers"`
	Topics  map[string]*Topic `json:"topics"`
	byID    map[TopicID]*Topic

	// BrokerConfigs are the dynamic cluster-default broker configs,
	// PerBrokerConfigs those set for one broker.
	BrokerConfigs    map[string]string           `json:"broker_configs,omitempty"`
	PerBrokerConfigs map[int32]map[string]string `json:"per_broker_configs,omitempty"`

	// NextProducerID is the first producer id not yet handed out.
	NextProducerID int64 `json:"next_producer_id"`

	// Scram holds users' SCRAM credentials by user and mechanism, and
	// ACLs the ACL bindings in the order created (security.go). Both are
	// replaced whole on change, never modified in place.
	Scram map[string]map[sasl.Mechanism]sasl.Credential `json:"scram,omitempty"`
	ACLs  []acl.Binding                                 `json:"acls,omitempty"`

	// Features are the finalized feature levels above 0 (features.go),
	// replaced whole on change.
	Features map[string]int16 `json:"features,omitempty"`
}

// EmptyImage is the state before the first log entry.
func EmptyImage() *Image {
	return &Image{
		Brokers: map[int32]Broker{},
		Topics:  map[string]*Topic{},
		byID:    map[TopicID]*Topic{},
	}
}

// Broker returns a registered broker.
func (img *Image) Broker(id int32) (Broker, bool) {
	b, ok := img.Brokers[id]
	return b, ok
}

// IsLive reports whether id is registered and not fenced.
func (img *Image) IsLive(id int32) bool {
	b, ok := img.Brokers[id]
	return ok && !b.Fenced
}

// LiveBrokers returns the unfenced brokers, sorted by id.
func (img *Image) LiveBrokers() []Broker {
	var out []Broker
	for _, b := range img.Brokers {
		if !b.Fenced {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// AllBrokers returns every registered broker, fenced or not, sorted by id.
func (img *Image) AllBrokers() []Broker {
	out := make([]Broker, 0, len(img.Brokers))
	for _, b := range img.Brokers {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Topic returns a topic by name. The result must not be modified.
func (img *Image) Topic(name string) (*Topic, bool) {
	t, ok := img.Topics[name]
	return t, ok
}

// TopicByID returns a topic by id. The result must not be modified.
func (img *Image) TopicByID(id TopicID) (*Topic, bool) {
	t, ok := img.byID[id]
	return t, ok
}

// TopicNames returns every topic name, sorted.
func (img *Image) TopicNames() []string {
	out := make([]string, 0, len(img.Topics))
	for n := range img.Topics {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Partition returns one partition of a topic. The slices in the result
// are shared with the image and must not be modified.
func (img *Image) Partition(topic string, p int32) (Partition, bool) {
	t, ok := img.Topics[topic]
	if !ok || p < 0 || int(p) >= len(t.Partitions) {
		return Partition{}, false
	}
	return t.Partitions[p], true
}

// TopicConfig returns a topic's override for key, falling back to the
// cluster-default broker config of the same name.
func (img *Image) TopicConfig(topic, key string) (string, bool) {
	if t, ok := img.Topics[topic]; ok {
		if v, ok := t.Configs[key]; ok {
			return v, true
		}
	}
	v, ok := img.BrokerConfigs[key]
	return v, ok
}

// BrokerConfig returns the dynamic config key for broker id: the per-broker
// value, else the cluster default.
func (img *Image) BrokerConfig(id int32, key string) (string, bool) {
	if v, ok := img.PerBrokerConfigs[id][key]; ok {
		return v, true
	}
	v, ok := img.BrokerConfigs[key]
	return v, ok
}

// rebuildIndex fills byID after decoding.
func (img *Image) rebuildIndex() {
	img.byID = make(map[TopicID]*Topic, len(img.Topics))
	for _, t := range img.Topics {
		img.byID[t.ID] = t
	}
}

// txn is a mutable view over a base image for applying one command:
// maps and topics are cloned on first write, so the base is never
// touched and an aborted command costs only the discarded copies.
type txn struct {
	base    *Image
	img     Image
	changed bool

	brokersOwned, topicsOwned, cfgOwned, perBrokerOwned bool
	ownedTopics                                         map[string]bool
}

func newTxn(base *Image) *txn {
	return &txn{base: base, img: *base, ownedTopics: map[string]bool{}}
}

// view is the current state for reading; it must not be modified.
func (t *txn) view() *Image { return &t.img }

func (t *txn) putBroker(b Broker) {
	if !t.brokersOwned {
		t.img.Brokers = cloneBrokers(t.img.Brokers)
		t.brokersOwned = true
	}
	t.img.Brokers[b.ID] = b
	t.changed = true
}

func (t *txn) deleteBroker(id int32) {
	if !t.brokersOwned {
		t.img.Brokers = cloneBrokers(t.img.Brokers)
		t.brokersOwned = true
	}
	delete(t.img.Brokers, id)
	t.changed = true
}

func (t *txn) ownTopicMaps() {
	if t.topicsOwned {
		return
	}
	t.img.Topics = cloneTopicMap(t.img.Topics)
	byID := make(map[TopicID]*Topic, len(t.img.byID))
	for id, tp := range t.img.byID {
		byID[id] = tp
	}
	t.img.byID = byID
	t.topicsOwned = true
}

// topicForWrite returns a private copy of the named topic, or nil.
func (t *txn) topicForWrite(name string) *Topic {
	tp, ok := t.img.Topics[name]
	if !ok {
		return nil
	}
	t.changed = true
	if t.ownedTopics[name] {
		return tp
	}
	t.ownTopicMaps()
	c := tp.clone()
	t.img.Topics[name] = c
	t.img.byID[c.ID] = c
	t.ownedTopics[name] = true
	return c
}

func (t *txn) putTopic(tp *Topic) {
	t.ownTopicMaps()
	t.img.Topics[tp.Name] = tp
	t.img.byID[tp.ID] = tp
	t.ownedTopics[tp.Name] = true
	t.changed = true
}

func (t *txn) deleteTopic(name string) {
	tp, ok := t.img.Topics[name]
	if !ok {
		return
	}
	t.ownTopicMaps()
	delete(t.img.Topics, name)
	delete(t.img.byID, tp.ID)
	t.changed = true
}

func (t *txn) setBrokerConfigs(c map[string]string) {
	t.img.BrokerConfigs = cloneMap(c)
	t.cfgOwned = true
	t.changed = true
}

func (t *txn) setPerBrokerConfigs(id int32, c map[string]string) {
	if !t.perBrokerOwned {
		m := make(map[int32]map[string]string, len(t.img.PerBrokerConfigs))
		for k, v := range t.img.PerBrokerConfigs {
			m[k] = v
		}
		t.img.PerBrokerConfigs = m
		t.perBrokerOwned = true
	}
	if len(c) == 0 {
		delete(t.img.PerBrokerConfigs, id)
	} else {
		t.img.PerBrokerConfigs[id] = cloneMap(c)
	}
	t.changed = true
}

// finish returns the new image, or the base when nothing changed.
func (t *txn) finish(index uint64) *Image {
	if !t.changed {
		return t.base
	}
	img := t.img
	img.Version = index
	return &img
}

func cloneBrokers(m map[int32]Broker) map[int32]Broker {
	out := make(map[int32]Broker, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneTopicMap(m map[string]*Topic) map[string]*Topic {
	out := make(map[string]*Topic, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// without returns the members of a not in b, in a's order.
func without(a, b []int32) []int32 {
	out := make([]int32, 0, len(a))
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

package quorum

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// A Command is one entry in the metadata log. Everything a command needs
// (topic ids, replica assignments) is decided by the proposer before it is
// proposed, so applying it is a pure function of the image and the entry.
// Apply is total: an invalid command changes nothing and yields an error
// that wraps a kerr code, never a panic.
type Command interface {
	// Op names the command in the log encoding.
	Op() string
	// apply validates the command against t's state and changes t only
	// when it is valid. index is the command's raft index.
	apply(t *txn, index uint64) (any, error)
}

// encodingVersion is the first byte of every encoded command.
const encodingVersion byte = 1

// ClusterDefault is SetBrokerConfigs.BrokerID for the cluster-wide
// default broker configs.
const ClusterDefault int32 = -1

// ElectionType is ElectLeaders' election type, numbered as Kafka's.
type ElectionType int8

const (
	ElectPreferred ElectionType = 0
	ElectUnclean   ElectionType = 1
)

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

// InitCluster sets the cluster id once; the first one committed wins and
// a later different id is INCONSISTENT_CLUSTER_ID. Features are the
// levels the new cluster starts at (BootstrapFeatures), set with the id
// and never again (an entry without them, from an older Weir, leaves
// every feature at 0).
type InitCluster struct {
	ClusterID string           `json:"cluster_id"`
	Features  map[string]int16 `json:"features,omitempty"`
}

// RegisterBroker registers (or re-registers) a broker. The broker starts
// fenced. Re-registering with the same incarnation is idempotent; a new
// incarnation fences the old one (moving its leaderships) and gets a new
// epoch. Result: RegisterResult.
type RegisterBroker struct {
	ID            int32  `json:"id"`
	IncarnationID string `json:"incarnation_id"`
	Rack          string `json:"rack,omitempty"`
	Host          string `json:"host"`
	Port          int32  `json:"port"`
	RaftAddr      string `json:"raft_addr"`
	// Listeners are every advertised listener (Host and Port are the
	// inter-broker one's), so that a client is told the addresses of the
	// listener it connected to.
	Listeners []Endpoint `json:"listeners,omitempty"`
	// Features are the levels the broker can run (BrokerRegistration's
	// Features); at MetadataPreconditions the apply refuses a broker that
	// cannot run a finalized level (CheckRegistration).
	Features map[string]FeatureRange `json:"features,omitempty"`
}

// Endpoint is one named advertised listener of a broker.
type Endpoint struct {
	Name string `json:"name"`
	Host string `json:"host"`
	Port int32  `json:"port"`
}

// RegisterResult is RegisterBroker's result.
type RegisterResult struct {
	Epoch int64
}

// FenceBroker fences a broker: it leaves every ISR it is not the last
// member of, and its leaderships move to another live ISR member (or to
// no one). Epoch, when non-zero, must be the broker's current epoch.
type FenceBroker struct {
	ID    int32 `json:"id"`
	Epoch int64 `json:"epoch,omitempty"`
}

// UnfenceBroker unfences a broker; leaderless partitions it can lead get
// it as their leader. Epoch, when non-zero, must match.
type UnfenceBroker struct {
	ID    int32 `json:"id"`
	Epoch int64 `json:"epoch,omitempty"`
}

// UnregisterBroker fences a broker and forgets it (Kafka's
// UnregisterBroker, KIP-631): as on fencing it leaves every ISR it is not
// the last member of and its leaderships move, then its registration is
// deleted, so Metadata stops listing it and elections stop considering
// it. Its replica assignments stay (empty a broker before unregistering
// it). A broker still running registers again. The leader's membership
// loop (Node) then drops it from the raft configuration if it is a
// non-voter; a voter stays a voter.
type UnregisterBroker struct {
	ID int32 `json:"id"`
}

// CreateTopic creates a topic with the given id and assignment (one
// replica list per partition, all the same length). Each partition's ISR
// is its live replicas and its leader the first of them. Result: *Topic.
type CreateTopic struct {
	Name       string            `json:"name"`
	ID         TopicID           `json:"id"`
	Configs    map[string]string `json:"configs,omitempty"`
	Assignment [][]int32         `json:"assignment"`
}

// DeleteTopic deletes a topic.
type DeleteTopic struct {
	Name string `json:"name"`
}

// CreatePartitions appends partitions to a topic; Assignment holds the
// replica lists of the new partitions only. From is the partition count
// the assignment was placed against: the apply refuses the command when
// the topic no longer has From partitions, so a CreatePartitions sent
// again (its first answer lost or timed out, or two clients asking for
// the same count at once, each handler reading the image before the
// other's entry applied) never adds the partitions twice. As in Kafka,
// whose PartitionRecord names the partition id. 0 (entries written
// before the field existed) appends unchecked.
type CreatePartitions struct {
	Topic      string    `json:"topic"`
	Assignment [][]int32 `json:"assignment"`
	From       int32     `json:"from,omitempty"`
}

// SetTopicConfigs replaces a topic's config overrides. With CheckBase,
// Configs is an edit of Base (IncrementalAlterConfigs) and the apply
// refuses it with ErrConfigsChanged unless the overrides are still Base,
// so two edits of one topic at once never erase each other's keys.
type SetTopicConfigs struct {
	Topic     string            `json:"topic"`
	Configs   map[string]string `json:"configs,omitempty"`
	Base      map[string]string `json:"base,omitempty"`
	CheckBase bool              `json:"check_base,omitempty"`
}

// SetBrokerConfigs replaces the dynamic configs of one broker, or the
// cluster default when BrokerID is ClusterDefault; Base and CheckBase as
// in SetTopicConfigs.
type SetBrokerConfigs struct {
	BrokerID  int32             `json:"broker_id"`
	Configs   map[string]string `json:"configs,omitempty"`
	Base      map[string]string `json:"base,omitempty"`
	CheckBase bool              `json:"check_base,omitempty"`
}

// ErrConfigsChanged is the error of a SetTopicConfigs or SetBrokerConfigs
// whose Base is no longer the resource's configs: read them again and
// edit again.
var ErrConfigsChanged = errors.New("the configs changed since they were read")

// AlterPartition is a partition leader's ISR change, with Kafka's
// AlterPartition checks: FENCED_LEADER_EPOCH when LeaderEpoch is not the
// current one, INVALID_REQUEST when BrokerID is not the leader,
// INVALID_UPDATE_VERSION when PartitionEpoch is not the current one,
// INELIGIBLE_REPLICA when the ISR names a fenced broker, STALE_BROKER_EPOCH
// when BrokerEpoch is stale. When the new ISR holds every target replica
// of a running reassignment, the reassignment completes in the same
// change. Result: the new Partition.
type AlterPartition struct {
	BrokerID       int32   `json:"broker_id"`
	BrokerEpoch    int64   `json:"broker_epoch,omitempty"`
	Topic          string  `json:"topic"`
	TopicID        TopicID `json:"topic_id,omitzero"`
	Partition      int32   `json:"partition"`
	LeaderEpoch    int32   `json:"leader_epoch"`
	PartitionEpoch int32   `json:"partition_epoch"`
	ISR            []int32 `json:"isr"`
}

// AlterPartitions is one AlterPartition request's changes in one log
// entry: each is checked and applied as AlterPartition alone would be,
// in order, against the state the earlier ones left. The command itself
// succeeds; each change has its own result. A leader that lost or regained
// followers on hundreds of partitions at once (a broker stopping or
// returning) commits them together, not one raft round trip apiece.
// Result: []AlterPartitionResult, one per change.
type AlterPartitions struct {
	Changes []AlterPartition `json:"changes"`
}

// AlterPartitionResult is one change's outcome of AlterPartitions: the new
// Partition, or Err (wrapping a kerr code, as AlterPartition's).
type AlterPartitionResult struct {
	Partition Partition
	Err       error
}

// Reassign starts (or replaces) a reassignment of one partition to
// Replicas; nil Replicas cancels the running one. While it runs the
// partition's replicas are the union of target and original (target
// first); it completes when every target replica is in the ISR.
type Reassign struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Replicas  []int32 `json:"replicas"`
}

// CompleteReassignment finishes a reassignment whose target replicas are
// all in the ISR (REASSIGNMENT_IN_PROGRESS when they are not yet).
type CompleteReassignment struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

// ElectLeaders runs preferred or unclean elections. The command itself
// succeeds; each partition has its own result. Result: []ElectionResult.
type ElectLeaders struct {
	Type       ElectionType     `json:"type"`
	Partitions []TopicPartition `json:"partitions"`
}

// ElectionResult is one partition's outcome of ElectLeaders; Err is nil
// or wraps a kerr code (ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE,
// ELIGIBLE_LEADERS_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION).
type ElectionResult struct {
	TopicPartition
	Leader int32
	Err    error
}

// AllocateProducerIDs reserves the next block of ProducerIDBlockSize
// producer ids for a broker. Result: ProducerIDBlock.
type AllocateProducerIDs struct {
	BrokerID    int32 `json:"broker_id"`
	BrokerEpoch int64 `json:"broker_epoch,omitempty"`
}

// ProducerIDBlock is a reserved range [First, First+Size).
type ProducerIDBlock struct {
	First int64
	Size  int32
}

func (InitCluster) Op() string          { return "init_cluster" }
func (RegisterBroker) Op() string       { return "register_broker" }
func (FenceBroker) Op() string          { return "fence_broker" }
func (UnfenceBroker) Op() string        { return "unfence_broker" }
func (UnregisterBroker) Op() string     { return "unregister_broker" }
func (CreateTopic) Op() string          { return "create_topic" }
func (DeleteTopic) Op() string          { return "delete_topic" }
func (CreatePartitions) Op() string     { return "create_partitions" }
func (SetTopicConfigs) Op() string      { return "set_topic_configs" }
func (SetBrokerConfigs) Op() string     { return "set_broker_configs" }
func (AlterPartition) Op() string       { return "alter_partition" }
func (AlterPartitions) Op() string      { return "alter_partitions" }
func (Reassign) Op() string             { return "reassign" }
func (CompleteReassignment) Op() string { return "complete_reassignment" }
func (ElectLeaders) Op() string         { return "elect_leaders" }
func (AllocateProducerIDs) Op() string  { return "allocate_producer_ids" }

// decoders maps an op to a function decoding its body.
var decoders = map[string]func(json.RawMessage) (Command, error){
	"init_cluster":          decodeAs[InitCluster],
	"register_broker":       decodeAs[RegisterBroker],
	"fence_broker":          decodeAs[FenceBroker],
	"unfence_broker":        decodeAs[UnfenceBroker],
	"unregister_broker":     decodeAs[UnregisterBroker],
	"create_topic":          decodeAs[CreateTopic],
	"delete_topic":          decodeAs[DeleteTopic],
	"create_partitions":     decodeAs[CreatePartitions],
	"set_topic_configs":     decodeAs[SetTopicConfigs],
	"set_broker_configs":    decodeAs[SetBrokerConfigs],
	"alter_partition":       decodeAs[AlterPartition],
	"alter_partitions":      decodeAs[AlterPartitions],
	"reassign":              decodeAs[Reassign],
	"complete_reassignment": decodeAs[CompleteReassignment],
	"elect_leaders":         decodeAs[ElectLeaders],
	"allocate_producer_ids": decodeAs[AllocateProducerIDs],

	"alter_scram_credentials": decodeAs[AlterScramCredentials],
	"create_acls":             decodeAs[CreateACLs],
	"delete_acls":             decodeAs[DeleteACLs],

	"set_feature_level": decodeAs[SetFeatureLevel],
}

// Ops lists every command op, sorted (for docs and tests).
func Ops() []string {
	out := make([]string, 0, len(decoders))
	for op := range decoders {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

func decodeAs[C Command](b json.RawMessage) (Command, error) {
	var c C
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return c, nil
}

// envelope is the encoded form after the version byte.
type envelope struct {
	Op  string          `json:"op"`
	Cmd json.RawMessage `json:"cmd"`
}

// ErrBadEntry is wrapped by Decode's errors.
var ErrBadEntry = errors.New("undecodable metadata log entry")

// Encode renders a command as a log entry: one version byte, then the
// JSON envelope {"op":…,"cmd":{…}}.
func Encode(c Command) ([]byte, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", c.Op(), err)
	}
	env, err := json.Marshal(envelope{Op: c.Op(), Cmd: body})
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", c.Op(), err)
	}
	return append([]byte{encodingVersion}, env...), nil
}

// Decode reads a log entry written by Encode.
func Decode(b []byte) (Command, error) {
	if len(b) == 0 || b[0] != encodingVersion {
		return nil, fmt.Errorf("%w: unknown encoding version", ErrBadEntry)
	}
	var env envelope
	if err := json.Unmarshal(b[1:], &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEntry, err)
	}
	dec, ok := decoders[env.Op]
	if !ok {
		return nil, fmt.Errorf("%w: unknown op %q", ErrBadEntry, env.Op)
	}
	c, err := dec(env.Cmd)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadEntry, env.Op, err)
	}
	return c, nil
}

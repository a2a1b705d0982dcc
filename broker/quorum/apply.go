package quorum

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
)

// applyCommand applies c at index to base and returns the resulting image
// (base itself when c failed or changed nothing).
func applyCommand(base *Image, c Command, index uint64) (*Image, any, error) {
	t := newTxn(base)
	res, err := c.apply(t, index)
	if err != nil {
		return base, nil, err
	}
	return t.finish(index), res, nil
}

// kafkaErr wraps a kerr code with what was being done.
func kafkaErr(code *kerr.Error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), code)
}

func (c InitCluster) apply(t *txn, _ uint64) (any, error) {
	img := t.view()
	switch {
	case c.ClusterID == "":
		return nil, kafkaErr(kerr.InvalidRequest, "init cluster: empty cluster id")
	case img.ClusterID == c.ClusterID:
		return nil, nil
	case img.ClusterID != "":
		return nil, kafkaErr(kerr.InconsistentClusterID, "init cluster %s: cluster id is already %s", c.ClusterID, img.ClusterID)
	}
	for name, level := range c.Features {
		if err := (SetFeatureLevel{Name: name, Level: level}).checkLocal(img); err != nil {
			return nil, fmt.Errorf("init cluster %s: %w", c.ClusterID, err)
		}
	}
	t.img.ClusterID = c.ClusterID
	for name, level := range c.Features {
		if level != 0 {
			t.setFeatureLevel(name, level)
		}
	}
	t.changed = true
	return nil, nil
}

func (c RegisterBroker) apply(t *txn, index uint64) (any, error) {
	if c.ID < 0 || c.IncarnationID == "" || c.Host == "" || c.Port <= 0 || c.Port > math.MaxUint16 {
		return nil, kafkaErr(kerr.InvalidRequest, "register broker %d: id, incarnation, host and port are required", c.ID)
	}
	if t.view().Preconditions() {
		if err := CheckRegistration(t.view(), c.Features); err != nil {
			return nil, fmt.Errorf("register broker %d: %w", c.ID, err)
		}
	}
	if old, ok := t.view().Brokers[c.ID]; ok {
		if old.IncarnationID == c.IncarnationID {
			return RegisterResult{Epoch: old.Epoch}, nil
		}
		if !old.Fenced {
			fence(t, c.ID)
		}
	}
	t.putBroker(Broker{
		ID: c.ID, Rack: c.Rack, Host: c.Host, Port: c.Port, RaftAddr: c.RaftAddr, Listeners: c.Listeners,
		IncarnationID: c.IncarnationID, Epoch: int64(index), Fenced: true, Features: c.Features,
	})
	return RegisterResult{Epoch: int64(index)}, nil
}

func checkBrokerEpoch(img *Image, id int32, epoch int64, what string) (Broker, error) {
	b, ok := img.Brokers[id]
	if !ok {
		return b, kafkaErr(kerr.BrokerIDNotRegistered, "%s: broker %d is not registered", what, id)
	}
	if epoch != 0 && epoch != b.Epoch {
		return b, kafkaErr(kerr.StaleBrokerEpoch, "%s: broker %d has epoch %d, not %d", what, id, b.Epoch, epoch)
	}
	return b, nil
}

func (c FenceBroker) apply(t *txn, _ uint64) (any, error) {
	b, err := checkBrokerEpoch(t.view(), c.ID, c.Epoch, "fence broker")
	if err != nil || b.Fenced {
		return nil, err
	}
	fence(t, c.ID)
	return nil, nil
}

func (c UnfenceBroker) apply(t *txn, _ uint64) (any, error) {
	b, err := checkBrokerEpoch(t.view(), c.ID, c.Epoch, "unfence broker")
	if err != nil || !b.Fenced {
		return nil, err
	}
	b.Fenced = false
	t.putBroker(b)
	electOffline(t)
	return nil, nil
}

func (c UnregisterBroker) apply(t *txn, _ uint64) (any, error) {
	b, ok := t.view().Brokers[c.ID]
	if !ok {
		return nil, kafkaErr(kerr.BrokerIDNotRegistered, "unregister broker %d", c.ID)
	}
	if !b.Fenced {
		fence(t, c.ID)
	}
	t.deleteBroker(c.ID)
	return nil, nil
}

// fence marks id fenced and applies OnBrokerFenced's partition changes.
func fence(t *txn, id int32) {
	b := t.view().Brokers[id]
	b.Fenced = true
	t.putBroker(b)
	for _, ch := range partitionChangesOnFence(t.view(), id) {
		t.topicForWrite(ch.Topic).Partitions[ch.Partition] = ch.New
	}
}

// electOffline gives leaderless partitions a leader where one is now
// eligible (after a broker was unfenced).
func electOffline(t *txn) {
	img := t.view()
	for _, name := range img.TopicNames() {
		for i, p := range img.Topics[name].Partitions {
			if p.Leader != NoLeader {
				continue
			}
			leader, unclean := ElectLeader(p, img.IsLive, uncleanEnabled(img, name))
			if leader == NoLeader {
				continue
			}
			np := p.clone()
			if unclean {
				np.ISR = []int32{leader}
			}
			setLeader(&np, leader)
			t.topicForWrite(name).Partitions[i] = np
		}
	}
}

// setLeader changes p's leader, bumping the epochs.
func setLeader(p *Partition, leader int32) {
	if p.Leader != leader {
		p.Leader = leader
		p.LeaderEpoch++
	}
	p.PartitionEpoch++
}

func uncleanEnabled(img *Image, topic string) bool {
	v, _ := img.TopicConfig(topic, "unclean.leader.election.enable")
	return v == "true"
}

func (c CreateTopic) apply(t *txn, _ uint64) (any, error) {
	img := t.view()
	if err := ValidTopicName(c.Name); err != nil {
		return nil, fmt.Errorf("create topic: %w", err)
	}
	if _, ok := img.Topics[c.Name]; ok {
		return nil, kafkaErr(kerr.TopicAlreadyExists, "create topic %s", c.Name)
	}
	if _, ok := img.byID[c.ID]; ok || c.ID == (TopicID{}) {
		return nil, kafkaErr(kerr.InvalidRequest, "create topic %s: topic id %s is zero or in use", c.Name, c.ID)
	}
	if len(c.Assignment) == 0 {
		return nil, kafkaErr(kerr.InvalidPartitions, "create topic %s: no partitions", c.Name)
	}
	parts, err := newPartitions(img, c.Assignment, len(c.Assignment[0]))
	if err != nil {
		return nil, fmt.Errorf("create topic %s: %w", c.Name, err)
	}
	tp := &Topic{Name: c.Name, ID: c.ID, Configs: cloneMap(c.Configs), Partitions: parts}
	t.putTopic(tp)
	return tp, nil
}

// newPartitions validates an assignment of new partitions and builds
// them: ISR = live replicas, leader = first of them.
func newPartitions(img *Image, assignment [][]int32, rf int) ([]Partition, error) {
	out := make([]Partition, 0, len(assignment))
	for i, replicas := range assignment {
		if err := ValidateReplicas(img, replicas, rf, false); err != nil {
			return nil, fmt.Errorf("partition %d: %w", i, err)
		}
		isr := make([]int32, 0, len(replicas))
		for _, r := range replicas {
			if img.IsLive(r) {
				isr = append(isr, r)
			}
		}
		if len(isr) == 0 {
			return nil, kafkaErr(kerr.InvalidReplicaAssignment, "partition %d: every replica is fenced", i)
		}
		out = append(out, Partition{Replicas: slices.Clone(replicas), ISR: isr, Leader: isr[0]})
	}
	return out, nil
}

// ValidTopicName checks Kafka's topic name rules.
func ValidTopicName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 249 {
		return kafkaErr(kerr.InvalidTopicException, "topic name %q", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return kafkaErr(kerr.InvalidTopicException, "topic name %q has an illegal character", name)
		}
	}
	return nil
}

func (c DeleteTopic) apply(t *txn, _ uint64) (any, error) {
	if _, ok := t.view().Topics[c.Name]; !ok {
		return nil, kafkaErr(kerr.UnknownTopicOrPartition, "delete topic %s", c.Name)
	}
	t.deleteTopic(c.Name)
	return nil, nil
}

func (c CreatePartitions) apply(t *txn, _ uint64) (any, error) {
	img := t.view()
	tp, ok := img.Topics[c.Topic]
	if !ok {
		return nil, kafkaErr(kerr.UnknownTopicOrPartition, "create partitions of %s", c.Topic)
	}
	if len(c.Assignment) == 0 || len(tp.Partitions)+len(c.Assignment) > math.MaxInt32 {
		return nil, kafkaErr(kerr.InvalidPartitions, "create partitions of %s: %d new partitions", c.Topic, len(c.Assignment))
	}
	if c.From != 0 && int(c.From) != len(tp.Partitions) {
		return nil, kafkaErr(kerr.InvalidPartitions, "create partitions of %s: it has %d partitions, not %d", c.Topic, len(tp.Partitions), c.From)
	}
	parts, err := newPartitions(img, c.Assignment, len(tp.Partitions[0].TargetReplicas()))
	if err != nil {
		return nil, fmt.Errorf("create partitions of %s: %w", c.Topic, err)
	}
	w := t.topicForWrite(c.Topic)
	w.Partitions = append(w.Partitions, parts...)
	return nil, nil
}

func (c SetTopicConfigs) apply(t *txn, _ uint64) (any, error) {
	tp, ok := t.view().Topics[c.Topic]
	if !ok {
		return nil, kafkaErr(kerr.UnknownTopicOrPartition, "set configs of %s", c.Topic)
	}
	if c.CheckBase && !maps.Equal(tp.Configs, c.Base) {
		return nil, fmt.Errorf("set configs of %s: %w", c.Topic, ErrConfigsChanged)
	}
	t.topicForWrite(c.Topic).Configs = cloneMap(c.Configs)
	return nil, nil
}

func (c SetBrokerConfigs) apply(t *txn, _ uint64) (any, error) {
	img := t.view()
	var current map[string]string
	switch {
	case c.BrokerID == ClusterDefault:
		current = img.BrokerConfigs
	case c.BrokerID >= 0:
		current = img.PerBrokerConfigs[c.BrokerID]
	default:
		return nil, kafkaErr(kerr.InvalidRequest, "set configs of broker %d", c.BrokerID)
	}
	if c.CheckBase && !maps.Equal(current, c.Base) {
		return nil, fmt.Errorf("set configs of broker %d: %w", c.BrokerID, ErrConfigsChanged)
	}
	if c.BrokerID == ClusterDefault {
		t.setBrokerConfigs(c.Configs)
	} else {
		t.setPerBrokerConfigs(c.BrokerID, c.Configs)
	}
	return nil, nil
}

// lookupPartition finds a partition for a command.
func lookupPartition(img *Image, topic string, p int32, what string) (Partition, error) {
	part, ok := img.Partition(topic, p)
	if !ok {
		return part, kafkaErr(kerr.UnknownTopicOrPartition, "%s %s-%d", what, topic, p)
	}
	return part, nil
}

func (c AlterPartition) apply(t *txn, _ uint64) (any, error) {
	img := t.view()
	what := fmt.Sprintf("alter partition %s-%d", c.Topic, c.Partition)
	p, err := lookupPartition(img, c.Topic, c.Partition, "alter partition")
	if err != nil {
		return nil, err
	}
	if c.TopicID != (TopicID{}) && c.TopicID != img.Topics[c.Topic].ID {
		return nil, kafkaErr(kerr.UnknownTopicID, "%s: topic id %s", what, c.TopicID)
	}
	if _, err := checkBrokerEpoch(img, c.BrokerID, c.BrokerEpoch, what); err != nil {
		// Kafka answers STALE_BROKER_EPOCH for an unregistered broker too.
		if errors.Is(err, kerr.StaleBrokerEpoch) {
			return nil, err
		}
		return nil, kafkaErr(kerr.StaleBrokerEpoch, "%s: broker %d is not registered", what, c.BrokerID)
	}
	if err := checkAlterPartition(img, p, c); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if slices.Equal(p.ISR, c.ISR) {
		return p.clone(), nil
	}
	np := p.clone()
	np.ISR = slices.Clone(c.ISR)
	np.PartitionEpoch++
	completeReassignment(&np, img.IsLive)
	t.topicForWrite(c.Topic).Partitions[c.Partition] = np
	return np.clone(), nil
}

func (c AlterPartitions) apply(t *txn, index uint64) (any, error) {
	out := make([]AlterPartitionResult, len(c.Changes))
	for i, ch := range c.Changes {
		// AlterPartition checks everything before it writes: a change
		// that fails leaves the transaction as it was.
		res, err := ch.apply(t, index)
		out[i].Err = err
		if err == nil {
			out[i].Partition = res.(Partition)
		}
	}
	return out, nil
}

// checkAlterPartition is Kafka's validation of one AlterPartition
// partition, in Kafka's order.
func checkAlterPartition(img *Image, p Partition, c AlterPartition) error {
	switch {
	case c.LeaderEpoch != p.LeaderEpoch:
		return kafkaErr(kerr.FencedLeaderEpoch, "leader epoch is %d, not %d", p.LeaderEpoch, c.LeaderEpoch)
	case c.BrokerID != p.Leader:
		return kafkaErr(kerr.InvalidRequest, "broker %d is not the leader %d", c.BrokerID, p.Leader)
	case c.PartitionEpoch != p.PartitionEpoch:
		return kafkaErr(kerr.InvalidUpdateVersion, "partition epoch is %d, not %d", p.PartitionEpoch, c.PartitionEpoch)
	case !slices.Contains(c.ISR, p.Leader):
		return kafkaErr(kerr.InvalidRequest, "the ISR %v does not hold the leader %d", c.ISR, p.Leader)
	}
	seen := map[int32]bool{}
	for _, r := range c.ISR {
		if seen[r] || !slices.Contains(p.Replicas, r) {
			return kafkaErr(kerr.InvalidRequest, "ISR %v is not a set of replicas %v", c.ISR, p.Replicas)
		}
		seen[r] = true
		if !img.IsLive(r) && !slices.Contains(p.ISR, r) {
			return kafkaErr(kerr.IneligibleReplica, "broker %d is fenced or not registered", r)
		}
	}
	return nil
}

func (c Reassign) apply(t *txn, _ uint64) (any, error) {
	img := t.view()
	what := fmt.Sprintf("reassign %s-%d", c.Topic, c.Partition)
	p, err := lookupPartition(img, c.Topic, c.Partition, "reassign")
	if err != nil {
		return nil, err
	}
	var np Partition
	if c.Replicas == nil {
		np, err = cancelReassignment(p, img.IsLive)
	} else {
		if err := ValidateReplicas(img, c.Replicas, 0, true); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		np, err = startReassignment(p, c.Replicas, img.IsLive)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if np.PartitionEpoch != p.PartitionEpoch {
		t.topicForWrite(c.Topic).Partitions[c.Partition] = np
	}
	return np.clone(), nil
}

func (c CompleteReassignment) apply(t *txn, _ uint64) (any, error) {
	img := t.view()
	p, err := lookupPartition(img, c.Topic, c.Partition, "complete reassignment")
	if err != nil {
		return nil, err
	}
	if !p.Reassigning() {
		return nil, kafkaErr(kerr.NoReassignmentInProgress, "complete reassignment %s-%d", c.Topic, c.Partition)
	}
	np := p.clone()
	if !completeReassignment(&np, img.IsLive) {
		return nil, kafkaErr(kerr.ReassignmentInProgress, "complete reassignment %s-%d: target %v not all in ISR %v", c.Topic, c.Partition, p.TargetReplicas(), p.ISR)
	}
	np.PartitionEpoch++
	t.topicForWrite(c.Topic).Partitions[c.Partition] = np
	return np.clone(), nil
}

func (c ElectLeaders) apply(t *txn, _ uint64) (any, error) {
	if c.Type != ElectPreferred && c.Type != ElectUnclean {
		return nil, kafkaErr(kerr.InvalidRequest, "elect leaders: election type %d", c.Type)
	}
	out := make([]ElectionResult, 0, len(c.Partitions))
	for _, tp := range c.Partitions {
		r := ElectionResult{TopicPartition: tp, Leader: NoLeader}
		p, err := lookupPartition(t.view(), tp.Topic, tp.Partition, "elect leader")
		if err == nil {
			var np Partition
			np, err = electFor(t.view(), p, c.Type)
			if err == nil {
				t.topicForWrite(tp.Topic).Partitions[tp.Partition] = np
			}
			r.Leader = np.Leader
		}
		r.Err = err
		out = append(out, r)
	}
	return out, nil
}

// electFor runs one preferred or unclean election.
func electFor(img *Image, p Partition, typ ElectionType) (Partition, error) {
	np := p.clone()
	if typ == ElectPreferred {
		pref := p.Replicas[0]
		switch {
		case p.Leader == pref:
			return p, kafkaErr(kerr.ElectionNotNeeded, "broker %d already leads", pref)
		case !img.IsLive(pref) || !slices.Contains(p.ISR, pref):
			return p, kafkaErr(kerr.PreferredLeaderNotAvailable, "broker %d is fenced or out of the ISR", pref)
		}
		setLeader(&np, pref)
		return np, nil
	}
	if p.Leader != NoLeader {
		return p, kafkaErr(kerr.ElectionNotNeeded, "broker %d leads", p.Leader)
	}
	leader, unclean := ElectLeader(p, img.IsLive, true)
	if leader == NoLeader {
		return p, kafkaErr(kerr.EligibleLeadersNotAvailable, "no live replica in %v", p.Replicas)
	}
	if unclean {
		np.ISR = []int32{leader}
	}
	setLeader(&np, leader)
	return np, nil
}

func (c AllocateProducerIDs) apply(t *txn, _ uint64) (any, error) {
	img := t.view()
	if _, err := checkBrokerEpoch(img, c.BrokerID, c.BrokerEpoch, "allocate producer ids"); err != nil {
		return nil, err
	}
	if img.NextProducerID > math.MaxInt64-ProducerIDBlockSize {
		return nil, kafkaErr(kerr.UnknownServerError, "allocate producer ids: producer ids exhausted")
	}
	first := img.NextProducerID
	t.img.NextProducerID = first + ProducerIDBlockSize
	t.changed = true
	return ProducerIDBlock{First: first, Size: ProducerIDBlockSize}, nil
}

package server

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/broker/config"
	"github.com/weirhq/weir/broker/quorum"
)

// Metadata changes go through the controller: it validates, decides the
// placement, and commits a command to the metadata log; every broker then
// applies the new image (reconcile.go). Requests that change metadata are
// answered with NOT_CONTROLLER by other brokers, and clients retry on the
// controller their Metadata response names. Brokers' own needs (topic
// auto-creation, __consumer_offsets) are forwarded to the controller.

// adminResult is a Kafka error code and message for one resource.
// stale: the command was refused because the state it was computed from
// changed (quorum.ErrConfigsChanged); compute it again and retry.
type adminResult struct {
	code  int16
	msg   string
	stale bool
}

func ok() adminResult { return adminResult{} }

func fail(e *kerr.Error, msg string) adminResult { return adminResult{code: e.Code, msg: msg} }

// fromErr turns a command or proposal error into a result.
func fromErr(err error) adminResult {
	if err == nil {
		return ok()
	}
	return adminResult{code: errCode(err), msg: err.Error(), stale: errors.Is(err, quorum.ErrConfigsChanged)}
}

// notController is the answer of a broker that does not lead the quorum.
func (b *Broker) notController() (adminResult, bool) {
	if b.node.IsLeader() {
		return ok(), false
	}
	return fail(kerr.NotController, "this broker is not the active controller"), true
}

// createTopicSpec is a validated CreateTopics entry.
type createTopicSpec struct {
	name       string
	partitions int32
	rf         int16
	assignment [][]int32 // explicit, or nil: placed by the controller
	configs    map[string]string
}

// createTopic creates a topic (controller only). validateOnly checks
// everything and commits nothing. It returns the new topic's id.
func (b *Broker) createTopic(s createTopicSpec, validateOnly bool) (quorum.TopicID, adminResult) {
	if r, no := b.notController(); no {
		return quorum.TopicID{}, r
	}
	img := b.node.Image()
	if err := validTopicName(s.name); err != nil {
		return quorum.TopicID{}, fail(kerr.InvalidTopicException, err.Error())
	}
	if _, exists := img.Topic(s.name); exists {
		return quorum.TopicID{}, fail(kerr.TopicAlreadyExists, "Topic '"+s.name+"' already exists.")
	}
	if err := config.ValidateTopicConfigs(s.configs); err != nil {
		return quorum.TopicID{}, fail(kerr.InvalidConfig, err.Error())
	}
	if _, err := b.cfg.TopicSettings(s.configs, b.brokerDynamicConfigs(img)); err != nil {
		return quorum.TopicID{}, fail(kerr.InvalidConfig, err.Error())
	}
	assignment := s.assignment
	if assignment == nil {
		var err error
		if assignment, err = quorum.PlaceReplicas(img, int(s.partitions), int(s.rf), rand.IntN(1<<20)); err != nil {
			return quorum.TopicID{}, fromErr(err)
		}
	} else {
		for _, replicas := range assignment {
			if err := quorum.ValidateReplicas(img, replicas, len(assignment[0]), false); err != nil {
				return quorum.TopicID{}, fromErr(err)
			}
		}
	}
	if validateOnly {
		return quorum.TopicID{}, ok()
	}
	id := quorum.NewTopicID()
	_, err := b.ctrl.Propose(quorum.CreateTopic{Name: s.name, ID: id, Configs: s.configs, Assignment: assignment})
	if err != nil {
		return quorum.TopicID{}, fromErr(err)
	}
	// Answer once this broker serves the topic: a client that creates and
	// then produces through the same broker needs no retry.
	b.waitApplied(b.node.Image().Version, 5*time.Second)
	b.waitEveryBroker(s.name, servesPartitions(len(assignment)))
	b.logger.Info("created topic", "topic", s.name, "partitions", len(assignment), "replication_factor", len(assignment[0]), "configs", s.configs)
	return id, ok()
}

// requestTopic makes sure a topic exists, creating it through the
// controller (locally or forwarded). It does not wait for the topic to
// reach this broker's image: callers answer "not yet" and clients retry.
func (b *Broker) requestTopic(name string, partitions int32, rf int16, configs map[string]string) error {
	if _, exists := b.node.Image().Topic(name); exists {
		return nil
	}
	if !b.node.IsLeader() {
		return b.forwardCreateTopics(name, partitions, rf, configs)
	}
	_, r := b.createTopic(createTopicSpec{name: name, partitions: partitions, rf: rf, configs: configs}, false)
	if r.code != 0 && r.code != kerr.TopicAlreadyExists.Code {
		return errors.New(r.msg)
	}
	return nil
}

// deleteTopic deletes a topic (controller only).
func (b *Broker) deleteTopic(name string) adminResult {
	if r, no := b.notController(); no {
		return r
	}
	if _, err := b.ctrl.Propose(quorum.DeleteTopic{Name: name}); err != nil {
		return fromErr(err)
	}
	b.waitEveryBroker(name, gone)
	b.logger.Info("deleted topic", "topic", name)
	return ok()
}

// addPartitions grows a topic to count partitions, placing the new ones
// (or using the given assignment), controller only.
func (b *Broker) addPartitions(name string, count int32, assignment [][]int32, validateOnly bool) adminResult {
	if r, no := b.notController(); no {
		return r
	}
	img := b.node.Image()
	t, exists := img.Topic(name)
	if !exists {
		return fail(kerr.UnknownTopicOrPartition, "The topic '"+name+"' does not exist.")
	}
	have := int32(len(t.Partitions))
	if count <= have {
		return fail(kerr.InvalidPartitions, "Topic currently has "+itoa(int(have))+" partitions, "+itoa(int(count))+" would not be an increase.")
	}
	rf := len(t.Partitions[0].TargetReplicas())
	if assignment == nil {
		var err error
		if assignment, err = quorum.PlaceReplicas(img, int(count-have), rf, int(have)+rand.IntN(1<<20)); err != nil {
			return fromErr(err)
		}
	} else {
		if int32(len(assignment)) != count-have {
			return fail(kerr.InvalidReplicaAssignment, "Increasing the number of partitions by "+itoa(int(count-have))+" but "+itoa(len(assignment))+" assignments provided.")
		}
		for _, replicas := range assignment {
			if err := quorum.ValidateReplicas(img, replicas, rf, false); err != nil {
				return fromErr(err)
			}
		}
	}
	if validateOnly {
		return ok()
	}
	// From: a resend of this request that meets this image again (the
	// first answer lost, the entry not yet applied) is refused in the
	// apply instead of adding the partitions twice. Only at
	// weir.metadata.version 2: an older Weir would ignore it and append.
	cmd := quorum.CreatePartitions{Topic: name, Assignment: assignment}
	if img.Preconditions() {
		cmd.From = have
	}
	if _, err := b.ctrl.Propose(cmd); err != nil {
		return fromErr(err)
	}
	b.waitApplied(b.node.Image().Version, 5*time.Second)
	b.waitEveryBroker(name, servesPartitions(int(count)))
	b.logger.Info("added partitions", "topic", name, "from", have, "to", count)
	return ok()
}

// setTopicConfigs replaces a topic's overrides (controller only). A
// non-nil base is what configs was edited from: at weir.metadata.version
// 2 the apply refuses it (stale) if the overrides are no longer base;
// below 2 the edit is written unchecked, as an older Weir applies it.
func (b *Broker) setTopicConfigs(name string, configs, base map[string]string, validateOnly bool) adminResult {
	if r, no := b.notController(); no {
		return r
	}
	if err := config.ValidateTopicConfigs(configs); err != nil {
		return fail(kerr.InvalidConfig, err.Error())
	}
	if _, err := b.cfg.TopicSettings(configs, b.brokerDynamicConfigs(b.node.Image())); err != nil {
		return fail(kerr.InvalidConfig, err.Error())
	}
	if validateOnly {
		return ok()
	}
	cmd := quorum.SetTopicConfigs{Topic: name, Configs: configs}
	if b.node.Image().Preconditions() {
		cmd.Base, cmd.CheckBase = base, base != nil
	}
	if _, err := b.ctrl.Propose(cmd); err != nil {
		return fromErr(err)
	}
	b.logger.Info("altered topic configs", "topic", name, "configs", configs)
	return ok()
}

// setBrokerConfigs replaces the dynamic configs of one broker, or the
// cluster default (brokerID quorum.ClusterDefault), controller only; base
// as in setTopicConfigs.
func (b *Broker) setBrokerConfigs(brokerID int32, configs, base map[string]string, validateOnly bool) adminResult {
	if r, no := b.notController(); no {
		return r
	}
	for name, v := range configs {
		v := v
		if err := validateBrokerChange(name, &v); err != nil {
			ce := err.(*configError)
			return adminResult{code: ce.code, msg: ce.msg}
		}
	}
	if validateOnly {
		return ok()
	}
	cmd := quorum.SetBrokerConfigs{BrokerID: brokerID, Configs: configs}
	if b.node.Image().Preconditions() {
		cmd.Base, cmd.CheckBase = base, base != nil
	}
	if _, err := b.ctrl.Propose(cmd); err != nil {
		return fromErr(err)
	}
	b.logger.Info("altered dynamic broker configs", "broker", brokerID, "configs", configs)
	return ok()
}

package server

import (
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/broker/config"
	"github.com/weirhq/weir/broker/quorum"
)

// Shared by DescribeConfigs, AlterConfigs and IncrementalAlterConfigs.

const (
	resourceTopic        = 2
	resourceBroker       = 4
	resourceBrokerLogger = 8
)

// configTarget is a resolved config resource, or the Kafka error for it.
type configTarget struct {
	topic    *quorum.Topic // resourceTopic
	broker   bool          // resourceBroker
	brokerID int32         // quorum.ClusterDefault for the "" resource
	logger   bool
	code     int16
	message  string
}

// resolveConfigResource finds a resource in the metadata image. Describe
// serves only this broker's own resource (clients send it to that
// broker); alter, which runs on the controller, takes any registered
// broker.
func (b *Broker) resolveConfigResource(typ int8, name string, alter bool) configTarget {
	img := b.node.Image()
	switch typ {
	case resourceTopic:
		if err := validTopicName(name); err != nil {
			return configTarget{code: kerr.InvalidTopicException.Code, message: err.Error()}
		}
		t, found := img.Topic(name)
		if !found {
			return configTarget{code: kerr.UnknownTopicOrPartition.Code, message: "Topic " + name + " does not exist"}
		}
		return configTarget{topic: t}
	case resourceBroker, resourceBrokerLogger:
		tg := configTarget{broker: typ == resourceBroker, logger: typ == resourceBrokerLogger, brokerID: quorum.ClusterDefault}
		if name == "" {
			return tg
		}
		id, err := strconv.ParseInt(name, 10, 32)
		_, registered := img.Broker(int32(id))
		switch {
		case err != nil:
			return configTarget{code: kerr.InvalidRequest.Code, message: "Invalid broker id " + name}
		case !alter && int32(id) != b.cfg.NodeID:
			return configTarget{code: kerr.InvalidRequest.Code, message: "Unexpected broker id, expected " + strconv.Itoa(int(b.cfg.NodeID)) + " or empty string, but received " + name}
		case alter && !registered:
			return configTarget{code: kerr.InvalidRequest.Code, message: "Broker " + name + " is not registered"}
		}
		tg.brokerID = int32(id)
		return tg
	}
	return configTarget{code: kerr.InvalidRequest.Code, message: "Unsupported resource type " + strconv.Itoa(int(typ))}
}

// currentConfigs are a resource's dynamic configs now.
func currentConfigs(img *quorum.Image, tg configTarget) map[string]string {
	switch {
	case tg.topic != nil:
		return copyMap(tg.topic.Configs)
	case tg.brokerID == quorum.ClusterDefault:
		return copyMap(img.BrokerConfigs)
	}
	return copyMap(img.PerBrokerConfigs[tg.brokerID])
}

// brokerConfigValue is one broker config as DescribeConfigs reports it.
type brokerConfigValue struct {
	key    config.Key
	value  string
	source int8
}

const (
	sourceDynamicTopic         = 1
	sourceDynamicBroker        = 2
	sourceDynamicDefaultBroker = 3
	sourceStaticBroker         = 4
	sourceDefault              = 5
)

func (b *Broker) brokerConfigValues(defaultResource bool) []brokerConfigValue {
	img := b.node.Image()
	own := img.PerBrokerConfigs[b.cfg.NodeID]
	var out []brokerConfigValue
	for _, k := range config.BrokerKeys() {
		v, isDefault := b.cfg.Value(k.Name)
		src := int8(sourceStaticBroker)
		if isDefault {
			src = sourceDefault
		}
		if dv, ok := img.BrokerConfigs[k.Name]; ok {
			v, src = dv, sourceDynamicDefaultBroker
		}
		if dv, ok := own[k.Name]; ok && !defaultResource {
			v, src = dv, sourceDynamicBroker
		}
		out = append(out, brokerConfigValue{key: k, value: v, source: src})
	}
	return out
}

// validateBrokerChange checks a dynamic broker config update.
func validateBrokerChange(name string, value *string) error {
	k, ok := config.LookupBrokerKey(name)
	if !ok {
		return &configError{code: kerr.InvalidConfig.Code, msg: "Unknown broker config: " + name}
	}
	if k.Dynamic == "read-only" {
		return &configError{code: kerr.InvalidRequest.Code, msg: "Cannot update these configs dynamically: Set(" + name + ")"}
	}
	if value == nil {
		return nil
	}
	if err := config.ValidateBrokerConfig(name, *value); err != nil {
		return &configError{code: kerr.InvalidConfig.Code, msg: err.Error()}
	}
	return nil
}

type configError struct {
	code int16
	msg  string
}

func (e *configError) Error() string { return e.msg }

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

package server

import (
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/broker/config"
)

// Shared by DescribeConfigs, AlterConfigs and IncrementalAlterConfigs.

const (
	resourceTopic        = 2
	resourceBroker       = 4
	resourceBrokerLogger = 8
)

// configTarget is a resolved config resource, or the Kafka error for it.
type configTarget struct {
	topic   *topic // resourceTopic
	broker  bool   // resourceBroker (this broker, or "" for the cluster default)
	logger  bool
	code    int16
	message string
}

func (b *Broker) resolveConfigResource(typ int8, name string) configTarget {
	switch typ {
	case resourceTopic:
		if err := validTopicName(name); err != nil {
			return configTarget{code: kerr.InvalidTopicException.Code, message: err.Error()}
		}
		t := b.topic(name)
		if t == nil {
			return configTarget{code: kerr.UnknownTopicOrPartition.Code, message: "Topic " + name + " does not exist"}
		}
		return configTarget{topic: t}
	case resourceBroker, resourceBrokerLogger:
		if name != "" && name != strconv.Itoa(int(b.cfg.NodeID)) {
			return configTarget{code: kerr.InvalidRequest.Code, message: "Unexpected broker id, expected " + strconv.Itoa(int(b.cfg.NodeID)) + " or empty string, but received " + name}
		}
		return configTarget{broker: typ == resourceBroker, logger: typ == resourceBrokerLogger}
	}
	return configTarget{code: kerr.InvalidRequest.Code, message: "Unsupported resource type " + strconv.Itoa(int(typ))}
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
	dyn := b.meta.BrokerConfigs()
	var out []brokerConfigValue
	for _, k := range config.BrokerKeys() {
		v, isDefault := b.cfg.Value(k.Name)
		src := int8(sourceStaticBroker)
		if isDefault {
			src = sourceDefault
		}
		if dv, ok := dyn[k.Name]; ok {
			v, src = dv, sourceDynamicBroker
			if defaultResource {
				src = sourceDynamicDefaultBroker
			}
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

// applyTopicConfigs validates and stores a topic's full override set.
func (b *Broker) applyTopicConfigs(t *topic, configs map[string]string, validateOnly bool) (int16, string) {
	for name, v := range configs {
		if err := config.ValidateTopicConfig(name, v); err != nil {
			return kerr.InvalidConfig.Code, err.Error()
		}
	}
	if _, err := b.cfg.TopicSettings(configs, b.meta.BrokerConfigs()); err != nil {
		return kerr.InvalidConfig.Code, err.Error()
	}
	if validateOnly {
		return 0, ""
	}
	if err := b.setTopicConfigs(t, configs); err != nil {
		return kerr.KafkaStorageError.Code, err.Error()
	}
	b.logger.Info("altered topic configs", "topic", t.name, "configs", configs)
	return 0, ""
}

// applyBrokerConfigs stores the full dynamic broker config set and
// re-resolves every topic's settings (broker configs are their defaults).
func (b *Broker) applyBrokerConfigs(configs map[string]string, validateOnly bool) (int16, string) {
	for name, v := range configs {
		v := v
		if err := validateBrokerChange(name, &v); err != nil {
			ce := err.(*configError)
			return ce.code, ce.msg
		}
	}
	if validateOnly {
		return 0, ""
	}
	if err := b.meta.SetBrokerConfigs(configs); err != nil {
		return kerr.KafkaStorageError.Code, err.Error()
	}
	b.throttles.apply(configs)
	for _, t := range b.sortedTopics() {
		ts, err := b.cfg.TopicSettings(b.topicConfigs(t), configs)
		if err != nil {
			b.logger.Error("topic settings invalid after a broker config change", "topic", t.name, "err", err)
			continue
		}
		t.settings.Store(&ts)
		lc := logConfig(ts)
		for _, p := range t.partitions {
			p.log.SetConfig(lc)
		}
	}
	b.logger.Info("altered dynamic broker configs", "configs", configs)
	return 0, ""
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

package server

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/config"
	"github.com/weirhq/weir/broker/quorum"
)

// DescribeConfigs, versions 0–4.
//
// v0 has no config source: IsDefault says whether the value is the
// default (the field's documented meaning; Kafka 3.9 leaves it false) and
// there are no synonyms.
//
// Any broker answers for topics, from the metadata image. Topics report
// every topic config with its effective value and source
// (DYNAMIC_TOPIC_CONFIG, DYNAMIC_BROKER_CONFIG, STATIC_BROKER_CONFIG,
// DEFAULT_CONFIG), with synonyms when asked (v1+) and type and
// documentation (v3+). The broker resource ("" or this node's id) reports
// every known broker key; sensitive values are null. BROKER_LOGGER answers
// with no entries (log levels are set with --log-level).

func (b *Broker) handleDescribeConfigs(r *kmsg.DescribeConfigsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range r.Resources {
		res := kmsg.NewDescribeConfigsResponseResource()
		res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
		tg := b.resolveConfigResource(int8(rr.ResourceType), rr.ResourceName, false)
		if tg.code != 0 {
			res.ErrorCode, res.ErrorMessage = tg.code, strPtr(tg.message)
			resp.Resources = append(resp.Resources, res)
			continue
		}
		want := func(string) bool { return true }
		if rr.ConfigNames != nil {
			set := map[string]bool{}
			for _, n := range rr.ConfigNames {
				set[n] = true
			}
			want = func(n string) bool { return set[n] }
		}
		switch {
		case tg.topic != nil:
			res.Configs = b.describeTopicConfigs(tg.topic, r, want)
		case tg.broker:
			res.Configs = b.describeBrokerConfigs(rr.ResourceName == "", r, want)
		}
		resp.Resources = append(resp.Resources, res)
	}
	return resp
}

func (b *Broker) describeTopicConfigs(t *quorum.Topic, r *kmsg.DescribeConfigsRequest, want func(string) bool) []kmsg.DescribeConfigsResponseResourceConfig {
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, v := range b.cfg.EffectiveTopicConfig(t.Configs, b.brokerDynamicConfigs(b.node.Image())) {
		if !want(v.Name) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.ReadOnly, c.Source, c.IsSensitive = v.Name, v.ReadOnly, kmsg.ConfigSource(v.Source), v.Sensitive
		if !v.Sensitive {
			c.Value = strPtr(v.Value)
		}
		if r.IncludeSynonyms {
			for _, s := range v.Synonyms {
				cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
				cs.Name, cs.Value, cs.Source = s.Name, strPtr(s.Value), kmsg.ConfigSource(s.Source)
				c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
			}
		}
		c.ConfigType = kmsg.ConfigType(config.ConfigType(v.Type))
		if r.IncludeDocumentation {
			c.Documentation = strPtr(v.Doc)
		}
		c.IsDefault = c.Source == kmsg.ConfigSourceDefaultConfig
		out = append(out, c)
	}
	return out
}

func (b *Broker) describeBrokerConfigs(defaultResource bool, r *kmsg.DescribeConfigsRequest, want func(string) bool) []kmsg.DescribeConfigsResponseResourceConfig {
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, v := range b.brokerConfigValues(defaultResource) {
		if !want(v.key.Name) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.ReadOnly, c.Source, c.IsSensitive = v.key.Name, v.key.Dynamic == "read-only", kmsg.ConfigSource(v.source), v.key.Sensitive
		if !v.key.Sensitive && v.value != "" {
			c.Value = strPtr(v.value)
		}
		if r.IncludeSynonyms {
			cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			cs.Name, cs.Value, cs.Source = v.key.Name, c.Value, kmsg.ConfigSource(v.source)
			c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
		}
		c.ConfigType = kmsg.ConfigType(config.ConfigType(v.key.Type))
		if r.IncludeDocumentation {
			c.Documentation = strPtr(v.key.Doc)
		}
		c.IsDefault = c.Source == kmsg.ConfigSourceDefaultConfig
		out = append(out, c)
	}
	return out
}

package server

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AlterConfigs, versions 0–2 (the legacy, non-incremental API).
//
// Runs on the controller (other brokers forward it). Replaces the whole
// set of dynamic configs of a resource with the given one: configs not listed return to their defaults, as in Kafka. Each
// resource succeeds or fails alone; ValidateOnly changes nothing.

func (b *Broker) handleAlterConfigs(r *kmsg.AlterConfigsRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.alterConfigsLegacy(r) })
}

func (b *Broker) alterConfigsLegacy(r *kmsg.AlterConfigsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, rr := range r.Resources {
		res := kmsg.NewAlterConfigsResponseResource()
		res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
		configs := map[string]string{}
		for _, c := range rr.Configs {
			if c.Value != nil {
				configs[c.Name] = *c.Value
			}
		}
		res.ErrorCode, res.ErrorMessage = b.alterConfigs(int8(rr.ResourceType), rr.ResourceName, configs, r.ValidateOnly)
		resp.Resources = append(resp.Resources, res)
	}
	return resp
}

// alterConfigs resolves a resource and stores a full config set for it
// (on the controller).
func (b *Broker) alterConfigs(typ int8, name string, configs map[string]string, validateOnly bool) (int16, *string) {
	return b.storeConfigs(typ, name, configs, nil, validateOnly).answer()
}

// storeConfigs resolves a resource and stores configs for it, checked
// against base when base is not nil (setTopicConfigs).
func (b *Broker) storeConfigs(typ int8, name string, configs, base map[string]string, validateOnly bool) adminResult {
	tg := b.resolveConfigResource(typ, name, true)
	switch {
	case tg.code != 0:
		return adminResult{code: tg.code, msg: tg.message}
	case tg.topic != nil:
		return b.setTopicConfigs(tg.topic.Name, configs, base, validateOnly)
	case tg.broker:
		return b.setBrokerConfigs(tg.brokerID, configs, base, validateOnly)
	}
	return ok()
}

// answer is r as a response's error code and message.
func (r adminResult) answer() (int16, *string) {
	if r.code == 0 {
		return 0, nil
	}
	return r.code, strPtr(r.msg)
}

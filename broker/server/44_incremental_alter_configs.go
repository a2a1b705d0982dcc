package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// IncrementalAlterConfigs, versions 0–1 (KIP-339).
//
// Applies SET (0), DELETE (1), APPEND (2) and SUBTRACT (3) to a resource's
// current dynamic configs; APPEND and SUBTRACT only on list-typed configs.
// Every operation on a resource is validated before any is applied. Topic
// configs (retention, segment, cleanup, the replication throttles …) and
// the per-broker dynamic configs (the replication throttle rates among
// them) go through here; kafka-configs.sh and kadm use it.

const (
	opSet      = 0
	opDelete   = 1
	opAppend   = 2
	opSubtract = 3
)

func (b *Broker) handleIncrementalAlterConfigs(r *kmsg.IncrementalAlterConfigsRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.incrementalAlterConfigs(r) })
}

func (b *Broker) incrementalAlterConfigs(r *kmsg.IncrementalAlterConfigsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, rr := range r.Resources {
		res := kmsg.NewIncrementalAlterConfigsResponseResource()
		res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
		res.ErrorCode, res.ErrorMessage = b.editConfigs(rr, r.ValidateOnly).answer()
		resp.Resources = append(resp.Resources, res)
	}
	return resp
}

// editAttempts bounds how often one resource's edit is read and applied
// again because another edit of it committed in between.
const editAttempts = 20

// editConfigs applies one resource's operations to its configs as they
// are and stores the result on the condition that they are still that
// (Kafka's controller runs one request at a time against the state the
// last one left; here handlers run at once, so the apply checks the base
// and a refused edit is read and applied again).
func (b *Broker) editConfigs(rr kmsg.IncrementalAlterConfigsRequestResource, validateOnly bool) adminResult {
	res := fail(kerr.RequestTimedOut, "the configs kept changing while being altered")
	for range editAttempts {
		tg := b.resolveConfigResource(int8(rr.ResourceType), rr.ResourceName, true)
		if tg.code != 0 {
			return adminResult{code: tg.code, msg: tg.message}
		}
		if tg.logger {
			return ok()
		}
		current := currentConfigs(b.node.Image(), tg)
		next, code, msg := applyIncremental(current, rr.Configs)
		if code != 0 {
			return adminResult{code: code, msg: msg}
		}
		if res = b.storeConfigs(int8(rr.ResourceType), rr.ResourceName, next, current, validateOnly); !res.stale {
			return res
		}
	}
	return res
}

// applyIncremental returns current with ops applied, or the error code and
// message of the first bad op.
func applyIncremental(current map[string]string, ops []kmsg.IncrementalAlterConfigsRequestResourceConfig) (map[string]string, int16, string) {
	next := copyMap(current)
	seen := map[string]bool{}
	for _, op := range ops {
		if seen[op.Name] {
			return nil, kerr.InvalidRequest.Code, "Error due to duplicate config keys: " + op.Name
		}
		seen[op.Name] = true
		switch op.Op {
		case opSet:
			if op.Value == nil {
				return nil, kerr.InvalidRequest.Code, "Null value not supported for: " + op.Name
			}
			next[op.Name] = *op.Value
		case opDelete:
			delete(next, op.Name)
		case opAppend, opSubtract:
			if op.Value == nil {
				return nil, kerr.InvalidRequest.Code, "Null value not supported for: " + op.Name
			}
			next[op.Name] = editList(next[op.Name], splitList(*op.Value), op.Op == opAppend)
		default:
			return nil, kerr.InvalidRequest.Code, "Unknown alter config operation " + itoa(int(op.Op))
		}
	}
	return next, 0, ""
}

// editList appends (skipping those present) or removes items of a
// comma-separated list value.
func editList(cur string, items []string, add bool) string {
	list := splitList(cur)
	has := map[string]bool{}
	for _, s := range list {
		has[s] = true
	}
	if add {
		for _, s := range items {
			if !has[s] {
				list, has[s] = append(list, s), true
			}
		}
	} else {
		drop := map[string]bool{}
		for _, s := range items {
			drop[s] = true
		}
		kept := list[:0]
		for _, s := range list {
			if !drop[s] {
				kept = append(kept, s)
			}
		}
		list = kept
	}
	out := ""
	for i, s := range list {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

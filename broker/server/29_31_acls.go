package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/acl"
	"github.com/weirhq/weir/broker/quorum"
)

// DescribeAcls (29), CreateAcls (30) and DeleteAcls (31), v0–v3, as
// Kafka's AclApis serve them: the bindings live in the metadata quorum
// (quorum.CreateACLs, quorum.DeleteACLs), so creations and deletions run
// on the controller (forwarded, KIP-590) and descriptions answer from
// this broker's image. Without an authorizer (authorizer.class.name
// unset) all three answer SECURITY_DISABLED, as Kafka does. CLUSTER
// DESCRIBE (describe) or ALTER (create, delete) is checked in authz.go.
//
// A v0 request has no pattern type; it means LITERAL (kmsg decodes the
// missing field as 0, UNKNOWN, so it is set here).

const securityDisabledMsg = "No Authorizer is configured on the broker"

func (b *Broker) handleDescribeACLs(r *kmsg.DescribeACLsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.DescribeACLsResponse)
	if b.authz == nil {
		resp.ErrorCode, resp.ErrorMessage = kerr.SecurityDisabled.Code, strPtr(securityDisabledMsg)
		return resp
	}
	if r.Version == 0 {
		r.ResourcePatternType = kmsg.ACLResourcePatternTypeLiteral
	}
	f := acl.FilterFromDescribe(r)
	if err := f.Validate(); err != nil {
		resp.ErrorCode, resp.ErrorMessage = errCode(err), strPtr(err.Error())
		return resp
	}
	resp.Resources = acl.DescribeResources(acl.Filter(b.node.Image().ACLs, f))
	return resp
}

func (b *Broker) handleCreateACLs(r *kmsg.CreateACLsRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.createACLs(r) })
}

func (b *Broker) createACLs(r *kmsg.CreateACLsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.CreateACLsResponse)
	resp.Results = each(r.Creations, func(kmsg.CreateACLsRequestCreation) kmsg.CreateACLsResponseResult {
		return kmsg.NewCreateACLsResponseResult()
	})
	cmd := quorum.CreateACLs{}
	for _, c := range r.Creations {
		if r.Version == 0 {
			c.ResourcePatternType = kmsg.ACLResourcePatternTypeLiteral
		}
		cmd.Bindings = append(cmd.Bindings, acl.BindingFromCreation(c))
	}
	res, ok := proposeACLs(b, resp.Results, func(x *kmsg.CreateACLsResponseResult, code int16, msg *string) {
		x.ErrorCode, x.ErrorMessage = code, msg
	}, cmd)
	if !ok {
		return resp
	}
	for i, err := range res.([]error) {
		if err != nil && i < len(resp.Results) {
			resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = errCode(err), strPtr(err.Error())
		}
	}
	return resp
}

func (b *Broker) handleDeleteACLs(r *kmsg.DeleteACLsRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.deleteACLs(r) })
}

func (b *Broker) deleteACLs(r *kmsg.DeleteACLsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.DeleteACLsResponse)
	resp.Results = each(r.Filters, func(kmsg.DeleteACLsRequestFilter) kmsg.DeleteACLsResponseResult {
		return kmsg.NewDeleteACLsResponseResult()
	})
	cmd := quorum.DeleteACLs{}
	for _, f := range r.Filters {
		if r.Version == 0 {
			f.ResourcePatternType = kmsg.ACLResourcePatternTypeLiteral
		}
		cmd.Filters = append(cmd.Filters, acl.FilterFromDelete(f))
	}
	res, ok := proposeACLs(b, resp.Results, func(x *kmsg.DeleteACLsResponseResult, code int16, msg *string) {
		x.ErrorCode, x.ErrorMessage = code, msg
	}, cmd)
	if !ok {
		return resp
	}
	for i, fr := range res.([]quorum.DeleteACLsResult) {
		if i >= len(resp.Results) {
			break
		}
		if fr.Err != nil {
			resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = errCode(fr.Err), strPtr(fr.Err.Error())
			continue
		}
		for _, d := range fr.Deleted {
			resp.Results[i].MatchingACLs = append(resp.Results[i].MatchingACLs, acl.MatchingACL(d))
		}
	}
	return resp
}

// proposeACLs runs CreateAcls' or DeleteAcls' command on the controller,
// or gives every result (one per creation or filter) the error that
// stops it: SECURITY_DISABLED without an authorizer, NOT_CONTROLLER off
// the controller, the proposal's failure (ok=false).
func proposeACLs[R any](b *Broker, results []R, setErr func(*R, int16, *string), cmd quorum.Command) (res any, ok bool) {
	fail := func(code int16, msg string) (any, bool) {
		for i := range results {
			setErr(&results[i], code, strPtr(msg))
		}
		return nil, false
	}
	if b.authz == nil {
		return fail(kerr.SecurityDisabled.Code, securityDisabledMsg)
	}
	if nc, no := b.notController(); no {
		return fail(nc.code, nc.msg)
	}
	res, err := b.ctrl.Propose(cmd)
	if err != nil {
		f := fromErr(err)
		return fail(f.code, f.msg)
	}
	return res, true
}

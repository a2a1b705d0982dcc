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
	results := make([]kmsg.CreateACLsResponseResult, len(r.Creations))
	for i := range results {
		results[i] = kmsg.NewCreateACLsResponseResult()
	}
	resp.Results = results
	fill := func(code int16, msg string) {
		for i := range results {
			results[i].ErrorCode, results[i].ErrorMessage = code, strPtr(msg)
		}
	}
	if b.authz == nil {
		fill(kerr.SecurityDisabled.Code, securityDisabledMsg)
		return resp
	}
	if res, no := b.notController(); no {
		fill(res.code, res.msg)
		return resp
	}
	cmd := quorum.CreateACLs{}
	for _, c := range r.Creations {
		if r.Version == 0 {
			c.ResourcePatternType = kmsg.ACLResourcePatternTypeLiteral
		}
		cmd.Bindings = append(cmd.Bindings, acl.BindingFromCreation(c))
	}
	res, err := b.ctrl.Propose(cmd)
	if err != nil {
		res := fromErr(err)
		fill(res.code, res.msg)
		return resp
	}
	for i, err := range res.([]error) {
		if err != nil && i < len(results) {
			results[i].ErrorCode, results[i].ErrorMessage = errCode(err), strPtr(err.Error())
		}
	}
	return resp
}

func (b *Broker) handleDeleteACLs(r *kmsg.DeleteACLsRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.deleteACLs(r) })
}

func (b *Broker) deleteACLs(r *kmsg.DeleteACLsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.DeleteACLsResponse)
	results := make([]kmsg.DeleteACLsResponseResult, len(r.Filters))
	for i := range results {
		results[i] = kmsg.NewDeleteACLsResponseResult()
	}
	resp.Results = results
	fill := func(code int16, msg string) {
		for i := range results {
			results[i].ErrorCode, results[i].ErrorMessage = code, strPtr(msg)
		}
	}
	if b.authz == nil {
		fill(kerr.SecurityDisabled.Code, securityDisabledMsg)
		return resp
	}
	if res, no := b.notController(); no {
		fill(res.code, res.msg)
		return resp
	}
	cmd := quorum.DeleteACLs{}
	for _, f := range r.Filters {
		if r.Version == 0 {
			f.ResourcePatternType = kmsg.ACLResourcePatternTypeLiteral
		}
		cmd.Filters = append(cmd.Filters, acl.FilterFromDelete(f))
	}
	res, err := b.ctrl.Propose(cmd)
	if err != nil {
		res := fromErr(err)
		fill(res.code, res.msg)
		return resp
	}
	for i, fr := range res.([]quorum.DeleteACLsResult) {
		if i >= len(results) {
			break
		}
		if fr.Err != nil {
			results[i].ErrorCode, results[i].ErrorMessage = errCode(fr.Err), strPtr(fr.Err.Error())
			continue
		}
		for _, d := range fr.Deleted {
			results[i].MatchingACLs = append(results[i].MatchingACLs, acl.MatchingACL(d))
		}
	}
	return resp
}

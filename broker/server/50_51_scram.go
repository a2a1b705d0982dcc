package server

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/quorum"
	"github.com/weirhq/weir/broker/sasl"
)

// DescribeUserScramCredentials (50) and AlterUserScramCredentials (51),
// v0 (KIP-554), what kafka-configs --entity-type users and `weir user`
// send. Credentials live in the metadata quorum: alterations run on the
// controller (forwarded), which derives the stored and server keys from
// the salted password (quorum.NewScramUpsertion) so the log never holds
// anything password-equivalent; descriptions (mechanism and iterations
// only) answer from this broker's image. CLUSTER DESCRIBE / ALTER is
// checked in authz.go.

func (b *Broker) handleDescribeUserSCRAMCredentials(r *kmsg.DescribeUserSCRAMCredentialsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	var users []string
	for _, u := range r.Users {
		users = append(users, u.Name)
	}
	for _, d := range b.node.Image().DescribeScram(users) {
		res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		res.User = d.User
		if d.Err != nil {
			res.ErrorCode, res.ErrorMessage = errCode(d.Err), strPtr(d.Err.Error())
		}
		for _, c := range d.Credentials {
			ci := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
			ci.Mechanism, ci.Iterations = int8(c.Mechanism), c.Iterations
			res.CredentialInfos = append(res.CredentialInfos, ci)
		}
		resp.Results = append(resp.Results, res)
	}
	return resp
}

func (b *Broker) handleAlterUserSCRAMCredentials(r *kmsg.AlterUserSCRAMCredentialsRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.alterUserSCRAMCredentials(r) })
}

func (b *Broker) alterUserSCRAMCredentials(r *kmsg.AlterUserSCRAMCredentialsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
	cmd := quorum.AlterScramCredentials{}
	for _, d := range r.Deletions {
		cmd.Deletions = append(cmd.Deletions, quorum.ScramDeletion{User: d.Name, Mechanism: sasl.Mechanism(d.Mechanism)})
	}
	for _, u := range r.Upsertions {
		cmd.Upsertions = append(cmd.Upsertions, quorum.NewScramUpsertion(u.Name, sasl.Mechanism(u.Mechanism), u.Iterations, u.Salt, u.SaltedPassword))
	}
	fillAll := func(code int16, msg string) kmsg.Response {
		seen := map[string]bool{}
		add := func(user string) {
			if !seen[user] {
				seen[user] = true
				res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
				res.User, res.ErrorCode, res.ErrorMessage = user, code, strPtr(msg)
				resp.Results = append(resp.Results, res)
			}
		}
		for _, d := range r.Deletions {
			add(d.Name)
		}
		for _, u := range r.Upsertions {
			add(u.Name)
		}
		return resp
	}
	if res, no := b.notController(); no {
		return fillAll(res.code, res.msg)
	}
	out, err := b.ctrl.Propose(cmd)
	if err != nil {
		res := fromErr(err)
		return fillAll(res.code, res.msg)
	}
	for _, ur := range out.([]quorum.UserResult) {
		res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		res.User = ur.User
		if ur.Err != nil {
			res.ErrorCode, res.ErrorMessage = errCode(ur.Err), strPtr(ur.Err.Error())
		}
		resp.Results = append(resp.Results, res)
	}
	return resp
}

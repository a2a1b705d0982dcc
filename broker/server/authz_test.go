package server

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/acl"
	"github.com/weirhq/weir/broker/protocol"
	poll "github.com/weirhq/weir/internal/await"
)

// Every API the broker serves (advertised or inter-broker) that
// acl.APIs gives checks has its authorization wired in authz.go: a
// principal without any ACL gets an answer (the API's refusal, or an
// empty success), never the not-wired fallback, and a refusal encodes.
func TestEveryServedAPIIsAuthorized(t *testing.T) {
	b := startBroker(t, map[string]string{"authorizer.class.name": "weir", "allow.everyone.if.no.acl.found": "false",
		"super.users": "User:ANONYMOUS"}) // the broker reaches itself over PLAINTEXT
	s := &session{listener: b.lns[0], host: "127.0.0.1", principal: "User:nobody"}
	keys := map[int16]bool{}
	for _, r := range protocol.Ranges() {
		keys[r.Key] = true
	}
	for _, k := range []int16{56, 62, 63, 67} { // inter-broker, not advertised
		keys[k] = true
	}
	for key := range keys {
		api, ok := acl.ForKey(key)
		if !ok {
			t.Errorf("%s: not in acl.APIs", kmsg.NameForKey(key))
			continue
		}
		if len(api.Checks) == 0 {
			continue
		}
		r, _ := protocol.VersionRange(key)
		body := kmsg.RequestForKey(key)
		body.SetVersion(r.Max)
		resp, closeErr, _ := b.authorize(s, protocol.Request{Header: protocol.Header{Key: key, Version: r.Max}, Body: body})
		if closeErr != nil && strings.Contains(closeErr.Error(), "no ACL check is wired") {
			t.Errorf("%s: authorization not wired", api.Name)
			continue
		}
		if resp != nil {
			resp.SetVersion(r.Max)
			_ = resp.AppendTo(nil)
		}
	}
}

// FuzzErrorResponse decodes arbitrary bytes as any served request and
// builds the refusals the broker may answer it with (an authorization
// error, ILLEGAL_SASL_STATE during authentication): no panic, every
// request but an acks=0 produce has one, and it encodes and decodes back
// at the request's version.
func FuzzErrorResponse(f *testing.F) {
	for _, r := range protocol.Ranges() {
		req := kmsg.RequestForKey(r.Key)
		req.SetVersion(r.Max)
		f.Add(r.Key, r.Max, req.AppendTo(nil))
	}
	codes := append([]int16{kerr.IllegalSaslState.Code}, authCodes...)
	f.Fuzz(func(t *testing.T, key, version int16, data []byte) {
		rg, ok := protocol.VersionRange(key)
		if !ok || version < rg.Min || version > rg.Max {
			return
		}
		req := kmsg.RequestForKey(key)
		req.SetVersion(version)
		if req.ReadFrom(data) != nil {
			return
		}
		for _, code := range codes {
			resp := errorResponse(req, code)
			if resp == nil {
				if p, ok := req.(*kmsg.ProduceRequest); !ok || p.Acks != 0 {
					t.Fatalf("%s v%d has no refusal with %d", kmsg.NameForKey(key), version, code)
				}
				continue // acks=0: no response, the connection closes
			}
			back := req.ResponseKind()
			back.SetVersion(version)
			if err := back.ReadFrom(resp.AppendTo(nil)); err != nil {
				t.Fatalf("%s v%d refused with %d does not decode: %v", kmsg.NameForKey(key), version, code, err)
			}
		}
	})
}

// The transaction checks the matrix's single refusals do not show:
// AddPartitionsToTxn v0–v3 with one topic refused fails the whole
// transaction (TOPIC_AUTHORIZATION_FAILED on the refused partitions and
// on internal topics, UNKNOWN_TOPIC_OR_PARTITION on missing ones,
// OPERATION_NOT_ATTEMPTED on the rest); Produce is checked against the
// transactional id by its records (KafkaApis' hasTransactionalRecords),
// not by whether it names one.
func TestTransactionAuthorization(t *testing.T) {
	b := startBroker(t, map[string]string{"authorizer.class.name": "weir", "allow.everyone.if.no.acl.found": "false",
		"super.users": "User:ANONYMOUS"})
	ctx := context.Background()
	adm := kadm.NewClient(b.client(t))
	for _, topic := range []string{"t", "secret"} {
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	res, err := adm.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").Topics("t").Operations(kadm.OpWrite).
		ResourcePatternType(kadm.ACLPatternLiteral))
	if err == nil {
		err = res[0].Err
	}
	if err != nil {
		t.Fatal(err)
	}
	s := &session{listener: b.lns[0], host: "127.0.0.1", principal: "User:alice"}
	poll.True(t, 10*time.Second, "alice's ACL applied", func() bool {
		b.authz.Follow(b.node.Image().ACLs)
		return b.authz.Allowed(s.principal, s.host, acl.OpWrite, acl.ResourceTopic, "t")
	})
	grant := func(id string) {
		r, err := adm.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").TransactionalIDs(id).Operations(kadm.OpWrite).
			ResourcePatternType(kadm.ACLPatternLiteral))
		if err == nil {
			err = r[0].Err
		}
		if err != nil {
			t.Fatal(err)
		}
		poll.True(t, 10*time.Second, "alice's WRITE on "+id, func() bool {
			b.authz.Follow(b.node.Image().ACLs)
			return b.authz.Allowed(s.principal, s.host, acl.OpWrite, acl.ResourceTransactionalID, id)
		})
	}
	grant("tx")

	add := kmsg.NewPtrAddPartitionsToTxnRequest()
	add.SetVersion(3)
	add.TransactionalID, add.ProducerID = "tx", 1
	for topic, ps := range map[string][]int32{"t": {0, 5}, "secret": {0}, "__consumer_offsets": {0}} {
		at := kmsg.NewAddPartitionsToTxnRequestTopic()
		at.Topic, at.Partitions = topic, ps
		add.Topics = append(add.Topics, at)
	}
	resp, _, ok := b.authorize(s, protocol.Request{Header: protocol.Header{Key: 24, Version: 3}, Body: add})
	if !ok {
		t.Fatal("AddPartitionsToTxn with a refused topic went to the coordinator")
	}
	got := map[string]int16{}
	for _, rt := range resp.(*kmsg.AddPartitionsToTxnResponse).Topics {
		for _, rp := range rt.Partitions {
			got[fmt.Sprintf("%s-%d", rt.Topic, rp.Partition)] = rp.ErrorCode
		}
	}
	want := map[string]int16{"t-0": kerr.OperationNotAttempted.Code, "t-5": kerr.UnknownTopicOrPartition.Code,
		"secret-0": topicDenied, "__consumer_offsets-0": topicDenied}
	if !maps.Equal(got, want) {
		t.Fatalf("AddPartitionsToTxn: %v, want %v", got, want)
	}

	produce := func(txnID *string, pid int64) (kmsg.Response, bool) {
		r := kmsg.NewPtrProduceRequest()
		r.SetVersion(9)
		r.Acks, r.TimeoutMillis, r.TransactionID = -1, 5000, txnID
		pt := kmsg.NewProduceRequestTopic()
		pt.Topic = "t"
		pp := kmsg.NewProduceRequestTopicPartition()
		pp.Records = recordBatch(pid)
		pt.Partitions = append(pt.Partitions, pp)
		r.Topics = append(r.Topics, pt)
		resp, _, ok := b.authorize(s, protocol.Request{Header: protocol.Header{Key: 0, Version: 9}, Body: r})
		return resp, ok
	}
	if _, ok := produce(kmsg.StringPtr("not-alices"), 0); ok {
		t.Error("plain records naming a transactional id alice may not write were refused")
	}
	for _, id := range []*string{nil, kmsg.StringPtr("not-alices")} {
		resp, ok := produce(id, 7)
		if !ok || resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode != txnDenied {
			t.Errorf("transactional records with transactional id %v: %+v, want TRANSACTIONAL_ID_AUTHORIZATION_FAILED", id, resp)
		}
	}
}

// Without an authorizer the ACL APIs answer SECURITY_DISABLED, each
// creation and each filter on its own, as Kafka does.
func TestACLAPIsWithoutAuthorizer(t *testing.T) {
	b := startBroker(t, nil)
	cl := b.client(t)
	ctx := context.Background()
	bind, _ := acl.ParseBinding("ALLOW User:alice * READ TOPIC:LITERAL:t")
	create := kmsg.NewPtrCreateACLsRequest()
	create.Creations = []kmsg.CreateACLsRequestCreation{acl.Creation(bind), acl.Creation(bind)}
	cr, err := create.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	del := kmsg.NewPtrDeleteACLsRequest()
	del.Filters = []kmsg.DeleteACLsRequestFilter{acl.DeleteFilter(acl.AnyFilter)}
	dr, err := del.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := acl.DescribeRequest(acl.AnyFilter).RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	disabled := kerr.SecurityDisabled.Code
	if len(cr.Results) != 2 || cr.Results[0].ErrorCode != disabled || cr.Results[1].ErrorCode != disabled ||
		len(dr.Results) != 1 || dr.Results[0].ErrorCode != disabled || ds.ErrorCode != disabled {
		t.Fatalf("create %+v, delete %+v, describe %d: want SECURITY_DISABLED", cr.Results, dr.Results, ds.ErrorCode)
	}
}

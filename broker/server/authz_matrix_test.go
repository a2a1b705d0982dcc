package server

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/acl"
	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/broker/protocol"
	poll "github.com/weirhq/weir/internal/await"
)

// The permission matrix, against a real `weir broker` over SASL: for
// every API the broker serves (its ApiVersions answer, and the
// inter-broker APIs it serves unadvertised), a principal with no ACL is
// refused with Kafka's exact code (or sees a listing without what it may
// not describe), and the same principal with the minimal ACLs for the API
// is let through (the answer carries no authorization error, or the
// listing shows the resource). Each row has a principal of its own, so
// no row's ACLs reach another's. A served API without a row fails the
// test, as does a row for an API the broker does not serve.

// matrixRow is one API's check.
type matrixRow struct {
	name string
	key  int16
	at   int16 // the version to send (0: the highest the broker serves)
	req  func(e *matrixEnv) kmsg.Request
	// grant are the minimal ACLs, "OPERATION TYPE:NAME" each (LITERAL,
	// ALLOW, any host).
	grant []string
	// code is the refusal's error code; 0 with count set: a filtered
	// listing; 0 without: an API with no ACL check.
	code  int16
	count func(kmsg.Response) int
}

// authCodes are the authorization errors; an allowed answer has none.
var authCodes = []int16{topicDenied, groupDenied, clusterDenied, txnDenied}

// interBrokerKeys are served but not advertised (AlterPartition,
// BrokerRegistration, BrokerHeartbeat, AllocateProducerIds).
var interBrokerKeys = []int16{56, 62, 63, 67}

type matrixEnv struct {
	b       *brokertest.Broker
	admin   *kgo.Client
	topicID [16]byte // topic t's
}

func TestPermissionMatrix(t *testing.T) {
	b := brokertest.Start(t, brokertest.Options{
		Listeners: []string{"SASL_PLAINTEXT"},
		Props: map[string]string{
			"listener.name.sasl_plaintext.sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256",
			"authorizer.class.name":                                "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
			"allow.everyone.if.no.acl.found":                       "false",
			"super.users":                                          "User:ANONYMOUS", // the PLAINTEXT listener: the broker itself and the admin
		},
	})
	e := &matrixEnv{b: b, admin: b.Client(t)}
	e.setUp(t)
	rows := matrixRows()

	served := e.servedKeys(t)
	covered := map[int16]bool{}
	for _, r := range rows {
		covered[r.key] = true
		if _, ok := served[r.key]; !ok {
			t.Errorf("row %s: the broker does not serve %s", r.name, kmsg.NameForKey(r.key))
		}
	}
	for key := range served {
		if !covered[key] {
			t.Errorf("%s (%d) is served but has no row in the permission matrix", kmsg.NameForKey(key), key)
		}
	}
	for _, r := range rows {
		if err := r.inTable(); err != nil {
			t.Errorf("row %s: %v", r.name, err)
		}
	}
	var users []string
	for _, r := range rows {
		users = append(users, matrixUser(r))
	}
	e.addUsers(t, users)

	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			version := r.at
			if version == 0 {
				version = served[r.key]
			}
			user := matrixUser(r)
			send := func() (kmsg.Response, error) {
				req := r.req(e)
				req.SetVersion(version)
				return e.send(user, req)
			}
			resp, err := send()
			if err != nil {
				t.Fatalf("without ACLs: %v", err)
			}
			if err := r.refused(resp); err != nil {
				t.Fatalf("without ACLs: %v", err)
			}
			t.Logf("without ACLs: error codes %v", errorCodes(resp))
			if r.code == 0 && r.count == nil {
				return // no check: served as is
			}
			e.grant(t, user, r.grant)
			var last error
			poll.True(t, 10*time.Second, "the ACLs "+strings.Join(r.grant, ", ")+" let "+r.name+" through", func() bool {
				resp, err := send()
				if err == nil {
					err = r.allowed(resp)
				}
				if err == nil {
					t.Logf("with %v: error codes %v", r.grant, errorCodes(resp))
				}
				last = err
				return err == nil
			})
			if last != nil {
				t.Fatalf("with %v: %v", r.grant, last)
			}
		})
	}
}

// inTable checks the row against acl.APIs, the table docs/SECURITY.md
// and permissions.txt print: its code is one of the API's refusals, its
// listing one of its filters, its "no check" the table's.
func (r matrixRow) inTable() error {
	api, ok := acl.ForKey(r.key)
	if !ok {
		return fmt.Errorf("%s is not in acl.APIs", kmsg.NameForKey(r.key))
	}
	for _, c := range api.Checks {
		switch {
		case r.count != nil && c.Scope == acl.Filtered,
			r.code != 0 && c.Err != nil && c.Err.Code == r.code:
			return nil
		}
	}
	if r.code == 0 && r.count == nil && len(api.Checks) == 0 {
		return nil
	}
	return fmt.Errorf("acl.APIs has no such check for %s:\n%s", api.Name, api)
}

// refused checks the answer to a principal without ACLs.
func (r matrixRow) refused(resp kmsg.Response) error {
	codes := errorCodes(resp)
	switch {
	case r.count != nil:
		if n := r.count(resp); n != 0 {
			return fmt.Errorf("the listing shows %d entries it should hide", n)
		}
		return noAuthCode(codes)
	case r.code == 0:
		return noAuthCode(codes)
	}
	if !slices.Contains(codes, r.code) {
		return fmt.Errorf("error codes %v, want %d (%s)", codes, r.code, kerr.ErrorForCode(r.code))
	}
	for _, c := range codes {
		if c != r.code && slices.Contains(authCodes, c) {
			return fmt.Errorf("error codes %v: %d besides the expected %d", codes, c, r.code)
		}
	}
	return nil
}

// allowed checks the answer once the row's ACLs are in place.
func (r matrixRow) allowed(resp kmsg.Response) error {
	if r.count != nil && r.count(resp) == 0 {
		return fmt.Errorf("the listing still hides the granted entry")
	}
	return noAuthCode(errorCodes(resp))
}

func noAuthCode(codes []int16) error {
	for _, c := range codes {
		if slices.Contains(authCodes, c) {
			return fmt.Errorf("refused: error codes %v", codes)
		}
	}
	return nil
}

// errorCodes are the values of every ErrorCode field of a response, at
// any depth.
func errorCodes(resp kmsg.Response) []int16 {
	var out []int16
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if f := v.Type().Field(i); f.Name == "ErrorCode" && f.Type.Kind() == reflect.Int16 {
					out = append(out, int16(v.Field(i).Int()))
				} else {
					walk(v.Field(i))
				}
			}
		}
	}
	walk(reflect.ValueOf(resp))
	return out
}

func matrixUser(r matrixRow) string {
	return strings.Map(func(c rune) rune {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			return c
		}
		return '-'
	}, fmt.Sprintf("u%d-%s", r.key, r.name))
}

// setUp makes what the rows name: topics t, tp and del20 (t with a
// record), group g with an offset, transactional id tx66.
func (e *matrixEnv) setUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(e.admin)
	for _, topic := range []string{"t", "tp", "del20"} {
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
			t.Fatalf("creating %s: %v", topic, err)
		}
	}
	if err := e.admin.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	td, err := adm.ListTopics(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	e.topicID = td["t"].ID
	offsets := kadm.Offsets{}
	offsets.AddOffset("t", 0, 1, -1)
	if res, err := adm.CommitOffsets(ctx, "g", offsets); err != nil || res.Error() != nil {
		t.Fatalf("committing g's offset: %v %v", err, res.Error())
	}
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = kmsg.StringPtr("tx66"), 60000
	poll.For(t, 20*time.Second, "an id for tx66", func() error {
		resp, err := init.RequestWith(ctx, e.admin)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		return err
	})
}

// servedKeys are the API keys the SASL listener serves, with the highest
// version of each.
func (e *matrixEnv) servedKeys(t *testing.T) map[int16]int16 {
	p := e.dial(t)
	defer p.Close()
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(3)
	req.ClientSoftwareName, req.ClientSoftwareVersion = "weir-matrix", "1"
	resp, err := p.Request(req, 10*time.Second)
	if err != nil {
		t.Fatalf("ApiVersions: %v", err)
	}
	served := map[int16]int16{}
	for _, k := range resp.(*kmsg.ApiVersionsResponse).ApiKeys {
		served[k.ApiKey] = k.MaxVersion
	}
	for _, k := range interBrokerKeys {
		r, ok := protocol.VersionRange(k)
		if !ok {
			t.Fatalf("%s has no version range", kmsg.NameForKey(k))
		}
		served[k] = r.Max
	}
	return served
}

func (e *matrixEnv) addUsers(t *testing.T, users []string) {
	var ups []kadm.UpsertSCRAM
	for _, u := range users {
		ups = append(ups, kadm.UpsertSCRAM{User: u, Mechanism: kadm.ScramSha256, Iterations: 4096, Password: u + "-pw"})
	}
	res, err := kadm.NewClient(e.admin).AlterUserSCRAMs(context.Background(), nil, ups)
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		t.Fatalf("adding the matrix's users: %v", err)
	}
}

func (e *matrixEnv) grant(t *testing.T, user string, grants []string) {
	req := kmsg.NewPtrCreateACLsRequest()
	for _, g := range grants {
		op, res, _ := strings.Cut(g, " ")
		typ, name, _ := strings.Cut(res, ":")
		b, err := acl.ParseBinding(fmt.Sprintf("ALLOW User:%s * %s %s:LITERAL:%s", user, op, typ, name))
		if err != nil {
			t.Fatalf("grant %q: %v", g, err)
		}
		req.Creations = append(req.Creations, acl.Creation(b))
	}
	resp, err := req.RequestWith(context.Background(), e.admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp.Results {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			t.Fatalf("CreateAcls %v: %v", grants, err)
		}
	}
}

func (e *matrixEnv) dial(t *testing.T) *protocol.Peer {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := protocol.DialPeer(ctx, e.b.Listeners["SASL_PLAINTEXT"], "weir-matrix")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// send logs in as user (SASL PLAIN) on a new connection and sends req.
func (e *matrixEnv) send(user string, req kmsg.Request) (kmsg.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := protocol.DialPeer(ctx, e.b.Listeners["SASL_PLAINTEXT"], "weir-matrix")
	if err != nil {
		return nil, err
	}
	defer p.Close()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.SetVersion(1)
	hs.Mechanism = "PLAIN"
	hr, err := p.Request(hs, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("SaslHandshake: %w", err)
	}
	if err := kerr.ErrorForCode(hr.(*kmsg.SASLHandshakeResponse).ErrorCode); err != nil {
		return nil, fmt.Errorf("SaslHandshake: %w", err)
	}
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.SetVersion(2)
	auth.SASLAuthBytes = []byte("\x00" + user + "\x00" + user + "-pw")
	ar, err := p.Request(auth, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("SaslAuthenticate: %w", err)
	}
	if err := kerr.ErrorForCode(ar.(*kmsg.SASLAuthenticateResponse).ErrorCode); err != nil {
		return nil, fmt.Errorf("SaslAuthenticate as %s: %w", user, err)
	}
	resp, err := p.Request(req, 15*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kmsg.NameForKey(req.Key()), err)
	}
	return resp, nil
}

// recordBatch is a one-record v2 batch, transactional for a producer id
// > 0.
func recordBatch(pid int64) []byte {
	rec := kmsg.Record{Value: []byte("v")}
	body := rec.AppendTo(nil)[1:] // Length 0 encodes as one byte; drop it
	records := binary.AppendVarint(nil, int64(len(body)))
	records = append(records, body...)
	b := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: 1, Records: records, FirstTimestamp: 1000, MaxTimestamp: 1000}
	if pid > 0 {
		b.ProducerID, b.ProducerEpoch, b.FirstSequence, b.Attributes = pid, 0, 0, 0x10
	}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

func topicT() *string { return kmsg.StringPtr("t") }

// matrixRows is the permission matrix, as acl.APIs and Kafka 3.9's
// KafkaApis, ControllerApis and AclApis have it.
func matrixRows() []matrixRow {
	return []matrixRow{
		{name: "Produce", key: 0, code: topicDenied, grant: []string{"WRITE TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			return produceReq("t", nil, recordBatch(0))
		}},
		{name: "Produce transactional", key: 0, code: txnDenied, grant: []string{"WRITE TRANSACTIONAL_ID:txp", "WRITE TOPIC:tp"},
			req: func(e *matrixEnv) kmsg.Request { return produceReq("tp", kmsg.StringPtr("txp"), recordBatch(7)) }},
		{name: "Fetch", key: 1, code: topicDenied, grant: []string{"READ TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrFetchRequest()
			r.MaxWaitMillis, r.MaxBytes = 10, 1<<20
			ft := kmsg.NewFetchRequestTopic()
			ft.Topic, ft.TopicID = "t", e.topicID
			fp := kmsg.NewFetchRequestTopicPartition()
			fp.PartitionMaxBytes = 1 << 20
			ft.Partitions = append(ft.Partitions, fp)
			r.Topics = append(r.Topics, ft)
			return r
		}},
		{name: "ListOffsets", key: 2, code: topicDenied, grant: []string{"DESCRIBE TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrListOffsetsRequest()
			lt := kmsg.NewListOffsetsRequestTopic()
			lt.Topic = "t"
			lp := kmsg.NewListOffsetsRequestTopicPartition()
			lp.Timestamp = -1
			lt.Partitions = append(lt.Partitions, lp)
			r.Topics = append(r.Topics, lt)
			return r
		}},
		{name: "DescribeProducers", key: 61, code: topicDenied, grant: []string{"READ TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrDescribeProducersRequest()
			dt := kmsg.NewDescribeProducersRequestTopic()
			dt.Topic, dt.Partitions = "t", []int32{0}
			r.Topics = append(r.Topics, dt)
			return r
		}},
		{name: "Metadata named", key: 3, code: topicDenied, grant: []string{"DESCRIBE TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrMetadataRequest()
			mt := kmsg.NewMetadataRequestTopic()
			mt.Topic = topicT()
			r.Topics = append(r.Topics, mt)
			return r
		}},
		{name: "Metadata all", key: 3, grant: []string{"DESCRIBE TOPIC:t"}, count: listed(func(r *kmsg.MetadataResponse) []kmsg.MetadataResponseTopic { return r.Topics },
			func(t kmsg.MetadataResponseTopic) string { return topicOf(t.Topic) }, "t"), req: func(e *matrixEnv) kmsg.Request { return kmsg.NewPtrMetadataRequest() }},
		{name: "OffsetCommit", key: 8, code: groupDenied, grant: []string{"READ GROUP:g", "READ TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrOffsetCommitRequest()
			r.Group = "g"
			ot := kmsg.NewOffsetCommitRequestTopic()
			ot.Topic = "t"
			op := kmsg.NewOffsetCommitRequestTopicPartition()
			op.Offset = 1
			ot.Partitions = append(ot.Partitions, op)
			r.Topics = append(r.Topics, ot)
			return r
		}},
		{name: "OffsetFetch", key: 9, code: groupDenied, grant: []string{"DESCRIBE GROUP:g"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrOffsetFetchRequest()
			g := kmsg.NewOffsetFetchRequestGroup()
			g.Group = "g"
			r.Groups = append(r.Groups, g)
			return r
		}},
		{name: "FindCoordinator group", key: 10, code: groupDenied, grant: []string{"DESCRIBE GROUP:g"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrFindCoordinatorRequest()
			r.CoordinatorKeys = []string{"g"}
			return r
		}},
		{name: "FindCoordinator transaction", key: 10, code: txnDenied, grant: []string{"DESCRIBE TRANSACTIONAL_ID:tx10"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrFindCoordinatorRequest()
			r.CoordinatorType, r.CoordinatorKeys = 1, []string{"tx10"}
			return r
		}},
		{name: "JoinGroup", key: 11, code: groupDenied, grant: []string{"READ GROUP:g11"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrJoinGroupRequest()
			r.Group, r.SessionTimeoutMillis, r.RebalanceTimeoutMillis, r.ProtocolType = "g11", 10000, 10000, "consumer"
			p := kmsg.NewJoinGroupRequestProtocol()
			p.Name, p.Metadata = "range", []byte{}
			r.Protocols = append(r.Protocols, p)
			return r
		}},
		{name: "Heartbeat", key: 12, code: groupDenied, grant: []string{"READ GROUP:g"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrHeartbeatRequest()
			r.Group, r.Generation, r.MemberID = "g", 1, "m"
			return r
		}},
		{name: "LeaveGroup", key: 13, code: groupDenied, grant: []string{"READ GROUP:g"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrLeaveGroupRequest()
			r.Group = "g"
			m := kmsg.NewLeaveGroupRequestMember()
			m.MemberID = "m"
			r.Members = append(r.Members, m)
			return r
		}},
		{name: "SyncGroup", key: 14, code: groupDenied, grant: []string{"READ GROUP:g"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrSyncGroupRequest()
			r.Group, r.Generation, r.MemberID = "g", 1, "m"
			return r
		}},
		{name: "DescribeGroups", key: 15, code: groupDenied, grant: []string{"DESCRIBE GROUP:g"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrDescribeGroupsRequest()
			r.Groups = []string{"g"}
			return r
		}},
		{name: "ListGroups", key: 16, grant: []string{"DESCRIBE GROUP:g"}, count: listed(func(r *kmsg.ListGroupsResponse) []kmsg.ListGroupsResponseGroup { return r.Groups },
			func(g kmsg.ListGroupsResponseGroup) string { return g.Group }, "g"), req: func(e *matrixEnv) kmsg.Request { return kmsg.NewPtrListGroupsRequest() }},
		{name: "SaslHandshake", key: 17, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrSASLHandshakeRequest()
			r.Mechanism = "PLAIN"
			return r
		}},
		{name: "ApiVersions", key: 18, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrApiVersionsRequest()
			r.ClientSoftwareName, r.ClientSoftwareVersion = "weir-matrix", "1"
			return r
		}},
		{name: "CreateTopics", key: 19, code: topicDenied, grant: []string{"CREATE TOPIC:new19"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrCreateTopicsRequest()
			r.TimeoutMillis = 10000
			ct := kmsg.NewCreateTopicsRequestTopic()
			ct.Topic, ct.NumPartitions, ct.ReplicationFactor = "new19", 1, 1
			r.Topics = append(r.Topics, ct)
			return r
		}},
		{name: "DeleteTopics", key: 20, code: topicDenied, grant: []string{"DELETE TOPIC:del20"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrDeleteTopicsRequest()
			r.TimeoutMillis = 10000
			dt := kmsg.NewDeleteTopicsRequestTopic()
			dt.Topic = kmsg.StringPtr("del20")
			r.Topics, r.TopicNames = append(r.Topics, dt), []string{"del20"}
			return r
		}},
		{name: "DeleteRecords", key: 21, code: topicDenied, grant: []string{"DELETE TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrDeleteRecordsRequest()
			r.TimeoutMillis = 5000
			dt := kmsg.NewDeleteRecordsRequestTopic()
			dt.Topic = "t"
			dp := kmsg.NewDeleteRecordsRequestTopicPartition()
			dt.Partitions = append(dt.Partitions, dp)
			r.Topics = append(r.Topics, dt)
			return r
		}},
		{name: "InitProducerId transactional", key: 22, code: txnDenied, grant: []string{"WRITE TRANSACTIONAL_ID:tx22"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrInitProducerIDRequest()
			r.TransactionalID, r.TransactionTimeoutMillis = kmsg.StringPtr("tx22"), 60000
			return r
		}},
		{name: "InitProducerId idempotent", key: 22, code: clusterDenied, grant: []string{"IDEMPOTENT_WRITE CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			return kmsg.NewPtrInitProducerIDRequest()
		}},
		{name: "InitProducerId idempotent by topic WRITE", key: 22, code: clusterDenied, grant: []string{"WRITE TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			return kmsg.NewPtrInitProducerIDRequest()
		}},
		{name: "OffsetForLeaderEpoch", key: 23, code: topicDenied, grant: []string{"DESCRIBE TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrOffsetForLeaderEpochRequest()
			ot := kmsg.NewOffsetForLeaderEpochRequestTopic()
			ot.Topic = "t"
			ot.Partitions = append(ot.Partitions, kmsg.NewOffsetForLeaderEpochRequestTopicPartition())
			r.Topics = append(r.Topics, ot)
			return r
		}},
		{name: "AddPartitionsToTxn client", key: 24, at: 3, code: txnDenied, grant: []string{"WRITE TRANSACTIONAL_ID:tx24", "WRITE TOPIC:t"},
			req: func(e *matrixEnv) kmsg.Request {
				r := kmsg.NewPtrAddPartitionsToTxnRequest()
				r.TransactionalID, r.ProducerID = "tx24", 7
				at := kmsg.NewAddPartitionsToTxnRequestTopic()
				at.Topic, at.Partitions = "t", []int32{0}
				r.Topics = append(r.Topics, at)
				return r
			}},
		{name: "AddPartitionsToTxn broker", key: 24, code: clusterDenied, grant: []string{"CLUSTER_ACTION CLUSTER:kafka-cluster"},
			req: func(e *matrixEnv) kmsg.Request {
				r := kmsg.NewPtrAddPartitionsToTxnRequest()
				tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
				tx.TransactionalID, tx.ProducerID, tx.VerifyOnly = "tx24b", 7, true
				tt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
				tt.Topic, tt.Partitions = "t", []int32{0}
				tx.Topics = append(tx.Topics, tt)
				r.Transactions = append(r.Transactions, tx)
				return r
			}},
		{name: "AddOffsetsToTxn", key: 25, code: txnDenied, grant: []string{"WRITE TRANSACTIONAL_ID:tx25", "READ GROUP:g"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrAddOffsetsToTxnRequest()
			r.TransactionalID, r.ProducerID, r.Group = "tx25", 7, "g"
			return r
		}},
		{name: "EndTxn", key: 26, code: txnDenied, grant: []string{"WRITE TRANSACTIONAL_ID:tx26"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrEndTxnRequest()
			r.TransactionalID, r.ProducerID = "tx26", 7
			return r
		}},
		{name: "WriteTxnMarkers", key: 27, code: clusterDenied, grant: []string{"CLUSTER_ACTION CLUSTER:kafka-cluster"}, req: writeTxnMarkersReq},
		{name: "WriteTxnMarkers by ALTER", key: 27, code: clusterDenied, grant: []string{"ALTER CLUSTER:kafka-cluster"}, req: writeTxnMarkersReq},
		{name: "TxnOffsetCommit", key: 28, code: txnDenied, grant: []string{"WRITE TRANSACTIONAL_ID:tx28", "READ GROUP:g", "READ TOPIC:t"},
			req: func(e *matrixEnv) kmsg.Request {
				r := kmsg.NewPtrTxnOffsetCommitRequest()
				r.TransactionalID, r.Group, r.ProducerID = "tx28", "g", 7
				tt := kmsg.NewTxnOffsetCommitRequestTopic()
				tt.Topic = "t"
				tp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
				tp.Offset = 1
				tt.Partitions = append(tt.Partitions, tp)
				r.Topics = append(r.Topics, tt)
				return r
			}},
		{name: "DescribeAcls", key: 29, code: clusterDenied, grant: []string{"DESCRIBE CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			return acl.DescribeRequest(acl.AnyFilter)
		}},
		{name: "CreateAcls", key: 30, code: clusterDenied, grant: []string{"ALTER CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			b, _ := acl.ParseBinding("ALLOW User:nobody * READ TOPIC:LITERAL:nothing")
			r := kmsg.NewPtrCreateACLsRequest()
			r.Creations = append(r.Creations, acl.Creation(b))
			return r
		}},
		{name: "DeleteAcls", key: 31, code: clusterDenied, grant: []string{"ALTER CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			f, _ := acl.ParseFilter("ANY User:nobody null ANY ANY:ANY:null")
			r := kmsg.NewPtrDeleteACLsRequest()
			r.Filters = append(r.Filters, acl.DeleteFilter(f))
			return r
		}},
		{name: "DescribeConfigs topic", key: 32, code: topicDenied, grant: []string{"DESCRIBE_CONFIGS TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrDescribeConfigsRequest()
			res := kmsg.NewDescribeConfigsRequestResource()
			res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, "t"
			r.Resources = append(r.Resources, res)
			return r
		}},
		{name: "DescribeConfigs broker", key: 32, code: clusterDenied, grant: []string{"DESCRIBE_CONFIGS CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrDescribeConfigsRequest()
			res := kmsg.NewDescribeConfigsRequestResource()
			res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBroker, "1"
			r.Resources = append(r.Resources, res)
			return r
		}},
		{name: "AlterConfigs", key: 33, code: topicDenied, grant: []string{"ALTER_CONFIGS TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrAlterConfigsRequest()
			r.ValidateOnly = true
			res := kmsg.NewAlterConfigsRequestResource()
			res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, "t"
			c := kmsg.NewAlterConfigsRequestResourceConfig()
			c.Name, c.Value = "retention.ms", kmsg.StringPtr("86400000")
			res.Configs = append(res.Configs, c)
			r.Resources = append(r.Resources, res)
			return r
		}},
		{name: "DescribeLogDirs", key: 35, code: clusterDenied, grant: []string{"DESCRIBE CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			return kmsg.NewPtrDescribeLogDirsRequest()
		}},
		{name: "SaslAuthenticate", key: 36, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrSASLAuthenticateRequest()
			r.SASLAuthBytes = []byte("\x00x\x00y")
			return r
		}},
		{name: "CreatePartitions", key: 37, code: topicDenied, grant: []string{"ALTER TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrCreatePartitionsRequest()
			r.TimeoutMillis, r.ValidateOnly = 5000, true
			ct := kmsg.NewCreatePartitionsRequestTopic()
			ct.Topic, ct.Count = "t", 2
			r.Topics = append(r.Topics, ct)
			return r
		}},
		{name: "DeleteGroups", key: 42, code: groupDenied, grant: []string{"DELETE GROUP:g42"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrDeleteGroupsRequest()
			r.Groups = []string{"g42"}
			return r
		}},
		{name: "ElectLeaders", key: 43, code: clusterDenied, grant: []string{"ALTER CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrElectLeadersRequest()
			r.TimeoutMillis = 5000
			et := kmsg.NewElectLeadersRequestTopic()
			et.Topic, et.Partitions = "t", []int32{0}
			r.Topics = append(r.Topics, et)
			return r
		}},
		{name: "IncrementalAlterConfigs", key: 44, code: topicDenied, grant: []string{"ALTER_CONFIGS TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrIncrementalAlterConfigsRequest()
			r.ValidateOnly = true
			res := kmsg.NewIncrementalAlterConfigsRequestResource()
			res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, "t"
			c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			c.Name, c.Value = "retention.ms", kmsg.StringPtr("86400000")
			res.Configs = append(res.Configs, c)
			r.Resources = append(r.Resources, res)
			return r
		}},
		{name: "AlterPartitionReassignments", key: 45, code: clusterDenied, grant: []string{"ALTER CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrAlterPartitionAssignmentsRequest()
			r.TimeoutMillis = 5000
			return r
		}},
		{name: "ListPartitionReassignments", key: 46, code: clusterDenied, grant: []string{"DESCRIBE CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrListPartitionReassignmentsRequest()
			r.TimeoutMillis = 5000
			return r
		}},
		{name: "OffsetDelete", key: 47, code: groupDenied, grant: []string{"DELETE GROUP:g47", "READ TOPIC:t"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrOffsetDeleteRequest()
			r.Group = "g47"
			ot := kmsg.NewOffsetDeleteRequestTopic()
			ot.Topic = "t"
			op := kmsg.NewOffsetDeleteRequestTopicPartition()
			ot.Partitions = append(ot.Partitions, op)
			r.Topics = append(r.Topics, ot)
			return r
		}},
		{name: "DescribeUserScramCredentials", key: 50, code: clusterDenied, grant: []string{"DESCRIBE CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			return kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
		}},
		{name: "AlterUserScramCredentials", key: 51, code: clusterDenied, grant: []string{"ALTER CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
			d := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
			d.Name, d.Mechanism = "no-such-user", 1
			r.Deletions = append(r.Deletions, d)
			return r
		}},
		{name: "AlterPartition", key: 56, code: clusterDenied, grant: []string{"CLUSTER_ACTION CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrAlterPartitionRequest()
			r.BrokerID, r.BrokerEpoch = 99, 1 // no topics: nothing to alter once allowed
			return r
		}},
		{name: "DescribeCluster", key: 60, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrDescribeClusterRequest()
			r.IncludeClusterAuthorizedOperations = true
			return r
		}},
		{name: "BrokerRegistration", key: 62, code: clusterDenied, grant: []string{"CLUSTER_ACTION CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrBrokerRegistrationRequest()
			r.BrokerID, r.ClusterID = 99, "not-this-cluster" // refused once allowed: INCONSISTENT_CLUSTER_ID
			return r
		}},
		{name: "BrokerHeartbeat", key: 63, code: clusterDenied, grant: []string{"CLUSTER_ACTION CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrBrokerHeartbeatRequest()
			r.BrokerID, r.BrokerEpoch = 99, 1
			return r
		}},
		{name: "UpdateFeatures", key: 57, code: clusterDenied, grant: []string{"ALTER CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrUpdateFeaturesRequest()
			r.ValidateOnly = true
			fu := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
			fu.Feature, fu.MaxVersionLevel, fu.UpgradeType = "transaction.version", 1, 1
			r.FeatureUpdates = append(r.FeatureUpdates, fu)
			return r
		}},
		{name: "UnregisterBroker", key: 64, code: clusterDenied, grant: []string{"ALTER CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrUnregisterBrokerRequest()
			r.BrokerID = 99
			return r
		}},
		{name: "DescribeTransactions", key: 65, code: txnDenied, grant: []string{"DESCRIBE TRANSACTIONAL_ID:tx65"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrDescribeTransactionsRequest()
			r.TransactionalIDs = []string{"tx65"}
			return r
		}},
		{name: "ListTransactions", key: 66, grant: []string{"DESCRIBE TRANSACTIONAL_ID:tx66"}, count: listed(func(r *kmsg.ListTransactionsResponse) []kmsg.ListTransactionsResponseTransactionState {
			return r.TransactionStates
		},
			func(s kmsg.ListTransactionsResponseTransactionState) string { return s.TransactionalID }, "tx66"), req: func(e *matrixEnv) kmsg.Request { return kmsg.NewPtrListTransactionsRequest() }},
		{name: "AllocateProducerIds", key: 67, code: clusterDenied, grant: []string{"CLUSTER_ACTION CLUSTER:kafka-cluster"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrAllocateProducerIDsRequest()
			r.BrokerID, r.BrokerEpoch = 99, 1
			return r
		}},
		{name: "ConsumerGroupHeartbeat", key: 68, code: groupDenied, grant: []string{"READ GROUP:g68"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrConsumerGroupHeartbeatRequest()
			r.Group, r.MemberID, r.RebalanceTimeoutMillis = "g68", "m68", 30000
			r.SubscribedTopicNames = []string{"t"}
			r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
			return r
		}},
		{name: "ConsumerGroupDescribe", key: 69, code: groupDenied, grant: []string{"DESCRIBE GROUP:g"}, req: func(e *matrixEnv) kmsg.Request {
			r := kmsg.NewPtrConsumerGroupDescribeRequest()
			r.Groups = []string{"g"}
			return r
		}},
	}
}

// listed counts the entries of a listing named want.
func listed[R kmsg.Response, T any](items func(R) []T, name func(T) string, want string) func(kmsg.Response) int {
	return func(resp kmsg.Response) int {
		n := 0
		for _, it := range items(resp.(R)) {
			if name(it) == want {
				n++
			}
		}
		return n
	}
}

// writeTxnMarkersReq writes an abort marker to a topic that does not
// exist: nothing is written once it is allowed.
func writeTxnMarkersReq(*matrixEnv) kmsg.Request {
	r := kmsg.NewPtrWriteTxnMarkersRequest()
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID = 7
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = "no-such-topic", []int32{0}
	m.Topics = append(m.Topics, mt)
	r.Markers = append(r.Markers, m)
	return r
}

func produceReq(topic string, txnID *string, batch []byte) *kmsg.ProduceRequest {
	r := kmsg.NewPtrProduceRequest()
	r.Acks, r.TimeoutMillis, r.TransactionID = -1, 5000, txnID
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = topic
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Records = batch
	pt.Partitions = append(pt.Partitions, pp)
	r.Topics = append(r.Topics, pt)
	return r
}

func topicOf(name *string) string {
	if name == nil {
		return ""
	}
	return *name
}

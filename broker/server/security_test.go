package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/weirhq/weir/broker/config"
	"github.com/weirhq/weir/broker/protocol"
	poll "github.com/weirhq/weir/internal/await"
	"github.com/weirhq/weir/internal/pki"
)

// secureFixture is a CA, a broker certificate and a client certificate
// for alice, written under dir.
type secureFixture struct {
	dir string
	ca  *pki.CA
}

func newSecureFixture(t *testing.T) *secureFixture {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.NewCA("weir test CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteCA(dir); err != nil {
		t.Fatal(err)
	}
	br, err := ca.Broker("broker")
	if err != nil {
		t.Fatal(err)
	}
	if err := br.Write(dir, "broker"); err != nil {
		t.Fatal(err)
	}
	return &secureFixture{dir: dir, ca: ca}
}

// props are a broker's listeners: PLAINTEXT (inter-broker), SASL_SSL,
// SSL with client certificates required, SASL_PLAINTEXT with PLAIN too.
func (f *secureFixture) props(extra map[string]string) map[string]string {
	p := map[string]string{
		"listeners":                                            "PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
		"ssl.keystore.location":                                filepath.Join(f.dir, "broker.keystore.pem"),
		"ssl.truststore.location":                              filepath.Join(f.dir, "ca.pem"),
		"listener.name.ssl.ssl.client.auth":                    "required",
		"listener.name.sasl_plaintext.sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256",
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func (f *secureFixture) clientTLS(t *testing.T, name string) *tls.Config {
	cfg := &tls.Config{RootCAs: f.ca.Pool(), ServerName: "localhost"}
	if name != "" {
		p, err := f.ca.Client(name)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := p.TLSCertificate()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

func addScramUser(t *testing.T, cl *kgo.Client, user, pass string, m kadm.ScramMechanism) {
	t.Helper()
	res, err := kadm.NewClient(cl).AlterUserSCRAMs(context.Background(), nil,
		[]kadm.UpsertSCRAM{{User: user, Mechanism: m, Iterations: 4096, Password: pass}})
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		t.Fatalf("adding SCRAM user %s: %v", user, err)
	}
}

func roundTrip(t *testing.T, addr string, topic string, opts ...kgo.Opt) error {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(),
		kgo.ConsumeTopics(topic), kgo.RequestRetries(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("hello")}).FirstErr(); err != nil {
		return err
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err(); err != nil {
		return err
	}
	if fs.NumRecords() != 1 || string(fs.Records()[0].Value) != "hello" {
		t.Fatalf("consumed %d records", fs.NumRecords())
	}
	return nil
}

// oneRequest sends one Metadata request and returns its error (a
// connection's authentication error, say).
func oneRequest(t *testing.T, addr string, opts ...kgo.Opt) error {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.RequestRetries(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = cl.Request(ctx, kmsg.NewPtrMetadataRequest())
	return err
}

func TestListenersTLSAndSASL(t *testing.T) {
	f := newSecureFixture(t)
	b := startBroker(t, f.props(nil))
	addScramUser(t, b.client(t), "alice", "alice-secret", kadm.ScramSha256)
	addScramUser(t, b.client(t), "bob", "bob-secret", kadm.ScramSha512)

	saslSSL := b.ListenerAddr("SASL_SSL").String()
	sha256 := scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism()
	if err := roundTrip(t, saslSSL, "t-scram256", kgo.DialTLSConfig(f.clientTLS(t, "")), kgo.SASL(sha256)); err != nil {
		t.Fatalf("SASL_SSL SCRAM-SHA-256: %v", err)
	}
	sha512 := scram.Auth{User: "bob", Pass: "bob-secret"}.AsSha512Mechanism()
	if err := roundTrip(t, saslSSL, "t-scram512", kgo.DialTLSConfig(f.clientTLS(t, "")), kgo.SASL(sha512)); err != nil {
		t.Fatalf("SASL_SSL SCRAM-SHA-512: %v", err)
	}
	wrong := scram.Auth{User: "bob", Pass: "nope"}.AsSha512Mechanism()
	if err := oneRequest(t, saslSSL, kgo.DialTLSConfig(f.clientTLS(t, "")), kgo.SASL(wrong)); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("wrong password: %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	plain := plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism()
	if err := roundTrip(t, b.ListenerAddr("SASL_PLAINTEXT").String(), "t-plain", kgo.SASL(plain)); err != nil {
		t.Fatalf("SASL_PLAINTEXT PLAIN: %v", err)
	}
	if err := oneRequest(t, saslSSL, kgo.DialTLSConfig(f.clientTLS(t, "")), kgo.SASL(plain)); !errors.Is(err, kerr.UnsupportedSaslMechanism) {
		t.Fatalf("PLAIN where only SCRAM is enabled: %v, want UNSUPPORTED_SASL_MECHANISM", err)
	}
	if err := roundTrip(t, b.ListenerAddr("SSL").String(), "t-mtls", kgo.DialTLSConfig(f.clientTLS(t, "carol"))); err != nil {
		t.Fatalf("SSL with a client certificate: %v", err)
	}
	if err := oneRequest(t, b.ListenerAddr("SSL").String(), kgo.DialTLSConfig(f.clientTLS(t, ""))); err == nil {
		t.Fatal("SSL without a client certificate: served, want refused")
	}
	// The client may see the refusal before the broker counts it.
	for _, l := range []string{"SASL_SSL", "SSL"} {
		poll.True(t, 5*time.Second, "failed-authentication-total of "+l+" counting the refusal", func() bool {
			m := &dto.Metric{}
			b.metrics.AuthFailure.WithLabelValues(l).Write(m)
			return m.GetCounter().GetValue() >= 1
		})
	}
}

func TestACLsEnforced(t *testing.T) {
	f := newSecureFixture(t)
	b := startBroker(t, f.props(map[string]string{
		"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		// The broker reaches itself over PLAINTEXT (its inter-broker
		// listener) as User:ANONYMOUS; here that is the admin too.
		"super.users": "User:ANONYMOUS",
	}))
	ctx := context.Background()
	admin := b.client(t)
	adm := kadm.NewClient(admin)
	addScramUser(t, admin, "alice", "alice-secret", kadm.ScramSha256)
	for _, topic := range []string{"readable", "secret"} {
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
		if err := admin.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(topic)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	res, err := adm.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").Topics("readable").Operations(kadm.OpRead).
		ResourcePatternType(kadm.ACLPatternLiteral))
	if err == nil {
		for _, r := range res {
			err = errors.Join(err, r.Err)
		}
	}
	if err != nil {
		t.Fatalf("CreateACLs: %v", err)
	}
	dreq := kmsg.NewPtrDescribeACLsRequest()
	dreq.ResourceType, dreq.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	dreq.Operation, dreq.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	draw, err := admin.Request(ctx, dreq)
	if err != nil {
		t.Fatal(err)
	}
	if d := draw.(*kmsg.DescribeACLsResponse); d.ErrorCode != 0 || len(d.Resources) != 1 || d.Resources[0].ResourceName != "readable" {
		t.Fatalf("DescribeACLs: %+v", d)
	}

	alice := []kgo.Opt{kgo.SeedBrokers(b.ListenerAddr("SASL_SSL").String()), kgo.DialTLSConfig(f.clientTLS(t, "")),
		kgo.SASL(scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism()), kgo.RequestRetries(1)}
	cl, err := kgo.NewClient(append(alice, kgo.ConsumeTopics("readable"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	fs := cl.PollFetches(pctx)
	if err := fs.Err(); err != nil || fs.NumRecords() != 1 {
		t.Fatalf("alice consuming readable: %v, %d records", err, fs.NumRecords())
	}
	// The topic list leaves out what alice may not describe.
	meta, err := kadm.NewClient(cl).Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if names := meta.Topics.Names(); len(names) != 1 || names[0] != "readable" {
		t.Fatalf("alice sees topics %v, want only readable", names)
	}
	// Writing to it, reading another, creating ACLs: refused.
	// (An idempotent producer is refused its producer id first: no WRITE
	// on any topic, KIP-679.)
	if err := cl.ProduceSync(pctx, &kgo.Record{Topic: "readable", Value: []byte("x")}).FirstErr(); !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alice producing idempotently: %v, want CLUSTER_AUTHORIZATION_FAILED", err)
	}
	pl, err := kgo.NewClient(append(alice, kgo.DisableIdempotentWrite())...)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	if err := pl.ProduceSync(pctx, &kgo.Record{Topic: "readable", Value: []byte("x")}).FirstErr(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice producing: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	req := kmsg.NewPtrFetchRequest()
	secret, err := adm.ListTopics(ctx, "secret")
	if err != nil {
		t.Fatal(err)
	}
	req.MaxWaitMillis, req.MaxBytes = 10, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic, ft.TopicID = "secret", secret["secret"].ID // by id from v13, which kgo sends
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	req.Topics = append(req.Topics, ft)
	raw, err := cl.Request(pctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if fr := raw.(*kmsg.FetchResponse); len(fr.Topics) != 1 || fr.Topics[0].Partitions[0].ErrorCode != kerr.TopicAuthorizationFailed.Code {
		t.Fatalf("alice fetching secret: %+v", fr.Topics)
	}
	cres, err := kadm.NewClient(cl).CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").Topics("secret").Operations(kadm.OpRead).
		ResourcePatternType(kadm.ACLPatternLiteral))
	if err == nil && len(cres) > 0 {
		err = cres[0].Err
	}
	if !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alice creating an ACL: %v, want CLUSTER_AUTHORIZATION_FAILED", err)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Two brokers whose only listener is SSL with client certificates
// required: the metadata quorum, the lifecycle's requests to the
// controller and replication all run over TLS, authenticated as the
// brokers' certificate principal (a super user).
func TestInterBrokerTLS(t *testing.T) {
	f := newSecureFixture(t)
	addrs := []string{freePort(t), freePort(t)}
	voters := "1@" + addrs[0] + ",2@" + addrs[1]
	var brokers []*Broker
	for i, addr := range addrs {
		cfg, err := config.Load("", map[string]string{
			"node.id":                               strconv.Itoa(i + 1),
			"listeners":                             "INTERNAL://" + addr,
			"listener.security.protocol.map":        "INTERNAL:SSL",
			"controller.quorum.voters":              voters,
			"weir.cluster.id":                       "tls-cluster-0000000000",
			"log.dirs":                              t.TempDir(),
			"weir.admin.listener":                   "off",
			"ssl.keystore.location":                 filepath.Join(f.dir, "broker.keystore.pem"),
			"ssl.truststore.location":               filepath.Join(f.dir, "ca.pem"),
			"ssl.client.auth":                       "required",
			"authorizer.class.name":                 "weir",
			"super.users":                           "User:CN=broker,O=Weir brokers",
			"min.insync.replicas":                   "2",
			"controller.quorum.election.timeout.ms": fastQuorum["controller.quorum.election.timeout.ms"],
			"controller.quorum.fetch.timeout.ms":    fastQuorum["controller.quorum.fetch.timeout.ms"],
		})
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		brokers = append(brokers, b)
	}
	for _, b := range brokers {
		poll.True(t, 20*time.Second, "the broker ready", func() bool { return b.ready.Load() })
	}
	// The brokers' own certificate is a super user's.
	cfg := &tls.Config{RootCAs: f.ca.Pool(), ServerName: "localhost"}
	bc, err := tls.LoadX509KeyPair(filepath.Join(f.dir, "broker.pem"), filepath.Join(f.dir, "broker.key"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Certificates = []tls.Certificate{bc}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.DialTLSConfig(cfg), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 2, nil, "replicated"); err != nil {
		t.Fatal(err)
	}
	// acks=all with min.insync.replicas=2: the follower fetched over TLS.
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "replicated", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("acks=all produce: %v", err)
	}
	// A client certificate that is not a super user's, without ACLs: refused.
	if err := roundTrip(t, addrs[0], "other", kgo.DialTLSConfig(f.clientTLS(t, "mallory"))); !errors.Is(err, kerr.TopicAuthorizationFailed) && !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("mallory: %v, want an authorization error", err)
	}
}

// KIP-368: with connections.max.reauth.ms, SaslAuthenticate tells the
// client its session lifetime and the client re-authenticates on the same
// connection before it ends; requests keep being served throughout.
func TestReauthentication(t *testing.T) {
	f := newSecureFixture(t)
	b := startBroker(t, f.props(map[string]string{"connections.max.reauth.ms": "1500"}))
	addScramUser(t, b.client(t), "alice", "alice-secret", kadm.ScramSha256)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.ListenerAddr("SASL_SSL").String()), kgo.DialTLSConfig(f.clientTLS(t, "")),
		kgo.SASL(scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	success := func() float64 {
		m := &dto.Metric{}
		b.metrics.AuthSuccess.WithLabelValues("SASL_SSL").Write(m)
		return m.GetCounter().GetValue()
	}
	created := func() float64 {
		m := &dto.Metric{}
		b.metrics.ConnectionsCreated.WithLabelValues("SASL_SSL").Write(m)
		return m.GetCounter().GetValue()
	}
	poll.True(t, 15*time.Second, "three authentications on the SASL_SSL listener", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := cl.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
			t.Fatalf("a request during re-authentication: %v", err)
		}
		return success() >= 3
	})
	// franz-go keeps a request connection and re-authenticates on it: fewer
	// connections than authentications.
	if created() >= success() {
		t.Errorf("%v connections for %v authentications: no re-authentication on a connection", created(), success())
	}
}

// Bad input on a SASL listener: a request before authenticating closes
// the connection; an unknown mechanism is UNSUPPORTED_SASL_MECHANISM with
// the enabled list; a malformed token is SASL_AUTHENTICATION_FAILED and
// the connection closes; a truncated frame closes only its connection.
// The broker keeps serving, and each failure is counted.
func TestSASLBadInput(t *testing.T) {
	f := newSecureFixture(t)
	b := startBroker(t, f.props(nil))
	addr := b.ListenerAddr("SASL_PLAINTEXT").String()
	dial := func() *protocol.Peer {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p, err := protocol.DialPeer(ctx, addr, "bad-input")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	handshake := func(p *protocol.Peer, mech string) *kmsg.SASLHandshakeResponse {
		hs := kmsg.NewPtrSASLHandshakeRequest()
		hs.SetVersion(1)
		hs.Mechanism = mech
		resp, err := p.Request(hs, 5*time.Second)
		if err != nil {
			t.Fatalf("SaslHandshake %s: %v", mech, err)
		}
		return resp.(*kmsg.SASLHandshakeResponse)
	}

	if _, err := dial().Request(kmsg.NewPtrMetadataRequest(), 5*time.Second); err == nil {
		t.Error("Metadata before authenticating was answered")
	}
	if r := handshake(dial(), "GSSAPI"); r.ErrorCode != kerr.UnsupportedSaslMechanism.Code || len(r.SupportedMechanisms) != 2 {
		t.Errorf("GSSAPI: %+v", r)
	}
	p := dial()
	if r := handshake(p, "SCRAM-SHA-256"); r.ErrorCode != 0 {
		t.Fatalf("SCRAM-SHA-256 handshake: %+v", r)
	}
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.SetVersion(2)
	auth.SASLAuthBytes = []byte("n,,\x00garbage")
	resp, err := p.Request(auth, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.(*kmsg.SASLAuthenticateResponse); r.ErrorCode != kerr.SaslAuthenticationFailed.Code {
		t.Errorf("a malformed token: %+v", r)
	}
	if _, err := p.Request(kmsg.NewPtrMetadataRequest(), 5*time.Second); err == nil {
		t.Error("the connection stayed open after a failed authentication")
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte{0, 0, 0, 100, 0, 17}) // a frame cut short
	c.Close()

	addScramUser(t, b.client(t), "alice", "alice-secret", kadm.ScramSha256)
	if err := roundTrip(t, addr, "after-bad-input", kgo.SASL(plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism())); err != nil {
		t.Fatalf("a good login after the bad input: %v", err)
	}
	poll.True(t, 5*time.Second, "three failed authentications counted", func() bool {
		m := &dto.Metric{}
		b.metrics.AuthFailure.WithLabelValues("SASL_PLAINTEXT").Write(m)
		return m.GetCounter().GetValue() >= 3
	})
}

// A franz-go transactional producer over SASL with the ACLs Kafka asks
// for (WRITE on its transactional id and on the topic) commits, and a
// read_committed consumer with READ sees the records; a transactional id
// without WRITE is refused TRANSACTIONAL_ID_AUTHORIZATION_FAILED at
// InitProducerId.
func TestTransactionsWithACLs(t *testing.T) {
	f := newSecureFixture(t)
	b := startBroker(t, f.props(map[string]string{
		"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		"super.users":           "User:ANONYMOUS",
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := b.client(t)
	adm := kadm.NewClient(admin)
	addScramUser(t, admin, "alice", "alice-secret", kadm.ScramSha256)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "out"); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*kadm.ACLBuilder{
		kadm.NewACLs().Allow("User:alice").Topics("out").Operations(kadm.OpWrite, kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral),
		kadm.NewACLs().Allow("User:alice").TransactionalIDs("tx-a").Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternLiteral),
	} {
		res, err := adm.CreateACLs(ctx, b)
		for _, r := range res {
			err = errors.Join(err, r.Err)
		}
		if err != nil {
			t.Fatalf("CreateACLs: %v", err)
		}
	}
	alice := []kgo.Opt{kgo.SeedBrokers(b.ListenerAddr("SASL_PLAINTEXT").String()),
		kgo.SASL(scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism()), kgo.RequestRetries(2)}

	refused, err := kgo.NewClient(append(alice, kgo.TransactionalID("tx-b"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer refused.Close()
	err = refused.BeginTransaction() // kgo asks for its producer id at once: the refusal may surface here
	if err == nil {
		err = refused.ProduceSync(ctx, &kgo.Record{Topic: "out", Value: []byte("no")}).FirstErr()
	}
	if !errors.Is(err, kerr.TransactionalIDAuthorizationFailed) {
		t.Fatalf("transactions with tx-b: %v, want TRANSACTIONAL_ID_AUTHORIZATION_FAILED", err)
	}

	p, err := kgo.NewClient(append(alice, kgo.TransactionalID("tx-a"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "out", Value: []byte("committed")}).FirstErr(); err != nil {
		t.Fatalf("producing with tx-a: %v", err)
	}
	if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("committing tx-a: %v", err)
	}
	c, err := kgo.NewClient(append(alice, kgo.ConsumeTopics("out"), kgo.FetchIsolationLevel(kgo.ReadCommitted()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fs := c.PollFetches(ctx)
	if err := fs.Err(); err != nil || fs.NumRecords() != 1 || string(fs.Records()[0].Value) != "committed" {
		t.Fatalf("read_committed: %v, %d records", err, fs.NumRecords())
	}
}

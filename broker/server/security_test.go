package server

import (
	"context"
	"crypto/tls"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

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
	if got := b.metrics.AuthFailure.WithLabelValues("SASL_SSL"); got == nil {
		t.Fatal("no failure counter")
	}
}

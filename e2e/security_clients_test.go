package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	gometrics "github.com/rcrowley/go-metrics"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	xscram "github.com/xdg-go/scram"

	"github.com/weirhq/weir/internal/clientconfig"
	"github.com/weirhq/weir/internal/pki"
)

// matrixCreds is how one client reaches the broker: SASL_SSL with
// SCRAM-SHA-512 as user/password, or SSL with a client certificate.
type matrixCreds struct {
	Bootstrap string `json:"bootstrap"`
	Protocol  string `json:"protocol"`
	CA        string `json:"ca"`
	User      string `json:"user,omitempty"`
	Password  string `json:"password,omitempty"`
	Cert      string `json:"cert,omitempty"`
	Key       string `json:"key,omitempty"`
}

// matrixClient is one Kafka client library driven through the three
// steps of a row: probe (metadata), produce n records v0..vn-1 with
// acks=all, and consume n records in a group from the earliest offset,
// committing them.
type matrixClient interface {
	probe(ctx context.Context, c matrixCreds) error
	produce(ctx context.Context, c matrixCreds, topic string, n int) error
	consume(ctx context.Context, c matrixCreds, topic, group string, n int) ([]string, error)
}

// TestSecureClientMatrix is issue 12's client proof: kcat, kafka-python,
// confluent-kafka-python, franz-go and sarama, each over SASL_SSL with
// SCRAM-SHA-512 and over SSL with a client certificate, against one
// broker with ACLs on. Per row, a principal of its own: the wrong
// password (SASL) or a certificate from another CA (mTLS) is refused;
// with no ACLs its produce is refused TOPIC_AUTHORIZATION_FAILED; after
// CreateAcls for the topic its group consume is refused
// GROUP_AUTHORIZATION_FAILED; after CreateAcls for the group it
// consumes what it produced and its commit is the group's offset.
func TestSecureClientMatrix(t *testing.T) {
	t.Parallel()
	s := startSecureBroker(t)
	other, err := pki.NewCA("untrusted CA", 0)
	must(t, err)
	clients := map[string]matrixClient{
		"kcat":            kcatClient{bin: lookTool(t, "kcat")},
		"kafka-python":    pyClient{py: pythonWith(t, "kafka"), lib: "kafka-python"},
		"confluent-kafka": pyClient{py: pythonWith(t, "confluent_kafka"), lib: "confluent-kafka"},
		"franz-go":        franzClient{},
		"sarama":          saramaClient{},
	}
	adm := kadm.NewClient(s.b.Client(t))
	var mu sync.Mutex // weir user/acl runs one at a time: each is a process
	for _, name := range []string{"kcat", "kafka-python", "confluent-kafka", "franz-go", "sarama"} {
		for _, proto := range []string{"SASL_SSL", "SSL"} {
			c, principal := clients[name], "mx-"+name+"-"+strings.ToLower(proto)
			t.Run(name+"/"+proto, func(t *testing.T) {
				t.Parallel()
				good, bad := s.matrixCreds(t, &mu, other, proto, principal)
				runMatrixRow(t, s, adm, &mu, c, good, bad, principal)
			})
		}
	}
}

// matrixCreds makes principal's credentials for proto (a SCRAM-SHA-512
// user, or a client certificate CN=principal) and a refused variant
// (the wrong password, or the same subject signed by another CA).
func (s *secureBroker) matrixCreds(t *testing.T, mu *sync.Mutex, other *pki.CA, proto, principal string) (good, bad matrixCreds) {
	t.Helper()
	good = matrixCreds{Bootstrap: s.b.Listeners[proto], Protocol: proto, CA: filepath.Join(s.dir, "ca.pem")}
	if proto == "SASL_SSL" {
		mu.Lock()
		s.weir(t, principal+"-pw\n", "user", "set", principal, "--password-stdin", "--mechanism", "SCRAM-SHA-512")
		mu.Unlock()
		good.User, good.Password = principal, principal+"-pw"
		bad = good
		bad.Password = "wrong"
		return good, bad
	}
	dir := t.TempDir()
	for _, ca := range []struct {
		ca   *pki.CA
		name string
		to   *matrixCreds
	}{{s.ca, "trusted", &good}, {other, "untrusted", &bad}} {
		p, err := ca.ca.Client(principal)
		must(t, err)
		must(t, p.Write(dir, ca.name))
		if ca.to != &good {
			*ca.to = good
		}
		ca.to.Cert, ca.to.Key = filepath.Join(dir, ca.name+".pem"), filepath.Join(dir, ca.name+".key")
	}
	return good, bad
}

func runMatrixRow(t *testing.T, s *secureBroker, adm *kadm.Client, mu *sync.Mutex, c matrixClient, good, bad matrixCreds, principal string) {
	const n = 3
	topic, group := principal, principal+"-group"
	acl := "User:" + principal
	if good.Protocol == "SSL" {
		acl = "User:CN=" + principal
	}
	mu.Lock()
	s.weir(t, "", "topic", "create", topic, "--partitions", "1")
	mu.Unlock()
	step := func(d time.Duration) context.Context { return testContext(t, d) }

	if err := c.probe(step(30*time.Second), bad); err == nil {
		t.Fatalf("refused credentials (%s) were accepted", describeCreds(bad))
	} else {
		t.Logf("refused credentials: %v", err)
	}
	if err := c.probe(step(30*time.Second), good); err != nil {
		t.Fatalf("metadata with good credentials: %v", err)
	}
	err := c.produce(step(30*time.Second), good, topic, n)
	if !refusedAs(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("produce without ACLs: want TOPIC_AUTHORIZATION_FAILED, got %v", err)
	}
	mu.Lock()
	s.weir(t, "", "acl", "create", "ALLOW "+acl+" * WRITE TOPIC:LITERAL:"+topic)
	s.weir(t, "", "acl", "create", "ALLOW "+acl+" * READ TOPIC:LITERAL:"+topic)
	mu.Unlock()
	if err := c.produce(step(30*time.Second), good, topic, n); err != nil {
		t.Fatalf("produce after CreateAcls: %v", err)
	}
	if _, err := c.consume(step(30*time.Second), good, topic, group, n); !refusedAs(err, kerr.GroupAuthorizationFailed) {
		t.Fatalf("group consume without READ on the group: want GROUP_AUTHORIZATION_FAILED, got %v", err)
	}
	mu.Lock()
	s.weir(t, "", "acl", "create", "ALLOW "+acl+" * READ GROUP:LITERAL:"+group)
	mu.Unlock()
	got, err := c.consume(step(40*time.Second), good, topic, group, n)
	if err != nil || strings.Join(got, ",") != "v0,v1,v2" {
		t.Fatalf("group consume after CreateAcls: %q, %v", got, err)
	}
	offs, err := adm.FetchOffsets(step(10*time.Second), group)
	if err != nil {
		t.Fatalf("OffsetFetch %s: %v", group, err)
	}
	if o, ok := offs.Lookup(topic, 0); !ok || o.At != n {
		t.Fatalf("group %s committed %+v, want offset %d", group, o, n)
	}
}

func describeCreds(c matrixCreds) string {
	if c.Protocol == "SASL_SSL" {
		return "SASL_SSL user " + c.User + " password " + c.Password
	}
	return "SSL certificate " + c.Cert
}

// refusedAs reports whether err is code: as a Go error, or in a
// client's text ("Topic authorization failed",
// TopicAuthorizationFailedError, TOPIC_AUTHORIZATION_FAILED).
func refusedAs(err error, code *kerr.Error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, code) || errors.Is(err, sarama.KError(code.Code)) {
		return true
	}
	flat := func(s string) string {
		return strings.NewReplacer("_", "", " ", "", "-", "").Replace(strings.ToLower(s))
	}
	return strings.Contains(flat(err.Error()), flat(code.Message))
}

// kcatClient drives the kcat binary with a librdkafka config file.
type kcatClient struct{ bin string }

func (k kcatClient) run(ctx context.Context, c matrixCreds, stdin string, args ...string) (string, error) {
	st := clientconfig.Settings{BootstrapServers: []string{c.Bootstrap}, SecurityProtocol: c.Protocol, CAFile: c.CA,
		CertFile: c.Cert, KeyFile: c.Key}
	if c.Protocol == "SASL_SSL" {
		st.SASLMechanism, st.Username, st.Password = "SCRAM-SHA-512", c.User, c.Password
	}
	text, err := st.Librdkafka()
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "kcat-*.conf")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(text); err != nil {
		return "", err
	}
	f.Close()
	cmd := exec.CommandContext(ctx, k.bin, append([]string{"-F", f.Name()}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("kcat %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

func (k kcatClient) probe(ctx context.Context, c matrixCreds) error {
	_, err := k.run(ctx, c, "", "-L", "-m", "5")
	return err
}

func (k kcatClient) produce(ctx context.Context, c matrixCreds, topic string, n int) error {
	_, err := k.run(ctx, c, recordLines(n), "-P", "-t", topic, "-X", "acks=all")
	return err
}

// consume runs kcat's balanced consumer (-G) until n records: closing
// commits them (librdkafka's enable.auto.commit commits on close).
func (k kcatClient) consume(ctx context.Context, c matrixCreds, topic, group string, n int) ([]string, error) {
	out, err := k.run(ctx, c, "", "-G", group, "-c", strconv.Itoa(n), "-X", "auto.offset.reset=earliest", "-f", "%s\n", topic)
	return strings.Fields(out), err
}

func recordLines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "v%d\n", i)
	}
	return b.String()
}

// pyClient runs testdata/secure_client.py with kafka-python or
// confluent-kafka.
type pyClient struct{ py, lib string }

func (p pyClient) run(ctx context.Context, c matrixCreds, mode, topic, group string, n int) ([]string, error) {
	conf, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, p.py, "testdata/secure_client.py", p.lib, mode, string(conf), topic, group, strconv.Itoa(n))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w\n%s", p.lib, mode, err, stderr.String())
	}
	var res struct {
		Values []string `json:"values"`
		Error  string   `json:"error"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("%s %s printed %q: %w", p.lib, mode, out, err)
	}
	if res.Error != "" {
		return res.Values, fmt.Errorf("%s %s: %s\n%s", p.lib, mode, res.Error, lastLines(stderr.String(), 10))
	}
	return res.Values, nil
}

// lastLines is the end of a client's log, for a failure message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func (p pyClient) probe(ctx context.Context, c matrixCreds) error {
	_, err := p.run(ctx, c, "probe", "-", "-", 0)
	return err
}

func (p pyClient) produce(ctx context.Context, c matrixCreds, topic string, n int) error {
	_, err := p.run(ctx, c, "produce", topic, "-", n)
	return err
}

func (p pyClient) consume(ctx context.Context, c matrixCreds, topic, group string, n int) ([]string, error) {
	return p.run(ctx, c, "consume", topic, group, n)
}

// tlsFor is the Go clients' TLS config: trust the test CA, and present
// the client certificate on SSL.
func tlsFor(c matrixCreds) (*tls.Config, error) {
	caPEM, err := os.ReadFile(c.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cfg := &tls.Config{RootCAs: pool}
	if c.Cert != "" {
		cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// franzClient is franz-go in process.
type franzClient struct{}

func (franzClient) client(c matrixCreds, opts ...kgo.Opt) (*kgo.Client, error) {
	cfg, err := tlsFor(c)
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.SeedBrokers(c.Bootstrap), kgo.DialTLSConfig(cfg), kgo.RequestRetries(2))
	if c.Protocol == "SASL_SSL" {
		opts = append(opts, kgo.SASL(scram.Auth{User: c.User, Pass: c.Password}.AsSha512Mechanism()))
	}
	return kgo.NewClient(opts...)
}

func (f franzClient) probe(ctx context.Context, c matrixCreds) error {
	cl, err := f.client(c)
	if err != nil {
		return err
	}
	defer cl.Close()
	_, err = kadm.NewClient(cl).ListTopics(ctx)
	return err
}

func (f franzClient) produce(ctx context.Context, c matrixCreds, topic string, n int) error {
	cl, err := f.client(c, kgo.DefaultProduceTopic(topic))
	if err != nil {
		return err
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, kgo.StringRecord(fmt.Sprintf("v%d", i)))
	}
	return cl.ProduceSync(ctx, recs...).FirstErr()
}

func (f franzClient) consume(ctx context.Context, c matrixCreds, topic, group string, n int) ([]string, error) {
	cl, err := f.client(c, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var got []string
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return got, err
		}
		for _, e := range fs.Errors() {
			return got, e.Err
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got, cl.CommitUncommittedOffsets(ctx)
}

// saramaClient is IBM/sarama in process; its SCRAM conversation is
// xdg-go/scram's, as sarama's own example wires it.
type saramaClient struct{}

// sarama's metrics are go-metrics meters, whose arbiter goroutine never
// ends (brokertest.Main's goleak check sees it); the nil metrics start none.
func init() { gometrics.UseNilMetrics = true }

func (saramaClient) config(c matrixCreds) (*sarama.Config, error) {
	tc, err := tlsFor(c)
	if err != nil {
		return nil, err
	}
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.Net.TLS.Enable, cfg.Net.TLS.Config = true, tc
	cfg.Metadata.Retry.Max = 1
	if c.Protocol == "SASL_SSL" {
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
		cfg.Net.SASL.User, cfg.Net.SASL.Password = c.User, c.Password
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &xdgSCRAM{gen: xscram.SHA512} }
	}
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 1
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Return.Errors = true
	return cfg, nil
}

func (s saramaClient) probe(ctx context.Context, c matrixCreds) error {
	cfg, err := s.config(c)
	if err != nil {
		return err
	}
	cl, err := sarama.NewClient([]string{c.Bootstrap}, cfg)
	if err != nil {
		return err
	}
	defer cl.Close()
	_, err = cl.Topics()
	return err
}

func (s saramaClient) produce(ctx context.Context, c matrixCreds, topic string, n int) error {
	cfg, err := s.config(c)
	if err != nil {
		return err
	}
	p, err := sarama.NewSyncProducer([]string{c.Bootstrap}, cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	for i := range n {
		if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(fmt.Sprintf("v%d", i))}); err != nil {
			return err
		}
	}
	return nil
}

func (s saramaClient) consume(ctx context.Context, c matrixCreds, topic, group string, n int) ([]string, error) {
	cfg, err := s.config(c)
	if err != nil {
		return nil, err
	}
	g, err := sarama.NewConsumerGroup([]string{c.Bootstrap}, group, cfg)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	h := &saramaHandler{n: n, done: cancel}
	errc := make(chan error, 1)
	wg.Add(1)
	go func() { // the consumer group's error channel, until ctx ends
		defer wg.Done()
		for {
			select {
			case e := <-g.Errors():
				select {
				case errc <- e:
				default:
				}
				cancel()
			case <-ctx.Done():
				return
			}
		}
	}()
	for ctx.Err() == nil {
		if err := g.Consume(ctx, []string{topic}, h); err != nil {
			return h.values(), err
		}
	}
	select {
	case err := <-errc:
		return h.values(), err
	default:
	}
	if len(h.values()) < n {
		return h.values(), fmt.Errorf("sarama: %d of %d records: %w", len(h.values()), n, ctx.Err())
	}
	return h.values(), nil
}

// saramaHandler collects n records, marks and commits them, then ends
// the session.
type saramaHandler struct {
	n    int
	done func()
	mu   sync.Mutex
	got  []string
}

func (h *saramaHandler) values() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

func (h *saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *saramaHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		sess.MarkMessage(m, "")
		h.mu.Lock()
		h.got = append(h.got, string(m.Value))
		full := len(h.got) >= h.n
		h.mu.Unlock()
		if full {
			sess.Commit()
			h.done()
			return nil
		}
	}
	return nil
}

// xdgSCRAM is sarama's SCRAMClient over xdg-go/scram.
type xdgSCRAM struct {
	gen  xscram.HashGeneratorFcn
	conv *xscram.ClientConversation
}

func (x *xdgSCRAM) Begin(user, pass, authz string) error {
	c, err := x.gen.NewClient(user, pass, authz)
	if err != nil {
		return err
	}
	x.conv = c.NewConversation()
	return nil
}

func (x *xdgSCRAM) Step(challenge string) (string, error) { return x.conv.Step(challenge) }
func (x *xdgSCRAM) Done() bool                            { return x.conv.Done() }

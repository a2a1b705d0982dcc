package e2e

import (
	"bytes"
	"crypto/tls"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/broker/brokertest"
	poll "github.com/weirhq/weir/internal/await"
	"github.com/weirhq/weir/internal/clientconfig"
	"github.com/weirhq/weir/internal/pki"
)

// secureBroker is one broker with ACLs on and four listeners: PLAINTEXT
// (the broker's own, inter-broker; its User:ANONYMOUS is a super user
// here so the test can set up), SASL_SSL (SCRAM), SSL (client
// certificates required) and SASL_PLAINTEXT (PLAIN and SCRAM-SHA-256).
// admin and alice are SCRAM users, made with `weir user` against it.
type secureBroker struct {
	b   *brokertest.Broker
	dir string
	ca  *pki.CA
	bin string
}

func startSecureBroker(t *testing.T) *secureBroker {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.NewCA("e2e CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	must(t, ca.WriteCA(dir))
	bp, err := ca.Broker("broker")
	must(t, err)
	must(t, bp.Write(dir, "broker"))
	cp, err := ca.Client("admin")
	must(t, err)
	must(t, cp.Write(dir, "admin"))
	b := brokertest.Start(t, brokertest.Options{
		Listeners: []string{"SASL_SSL", "SSL", "SASL_PLAINTEXT"},
		Props: map[string]string{
			"ssl.keystore.location":                                filepath.Join(dir, "broker.keystore.pem"),
			"ssl.truststore.location":                              filepath.Join(dir, "ca.pem"),
			"listener.name.ssl.ssl.client.auth":                    "required",
			"listener.name.sasl_plaintext.sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256",
			"authorizer.class.name":                                "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
			"super.users":                                          "User:ANONYMOUS;User:admin;User:CN=admin",
		},
	})
	s := &secureBroker{b: b, dir: dir, ca: ca, bin: brokertest.Binary(t)}
	s.weir(t, "admin-pw\n", "user", "set", "admin", "--password-stdin", "--mechanism", "SCRAM-SHA-512")
	s.weir(t, "alice-pw\n", "user", "set", "alice", "--password-stdin", "--mechanism", "SCRAM-SHA-512,SCRAM-SHA-256")
	return s
}

// weir runs the CLI against the PLAINTEXT listener (or with args' own
// --brokers and --command-config).
func (s *secureBroker) weir(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := s.weirErr(t, stdin, args...)
	if err != nil {
		t.Fatalf("weir %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (s *secureBroker) weirErr(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	if !contains(args, "--brokers") {
		args = append(args, "--brokers", s.b.Addr)
	}
	cmd := exec.CommandContext(testContext(t, 30*time.Second), s.bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// config writes a librdkafka config for listener as user (or, for SSL,
// with the admin's certificate) and returns its path.
func (s *secureBroker) config(t *testing.T, listener, mech, user, pass string) string {
	t.Helper()
	st := clientconfig.Settings{BootstrapServers: []string{s.b.Listeners[listener]}, SecurityProtocol: listener,
		CAFile: filepath.Join(s.dir, "ca.pem"), SASLMechanism: mech, Username: user, Password: pass}
	if listener == "SSL" {
		st.CertFile, st.KeyFile = filepath.Join(s.dir, "admin.pem"), filepath.Join(s.dir, "admin.key")
	}
	text, err := st.Librdkafka()
	must(t, err)
	path := filepath.Join(t.TempDir(), "client.conf")
	must(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func kcatWith(t *testing.T, kcat, conf string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.CommandContext(testContext(t, 20*time.Second), kcat, append([]string{"-F", conf}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// TestSecureClients: kcat over SSL with a client certificate and over
// SASL_SSL with SCRAM-SHA-512, confluent-kafka-python over
// SASL_PLAINTEXT with PLAIN; a wrong password is refused; a principal
// with READ on one topic consumes it, is refused another and does not
// see it; `weir acl` and `weir user` against the live broker; a
// certificate replaced on disk is served on the next handshake.
func TestSecureClients(t *testing.T) {
	t.Parallel()
	kcat := lookTool(t, "kcat")
	s := startSecureBroker(t)
	s.weir(t, "", "topic", "create", "sec-mtls", "--partitions", "1")
	s.weir(t, "", "topic", "create", "sec-scram", "--partitions", "1")
	s.weir(t, "", "topic", "create", "sec-plain", "--partitions", "1")
	s.weir(t, "", "topic", "create", "sec-readable", "--partitions", "1")
	s.weir(t, "", "topic", "create", "sec-secret", "--partitions", "1")

	t.Run("kcat-mtls", func(t *testing.T) {
		t.Parallel()
		conf := s.config(t, "SSL", "", "", "")
		if _, errOut, err := kcatWith(t, kcat, conf, "a\nb\n", "-P", "-t", "sec-mtls"); err != nil {
			t.Fatalf("kcat produce over mTLS: %v\n%s", err, errOut)
		}
		out, errOut, err := kcatWith(t, kcat, conf, "", "-C", "-t", "sec-mtls", "-o", "beginning", "-e")
		if err != nil || out != "a\nb\n" {
			t.Fatalf("kcat consume over mTLS: %q %v\n%s", out, err, errOut)
		}
	})
	t.Run("kcat-scram512", func(t *testing.T) {
		t.Parallel()
		conf := s.config(t, "SASL_SSL", "SCRAM-SHA-512", "admin", "admin-pw")
		if _, errOut, err := kcatWith(t, kcat, conf, "x\ny\n", "-P", "-t", "sec-scram"); err != nil {
			t.Fatalf("kcat produce over SASL_SSL: %v\n%s", err, errOut)
		}
		out, errOut, err := kcatWith(t, kcat, conf, "", "-C", "-t", "sec-scram", "-o", "beginning", "-e")
		if err != nil || out != "x\ny\n" {
			t.Fatalf("kcat consume over SASL_SSL: %q %v\n%s", out, err, errOut)
		}
		bad := s.config(t, "SASL_SSL", "SCRAM-SHA-512", "admin", "wrong")
		_, errOut, err = kcatWith(t, kcat, bad, "", "-L", "-m", "3")
		if err == nil || !strings.Contains(errOut, "Authentication failed") {
			t.Fatalf("a wrong password: %v\n%s", err, errOut)
		}
	})
	t.Run("python-plain", func(t *testing.T) {
		t.Parallel()
		py := pythonWith(t, "confluent_kafka")
		// alice may write and read sec-plain, with groups named py-*.
		s.weir(t, "", "acl", "create", "ALLOW User:alice * WRITE TOPIC:LITERAL:sec-plain")
		s.weir(t, "", "acl", "create", "ALLOW User:alice * READ TOPIC:LITERAL:sec-plain")
		s.weir(t, "", "acl", "create", "ALLOW User:alice * READ GROUP:PREFIXED:py-")
		script := `
import sys
from confluent_kafka import Producer, Consumer, TopicPartition
conf = {"bootstrap.servers": sys.argv[1], "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanisms": "PLAIN", "sasl.username": "alice", "sasl.password": sys.argv[2]}
if sys.argv[2] == "wrong":
    from confluent_kafka.admin import AdminClient
    try:
        AdminClient(conf).list_topics(timeout=5)
        print("listed")
    except Exception as e:
        print("refused", e)
    sys.exit(0)
p = Producer(dict(conf, **{"acks": "all", "enable.idempotence": False}))
errs = []
p.produce("sec-plain", b"hi", on_delivery=lambda err, msg: errs.append(err))
p.flush(10)
c = Consumer(dict(conf, **{"group.id": "py-plain", "enable.auto.commit": False}))
c.assign([TopicPartition("sec-plain", 0, 0)])
m = c.poll(10)
print(errs, m.value() if m and not m.error() else m and m.error())
c.close()
`
		out, err := exec.CommandContext(testContext(t, 30*time.Second), py, "-c", script, s.b.Listeners["SASL_PLAINTEXT"], "alice-pw").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "[None] b'hi'") {
			t.Fatalf("confluent-kafka over SASL_PLAINTEXT/PLAIN: %v\n%s", err, out)
		}
		out, err = exec.CommandContext(testContext(t, 30*time.Second), py, "-c", script, s.b.Listeners["SASL_PLAINTEXT"], "wrong").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "refused") {
			t.Fatalf("confluent-kafka with a wrong password: %v\n%s", err, out)
		}
	})
	t.Run("acls", func(t *testing.T) {
		t.Parallel()
		// alice may read sec-readable.
		s.weir(t, "", "acl", "create", "ALLOW User:alice * READ TOPIC:LITERAL:sec-readable")
		if out := s.weir(t, "", "acl", "list", "ANY User:alice null ANY ANY:ANY:null"); !strings.Contains(out, "ALLOW User:alice * READ TOPIC:LITERAL:sec-readable") {
			t.Fatalf("weir acl list: %q", out)
		}
		if out := s.weir(t, "", "user", "list", "alice"); !strings.Contains(out, "SCRAM-SHA-256") || !strings.Contains(out, "SCRAM-SHA-512") {
			t.Fatalf("weir user list: %q", out)
		}
		admin := s.config(t, "SASL_SSL", "SCRAM-SHA-512", "admin", "admin-pw")
		for _, topic := range []string{"sec-readable", "sec-secret"} {
			if _, errOut, err := kcatWith(t, kcat, admin, topic+"\n", "-P", "-t", topic); err != nil {
				t.Fatalf("admin producing to %s: %v\n%s", topic, err, errOut)
			}
		}
		alice := s.config(t, "SASL_SSL", "SCRAM-SHA-512", "alice", "alice-pw")
		out, errOut, err := kcatWith(t, kcat, alice, "", "-C", "-t", "sec-readable", "-o", "beginning", "-e")
		if err != nil || out != "sec-readable\n" {
			t.Fatalf("alice consuming sec-readable: %q %v\n%s", out, err, errOut)
		}
		_, errOut, err = kcatWith(t, kcat, alice, "", "-C", "-t", "sec-secret", "-o", "beginning", "-e")
		if err == nil || !strings.Contains(strings.ToLower(errOut), "authorization failed") {
			t.Fatalf("alice consuming sec-secret: %v\n%s", err, errOut)
		}
		out, errOut, err = kcatWith(t, kcat, alice, "", "-L")
		if err != nil || strings.Contains(out, "sec-secret") || !strings.Contains(out, "sec-readable") {
			t.Fatalf("alice's metadata: %v\n%s\n%s", err, out, errOut)
		}
	})
	t.Run("certificate-reload", func(t *testing.T) {
		t.Parallel()
		served := func() string {
			c, err := tls.Dial("tcp", s.b.Listeners["SASL_SSL"], &tls.Config{RootCAs: s.ca.Pool(), ServerName: "localhost"})
			if err != nil {
				return err.Error()
			}
			defer c.Close()
			return c.ConnectionState().PeerCertificates[0].Subject.CommonName
		}
		if got := served(); got != "broker" {
			t.Fatalf("served %q before the rotation", got)
		}
		np, err := s.ca.Broker("broker-rotated")
		must(t, err)
		tmp := filepath.Join(s.dir, "rotated.keystore.tmp")
		must(t, os.WriteFile(tmp, np.PEM(), 0o600))
		must(t, os.Rename(tmp, filepath.Join(s.dir, "broker.keystore.pem")))
		poll.True(t, 10*time.Second, "the new certificate served", func() bool { return served() == "broker-rotated" })
	})
}

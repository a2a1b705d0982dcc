package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/internal/atomicfile"
	"github.com/weirhq/weir/internal/atrest"
	"github.com/weirhq/weir/internal/clientconfig"
	"github.com/weirhq/weir/internal/httpauth"
	"github.com/weirhq/weir/internal/kafkaclient"
	"github.com/weirhq/weir/internal/pki"
	"github.com/weirhq/weir/internal/vfs"
)

// A secure cluster (weir up --secure, docs/SECURITY.md):
//
//   - Clients connect to the Kafka ports on the CLIENTS listener,
//     SASL_SSL with SCRAM-SHA-512 (or -256); the admin user "admin" is
//     made by weir up once the brokers are ready, its password kept in
//     <dir>/admin.password (0600).
//   - Brokers reach each other (replication, the controller's requests,
//     the raft stream) on the BROKER listener, SSL with client
//     certificates required. Every broker's certificate has the subject
//     CN=weir-broker,O=Weir brokers, a super user, so a broker added by
//     the control plane is trusted without restarting the others.
//   - weir up's own Kafka clients (readiness probes, the control plane,
//     the admin user's creation) use the BROKER listener too, with the
//     CN=weir-admin client certificate (a super user): they work before
//     any SCRAM credential exists, as Kafka's `kafka-storage format
//     --add-scram` bootstrap lets a KRaft cluster's first admin in.
//   - ACLs are on, allow.everyone.if.no.acl.found=false: only the super
//     users (the brokers, CN=weir-admin, admin) may do anything until
//     ACLs say otherwise.
//   - The agents and the collector connect as admin over SASL_SSL with
//     <dir>/client.properties; the control plane's, the collector's and
//     the autoscaler's HTTP APIs ask for the bearer token in
//     <dir>/api.token (internal/httpauth), /metrics and /healthz open.

const (
	clientsListener = "CLIENTS"
	brokerListener  = "BROKER"
	// DefaultBrokerBasePort is broker 1's inter-broker port on a secure
	// cluster.
	DefaultBrokerBasePort = 9192
	// AdminUser is the SCRAM super user weir up --secure makes.
	AdminUser = "admin"
	// brokerCN and adminCN are the certificates' common names.
	brokerCN       = "weir-broker"
	adminCN        = "weir-admin"
	adminMechanism = "SCRAM-SHA-512"
	authorizer     = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
)

// SuperUsers is the secure cluster's super.users: the brokers'
// certificate, weir up's certificate and the admin SCRAM user.
func SuperUsers() string {
	return "User:CN=" + brokerCN + ",O=Weir brokers;User:CN=" + adminCN + ";User:" + AdminUser
}

// secureProps are broker b's security keys on a secure cluster
// (listeners are set by BrokerProps).
func (s Spec) secureProps(l Layout, b BrokerSpec) []Prop {
	return []Prop{
		{"listener.security.protocol.map", clientsListener + ":SASL_SSL," + brokerListener + ":SSL"},
		{"inter.broker.listener.name", brokerListener},
		{"ssl.keystore.location", l.BrokerKeystore(b.ID)},
		{"ssl.truststore.location", l.CAFile()},
		{"listener.name." + strings.ToLower(brokerListener) + ".ssl.client.auth", "required"},
		{"sasl.enabled.mechanisms", "SCRAM-SHA-512,SCRAM-SHA-256"},
		{"authorizer.class.name", authorizer},
		{"allow.everyone.if.no.acl.found", "false"},
		{"super.users", SuperUsers()},
	}
}

// InterBrokerBootstrap is every broker's inter-broker address (the Kafka
// ones on a cluster that is not secure).
func (s Spec) InterBrokerBootstrap() []string {
	addrs := make([]string, len(s.Brokers))
	for i, b := range s.Brokers {
		addrs[i] = b.InterBroker(s.Host)
	}
	return addrs
}

// security is what prepareSecurity made: the at-rest report, for
// endpoints.json and the summary.
type security struct {
	atRest atrest.Report
	err    error // the at-rest check's failure, reported as unknown
}

// prepareSecurity makes (or keeps, on a restart) the CA, weir up's client
// certificate, the admin password, the API token and the client configs,
// and checks whether the cluster directory is encrypted at rest: it
// reports the answer and never refuses.
func prepareSecurity(l Layout, s Spec, logger *log.Logger) (*security, error) {
	if err := os.MkdirAll(l.TLSDir(), 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", l.TLSDir(), err)
	}
	ca, err := loadOrCreateCA(l)
	if err != nil {
		return nil, err
	}
	if err := ensurePair(l, adminCN, func() (*pki.Pair, error) { return ca.Client(adminCN) }); err != nil {
		return nil, err
	}
	password, err := loadOrCreateSecret(l.AdminPasswordPath())
	if err != nil {
		return nil, fmt.Errorf("the admin password: %w", err)
	}
	if _, err := httpauth.LoadOrCreateToken(l.TokenPath()); err != nil {
		return nil, err
	}
	if err := writeClientConfigs(l, s, password); err != nil {
		return nil, err
	}
	sec := &security{}
	sec.atRest, sec.err = atrest.Check(l.Dir)
	if sec.err != nil {
		logger.Printf("encryption at rest of %s: unknown (%v)", l.Dir, sec.err)
	} else {
		logger.Printf("encryption at rest: %s", sec.atRest)
	}
	return sec, nil
}

// loadOrCreateCA reads the cluster's CA, or makes one.
func loadOrCreateCA(l Layout) (*pki.CA, error) {
	certPEM, err := os.ReadFile(l.CAFile())
	if errors.Is(err, fs.ErrNotExist) {
		ca, err := pki.NewCA("Weir local CA "+filepath.Base(l.Dir), 0)
		if err != nil {
			return nil, err
		}
		return ca, ca.WriteCA(l.TLSDir())
	}
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's CA: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(l.TLSDir(), "ca.key"))
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's CA key: %w", err)
	}
	return pki.LoadCA(certPEM, keyPEM)
}

// ensurePair issues name's certificate unless its keystore exists.
func ensurePair(l Layout, name string, issue func() (*pki.Pair, error)) error {
	if _, err := os.Stat(filepath.Join(l.TLSDir(), name+".keystore.pem")); err == nil {
		return nil
	}
	p, err := issue()
	if err != nil {
		return err
	}
	return p.Write(l.TLSDir(), name)
}

// ensureBrokerCert issues broker id's certificate (SANs: localhost, the
// loopback addresses and the spec's host) unless it exists.
func ensureBrokerCert(l Layout, s Spec, id int) error {
	ca, err := loadOrCreateCA(l)
	if err != nil {
		return err
	}
	return ensurePair(l, fmt.Sprintf("broker-%d", id), func() (*pki.Pair, error) { return ca.Broker(brokerCN, s.Host) })
}

// loadOrCreateSecret reads a secret file, or writes a new random one
// (0600).
func loadOrCreateSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	buf := make([]byte, 18)
	rand.Read(buf)
	secret := hex.EncodeToString(buf)
	return secret, atomicfile.WritePrivate(vfs.Default, path, []byte(secret+"\n"))
}

// writeClientConfigs writes the admin's client configs beside
// endpoints.json (0600: they hold the password): Java properties and
// librdkafka's for SASL_SSL on the Kafka ports, and Java properties for
// mutual TLS with weir up's certificate on the inter-broker ports.
func writeClientConfigs(l Layout, s Spec, password string) error {
	sasl := clientconfig.Settings{BootstrapServers: strings.Split(s.Bootstrap(), ","), SecurityProtocol: "SASL_SSL",
		CAFile: l.CAFile(), SASLMechanism: adminMechanism, Username: AdminUser, Password: password}
	mtls := clientconfig.Settings{BootstrapServers: s.InterBrokerBootstrap(), SecurityProtocol: "SSL", CAFile: l.CAFile(),
		CertFile: filepath.Join(l.TLSDir(), adminCN+".pem"), KeyFile: filepath.Join(l.TLSDir(), adminCN+".key"),
		KeystoreFile: filepath.Join(l.TLSDir(), adminCN+".keystore.pem")}
	for _, f := range []struct {
		path   string
		render func() (string, error)
	}{
		{l.ClientProperties(), sasl.Java},
		{l.ClientLibrdkafka(), sasl.Librdkafka},
		{l.ClientMTLSProperties(), mtls.Java},
	} {
		text, err := f.render()
		if err != nil {
			return fmt.Errorf("rendering %s: %w", f.path, err)
		}
		if err := atomicfile.WritePrivate(vfs.Default, f.path, []byte(text)); err != nil {
			return fmt.Errorf("writing %s: %w", f.path, err)
		}
	}
	return nil
}

// KafkaOpts are the options of weir up's own Kafka clients: none on a
// cluster that is not secure; mutual TLS with weir up's certificate on a
// secure one (to be used with InterBrokerBootstrap).
func (s Spec) KafkaOpts(l Layout) ([]kgo.Opt, error) {
	if !s.Secure {
		return nil, nil
	}
	return kafkaclient.Load(l.ClientMTLSProperties())
}

// ensureAdminUser upserts the admin SCRAM-SHA-512 credential with the
// password in the cluster directory, over mutual TLS as weir up's super
// user certificate. Upserting an unchanged password again is harmless,
// so every start does it.
func ensureAdminUser(ctx context.Context, l Layout, s Spec) error {
	password, err := loadOrCreateSecret(l.AdminPasswordPath())
	if err != nil {
		return err
	}
	opts, err := s.KafkaOpts(l)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers(s.InterBrokerBootstrap()...), kgo.ClientID("weir-up"))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	rs, err := kadm.NewClient(cl).AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
		{User: AdminUser, Mechanism: kadm.ScramSha512, Iterations: 8192, Password: password}})
	if err == nil {
		err = rs.Error()
	}
	if err != nil {
		return fmt.Errorf("creating the admin user %s: %w", AdminUser, err)
	}
	return nil
}

// apiTransport sends the cluster's API token to hosts (a secure
// cluster's control plane sends it to the collector); nil on a cluster
// that is not secure.
func apiTransport(l Layout, s Spec, hosts ...string) (http.RoundTripper, error) {
	if !s.Secure {
		return nil, nil
	}
	tok, err := httpauth.ReadToken(l.TokenPath())
	if err != nil {
		return nil, err
	}
	return httpauth.Transport(tok, hosts, nil), nil
}

// guard puts the API behind the cluster's token on a secure cluster;
// /metrics and /healthz stay open for Prometheus and probes.
func guard(l Layout, s Spec, h http.Handler) (http.Handler, error) {
	if !s.Secure {
		return h, nil
	}
	tok, err := httpauth.ReadToken(l.TokenPath())
	if err != nil {
		return nil, err
	}
	return httpauth.Middleware(httpauth.Config{Token: tok, Open: []string{"/metrics", "/healthz"}}, h), nil
}

// SecurityEndpoint is a secure cluster's part of endpoints.json.
type SecurityEndpoint struct {
	// Protocol is the clients' security protocol on the Kafka ports.
	Protocol  string `json:"protocol"`
	Mechanism string `json:"sasl_mechanism"`
	AdminUser string `json:"admin_user"`
	// AdminPassword is the file holding the admin's password (0600).
	AdminPassword string `json:"admin_password_file"`
	CA            string `json:"ca"`
	// ClientProperties (Java; --command-config) and ClientLibrdkafka
	// (kcat -F, confluent-kafka) connect as the admin over SASL_SSL;
	// ClientMTLS connects with weir up's certificate to the inter-broker
	// listener.
	ClientProperties string `json:"client_properties"`
	ClientLibrdkafka string `json:"client_librdkafka"`
	ClientMTLS       string `json:"client_mtls_properties"`
	// APIToken is the bearer token file the HTTP APIs ask for.
	APIToken string `json:"api_token_file"`
	// AtRest is whether the cluster directory is on an encrypted
	// filesystem (encrypted, not encrypted, unknown) and AtRestDetail why.
	AtRest       string `json:"at_rest"`
	AtRestDetail string `json:"at_rest_detail"`
}

// securityEndpoint describes a secure cluster's files; nil otherwise.
func securityEndpoint(l Layout, s Spec, sec *security) *SecurityEndpoint {
	if !s.Secure {
		return nil
	}
	e := &SecurityEndpoint{Protocol: "SASL_SSL", Mechanism: adminMechanism, AdminUser: AdminUser,
		AdminPassword: l.AdminPasswordPath(), CA: l.CAFile(), ClientProperties: l.ClientProperties(),
		ClientLibrdkafka: l.ClientLibrdkafka(), ClientMTLS: l.ClientMTLSProperties(), APIToken: l.TokenPath(),
		AtRest: string(atrest.Unknown)}
	switch {
	case sec == nil:
	case sec.err != nil:
		e.AtRestDetail = sec.err.Error()
	default:
		e.AtRest, e.AtRestDetail = string(sec.atRest.Status), sec.atRest.String()
	}
	return e
}

// adminUserTimeout bounds creating the admin user once the brokers are
// ready.
const adminUserTimeout = 30 * time.Second

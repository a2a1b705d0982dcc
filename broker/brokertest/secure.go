package brokertest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/internal/kafkaclient"
	"github.com/weirhq/weir/internal/pki"
	"github.com/weirhq/weir/internal/readiness"
)

// A secure cluster is configured the way cluster/secure.go configures
// `weir up --secure` (docs/SECURITY.md), without importing it (nothing
// under broker/ imports cluster):
//
//   - CLIENTS, SASL_SSL with SCRAM-SHA-512 (or -256): the clients'
//     listener, Broker.ClientAddr.
//   - BROKER, SSL with client certificates required: replication, the
//     controller's requests and the raft stream (the quorum voters are
//     these addresses). It is Broker.Addr, so the readiness probe and
//     Broker.Client use it with the admin certificate, as weir up's own
//     clients do.
//   - ACLs on, allow.everyone.if.no.acl.found=false; the super users are
//     the brokers' certificate subject, the admin certificate's and the
//     admin SCRAM user, made once the brokers are ready.
const (
	clientsListener = "CLIENTS"
	brokerListener  = "BROKER"
	// SecureAdminUser is the SCRAM super user StartSecureCluster makes.
	SecureAdminUser = "admin"
	brokerCN        = "weir-broker"
	adminCN         = "weir-admin"
)

// Security is a secure cluster's CA, certificates and admin credentials.
type Security struct {
	Dir           string // ca.pem, broker.{pem,key,keystore.pem}, weir-admin.{pem,key}
	AdminPassword string // SecureAdminUser's SCRAM password
}

// CAFile is the CA certificate clients trust.
func (s *Security) CAFile() string { return filepath.Join(s.Dir, "ca.pem") }

// ClientOpts are the kgo options of a SASL_SSL client authenticated as
// SecureAdminUser with SCRAM-SHA-512, built by internal/kafkaclient from
// the client config keys a user would write.
func (s *Security) ClientOpts(t testing.TB) []kgo.Opt {
	t.Helper()
	return s.opts(t, map[string]string{
		"security.protocol":       "SASL_SSL",
		"sasl.mechanism":          "SCRAM-SHA-512",
		"sasl.username":           SecureAdminUser,
		"sasl.password":           s.AdminPassword,
		"ssl.truststore.location": s.CAFile(),
	})
}

// CertOpts are the kgo options of an SSL client with the admin
// certificate (User:CN=weir-admin, a super user), for the BROKER
// listener.
func (s *Security) CertOpts(t testing.TB) []kgo.Opt {
	t.Helper()
	return s.opts(t, map[string]string{
		"security.protocol":                     "SSL",
		"ssl.truststore.location":               s.CAFile(),
		"ssl.keystore.location":                 filepath.Join(s.Dir, adminCN+".keystore.pem"),
		"ssl.endpoint.identification.algorithm": "https",
	})
}

func (s *Security) opts(t testing.TB, props map[string]string) []kgo.Opt {
	t.Helper()
	opts, err := kafkaclient.Options(props)
	if err != nil {
		t.Fatalf("brokertest: client options %v: %v", props["security.protocol"], err)
	}
	return opts
}

// superUsers is the secure cluster's super.users.
func superUsers() string {
	return "User:CN=" + brokerCN + ",O=Weir brokers;User:CN=" + adminCN + ";User:" + SecureAdminUser
}

// props are broker b's security keys (b.Addr is its BROKER listener).
func (s *Security) props(b *Broker) map[string]string {
	return map[string]string{
		"listeners":                            clientsListener + "://" + b.ClientAddr() + "," + brokerListener + "://" + b.Addr,
		"listener.security.protocol.map":       clientsListener + ":SASL_SSL," + brokerListener + ":SSL",
		"inter.broker.listener.name":           brokerListener,
		"ssl.keystore.location":                filepath.Join(s.Dir, "broker.keystore.pem"),
		"ssl.truststore.location":              s.CAFile(),
		"listener.name.broker.ssl.client.auth": "required",
		"sasl.enabled.mechanisms":              "SCRAM-SHA-512,SCRAM-SHA-256",
		"authorizer.class.name":                "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		"allow.everyone.if.no.acl.found":       "false",
		"super.users":                          superUsers(),
	}
}

// newSecurity makes the CA, the brokers' certificate (one for all, as
// weir up's brokers share a subject) and the admin client certificate.
func newSecurity(t testing.TB) *Security {
	t.Helper()
	s := &Security{Dir: t.TempDir(), AdminPassword: "admin-secret"}
	ca, err := pki.NewCA("brokertest CA", 0)
	if err == nil {
		err = ca.WriteCA(s.Dir)
	}
	var bp, ap *pki.Pair
	if err == nil {
		bp, err = ca.Broker(brokerCN)
	}
	if err == nil {
		err = bp.Write(s.Dir, "broker")
	}
	if err == nil {
		ap, err = ca.Client(adminCN)
	}
	if err == nil {
		err = ap.Write(s.Dir, adminCN)
	}
	if err != nil {
		t.Fatalf("brokertest: making the secure cluster's certificates: %v", err)
	}
	return s
}

// StartSecureCluster starts n brokers as one secure cluster (the layout
// above) with StartCluster's defaults and opts.Props over them, makes
// the admin SCRAM user through the BROKER listener with the admin
// certificate, and waits until every broker accepts it on CLIENTS.
// opts.Listeners is not supported here.
func StartSecureCluster(t testing.TB, n int, opts Options) *Cluster {
	t.Helper()
	if len(opts.Listeners) > 0 {
		t.Fatalf("brokertest: StartSecureCluster has its own listeners (CLIENTS, BROKER); Options.Listeners %v", opts.Listeners)
	}
	bin := Binary(t)
	c := &Cluster{Secure: newSecurity(t)}
	certOpts := c.Secure.CertOpts(t)
	for i := 1; i <= n; i++ {
		root := t.TempDir()
		c.add(t, &Broker{
			DataDir: filepath.Join(root, "data"), ConfigPath: filepath.Join(root, "server.properties"),
			t: t, binary: bin, env: opts.Env, logs: &logBuffer{},
			Addr: freeAddr(t), AdminAddr: freeAddr(t),
			Listeners: map[string]string{clientsListener: freeAddr(t)},
			opts:      certOpts,
		})
	}
	c.configure(t, opts)
	c.start(t)
	c.makeAdminUser(t)
	return c
}

// ClientAddr is the address clients connect to: the Kafka listener, or
// on a secure cluster the SASL_SSL one.
func (b *Broker) ClientAddr() string {
	if a, ok := b.Listeners[clientsListener]; ok {
		return a
	}
	return b.Addr
}

// makeAdminUser upserts the admin SCRAM credential and waits until
// every broker has it (SCRAM credentials travel in the metadata log).
func (c *Cluster) makeAdminUser(t testing.TB) {
	t.Helper()
	adm := kadm.NewClient(c.Brokers[0].Client(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{
		User: SecureAdminUser, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: c.Secure.AdminPassword,
	}})
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		t.Fatalf("brokertest: making the admin SCRAM user: %v", err)
	}
	sasl := c.Secure.ClientOpts(t)
	for _, b := range c.Brokers {
		if err := awaitSASL(ctx, b.ClientAddr(), sasl); err != nil {
			t.Fatalf("brokertest: broker %d does not accept %s over SASL_SSL: %v", b.NodeID, SecureAdminUser, err)
		}
	}
}

// awaitSASL polls addr with the SASL client until it answers.
func awaitSASL(ctx context.Context, addr string, opts []kgo.Opt) error {
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := readiness.Broker(pctx, addr, "", opts...)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(pollInterval):
		}
	}
}

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// TestSecureClusterFailoverLosesNoAckedRecord is issue 12's last proof:
// the chaos test's core (runFailover: kill -9 of partition leaders and
// the controller under an idempotent acks=all producer, then every acked
// record present once, at its offset, in order) on a secure cluster laid
// out as `weir up --secure` lays it out (brokertest.StartSecureCluster):
// the producer, the consumers and the admin client speak SASL_SSL with
// SCRAM-SHA-512, the brokers replicate and run the raft quorum over SSL
// with client certificates, and ACLs are on. Short enough for make test.
func TestSecureClusterFailoverLosesNoAckedRecord(t *testing.T) {
	t.Parallel()
	c := brokertest.StartSecureCluster(t, 3, brokertest.Options{})
	checkClusterIsSecure(t, c)
	start := time.Now()
	res := runFailover(t, c, failoverPlan{Victims: []string{"leader", "controller", "leader"}, PerRound: 1000, AfterKill: 200, Final: 500})
	t.Logf("secure cluster: %d kills, %d records acknowledged, %d stored, lost %d, duplicated %d, reordered %d, moved %d, in %v",
		res.Kills, res.Tally.Acked, res.Tally.Stored, res.Tally.Lost, res.Tally.Duplicated, res.Tally.Reordered, res.Tally.Moved,
		time.Since(start).Round(100*time.Millisecond))
}

// checkClusterIsSecure shows the chaos runs on what it claims: a wrong
// SCRAM password is refused on the clients' listener, and the brokers'
// listener refuses a TLS client without a certificate, and a SCRAM user
// with no ACLs may not produce.
func checkClusterIsSecure(t *testing.T, c *brokertest.Cluster) {
	t.Helper()
	pem, err := os.ReadFile(c.Secure.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Not c.Client: kgo.SASL adds a mechanism to the admin's, it does not
	// replace it.
	wrong, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...), kgo.DialTLSConfig(&tls.Config{RootCAs: pool}),
		kgo.SASL(scram.Auth{User: brokertest.SecureAdminUser, Pass: "wrong"}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	if err := wrong.Ping(ctx); err == nil {
		t.Errorf("a wrong SCRAM password was let in on %v", c.Bootstrap())
	}
	checkACLsAreOn(t, c, pool)
	noCert, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers[0].Addr), kgo.DialTLSConfig(&tls.Config{RootCAs: pool}))
	if err != nil {
		t.Fatal(err)
	}
	defer noCert.Close()
	if err := noCert.Ping(ctx); err == nil {
		t.Errorf("the brokers' SSL listener %s let in a client without a certificate", c.Brokers[0].Addr)
	}
}

// checkACLsAreOn makes the SCRAM user nobody and waits until its produce
// is refused TOPIC_AUTHORIZATION_FAILED (until the credential reaches
// every broker it may be refused at authentication instead).
func checkACLsAreOn(t *testing.T, c *brokertest.Cluster, pool *x509.CertPool) {
	t.Helper()
	res, err := clusterAdmin(t, c).AlterUserSCRAMs(context.Background(), nil, []kadm.UpsertSCRAM{{
		User: "nobody", Mechanism: kadm.ScramSha512, Iterations: 4096, Password: "nobody-pw"}})
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		t.Fatalf("making the SCRAM user nobody: %v", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...), kgo.DialTLSConfig(&tls.Config{RootCAs: pool}),
		kgo.SASL(scram.Auth{User: "nobody", Pass: "nobody-pw"}.AsSha512Mechanism()),
		kgo.DefaultProduceTopic("no-acl"), kgo.RecordRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	await.For(t, 30*time.Second, "nobody's produce to be refused TOPIC_AUTHORIZATION_FAILED", func() error {
		err := cl.ProduceSync(testContext(t, 5*time.Second), &kgo.Record{Value: []byte("x")}).FirstErr()
		if errors.Is(err, kerr.TopicAuthorizationFailed) {
			return nil
		}
		return fmt.Errorf("produce answered %v", err)
	})
}

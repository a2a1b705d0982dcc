package main

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/weirhq/weir/internal/clientconfig"
	"github.com/weirhq/weir/internal/pki"
)

// secureCluster starts kfake on SASL_SSL (SCRAM-SHA-512 superuser admin)
// with ACLs on, and writes the admin's client config the way weir up
// --secure will.
func secureCluster(t *testing.T) (brokers, config string, dir string) {
	t.Helper()
	dir = t.TempDir()
	ca, err := pki.NewCA("test CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteCA(dir); err != nil {
		t.Fatal(err)
	}
	bp, _ := ca.Broker("kfake")
	bc, _ := bp.TLSCertificate()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser("SCRAM-SHA-512", "admin", "admin-pw"),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{bc}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	brokers = strings.Join(c.ListenAddrs(), ",")
	props, err := clientconfig.Settings{BootstrapServers: c.ListenAddrs(), SecurityProtocol: "SASL_SSL",
		CAFile: filepath.Join(dir, "ca.pem"), SASLMechanism: "SCRAM-SHA-512", Username: "admin", Password: "admin-pw"}.Java()
	if err != nil {
		t.Fatal(err)
	}
	config = filepath.Join(dir, "admin.properties")
	if err := os.WriteFile(config, []byte(props), 0o600); err != nil {
		t.Fatal(err)
	}
	return brokers, config, dir
}

// TestUserAndACLCommands manages SCRAM users and ACLs over SASL_SSL with
// --command-config, then checks that the new user can log in and is
// held to its ACLs.
func TestUserAndACLCommands(t *testing.T) {
	brokers, admin, dir := secureCluster(t)
	cc := func(args ...string) []string { return append(args, "--command-config", admin) }

	// 4096 iterations: kfake's SCRAM server always announces 4096, whatever
	// the credential was made with.
	r := mustWeir(t, brokers, "bob-pw\n", cc("user", "set", "bob", "--password-stdin", "--iterations", "4096")...)
	if r.stdout != "set user bob\n" {
		t.Fatalf("user set: %q", r.stdout)
	}
	r = mustWeir(t, brokers, "", cc("user", "list", "bob")...)
	if !strings.Contains(r.stdout, "bob\tSCRAM-SHA-512 (4096 iterations)") {
		t.Fatalf("user list: %q", r.stdout)
	}
	if r := weir(t, brokers, "", cc("user", "set", "weak", "--password", "x", "--iterations", "100")...); r.code == 0 {
		t.Fatalf("100 iterations accepted: %+v", r)
	}

	mustWeir(t, brokers, "", cc("topic", "create", "orders", "--partitions", "1")...)
	r = mustWeir(t, brokers, "", cc("acl", "create", "ALLOW User:bob * DESCRIBE TOPIC:LITERAL:orders")...)
	if !strings.Contains(r.stdout, "created ALLOW User:bob * DESCRIBE TOPIC:LITERAL:orders") {
		t.Fatalf("acl create: %q", r.stdout)
	}
	r = mustWeir(t, brokers, "", cc("acl", "list", "ANY User:bob null ANY ANY:ANY:null")...)
	if r.stdout != "ALLOW User:bob * DESCRIBE TOPIC:LITERAL:orders\n" {
		t.Fatalf("acl list: %q", r.stdout)
	}
	if r := weir(t, brokers, "", cc("acl", "create", "ALLOW User:bob * READ TOPIC:MATCH:orders")...); r.code == 0 ||
		!strings.Contains(r.stderr, "INVALID_REQUEST") {
		t.Fatalf("a MATCH binding: %+v", r)
	}

	// bob logs in with his own config and sees only what his ACL allows.
	bobProps, _ := clientconfig.Settings{BootstrapServers: strings.Split(brokers, ","), SecurityProtocol: "SASL_SSL",
		CAFile: filepath.Join(dir, "ca.pem"), SASLMechanism: "SCRAM-SHA-512", Username: "bob", Password: "bob-pw"}.Java()
	bob := filepath.Join(dir, "bob.properties")
	os.WriteFile(bob, []byte(bobProps), 0o600)
	r = mustWeir(t, brokers, "", "topic", "list", "--command-config", bob)
	if !strings.Contains(r.stdout, "orders") {
		t.Fatalf("bob's topic list: %q", r.stdout)
	}
	if r := weir(t, brokers, "", "topic", "create", "mine", "--command-config", bob); r.code == 0 {
		t.Fatalf("bob created a topic without CREATE: %+v", r)
	}
	// A wrong password does not get in.
	os.WriteFile(bob, []byte(strings.Replace(bobProps, "bob-pw", "nope", 1)), 0o600)
	if r := weir(t, brokers, "", "topic", "list", "--command-config", bob, "--timeout", "5s"); r.code == 0 {
		t.Fatalf("a wrong password got in: %+v", r)
	}

	r = mustWeir(t, brokers, "", cc("acl", "delete", "ANY User:bob null ANY ANY:ANY:null")...)
	if r.stdout != "deleted ALLOW User:bob * DESCRIBE TOPIC:LITERAL:orders\n" {
		t.Fatalf("acl delete: %q", r.stdout)
	}
	r = mustWeir(t, brokers, "", cc("user", "delete", "bob")...)
	if r.stdout != "deleted user bob\n" {
		t.Fatalf("user delete: %q", r.stdout)
	}
	if r := weir(t, brokers, "", cc("user", "list", "bob")...); r.code == 0 || !strings.Contains(r.stderr, "RESOURCE_NOT_FOUND") {
		t.Fatalf("listing a deleted user: %+v", r)
	}
}

func TestCommandConfigErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "c.properties")
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	for _, bad := range []string{
		"security.protocol=KERBEROS\n",
		"security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n",
		"security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\nsasl.username=a\nsasl.password=b\n",
		"security.protocol=SSL\nssl.truststore.type=JKS\nssl.truststore.location=/x.jks\n",
	} {
		r := weir(t, "127.0.0.1:1", "", "topic", "list", "--command-config", write(bad))
		if r.code == 0 || !strings.Contains(r.stderr, "--command-config") {
			t.Errorf("%q: %+v", bad, r)
		}
	}
	props, err := readProperties(write("# c\n! c\na = 1\nb:2\nc=x\\\n  y\nsasl.jaas.config=m required username=\"u\" password=\"p\";\n"))
	if err != nil || props["a"] != "1" || props["b"] != "2" || props["c"] != "xy" {
		t.Fatalf("%v %v", props, err)
	}
}

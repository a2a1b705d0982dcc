package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBrokerAndClientChains(t *testing.T) {
	ca, err := NewCA("weir test CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	broker, err := ca.Broker("broker-1", "kafka-1.internal", "10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Client("alice")
	if err != nil {
		t.Fatal(err)
	}
	// The broker certificate verifies for every local name and the given
	// hosts, for server and client use (replication).
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "kafka-1.internal", "10.1.2.3"} {
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if _, err := broker.Cert.Verify(x509.VerifyOptions{DNSName: host, Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
				t.Errorf("broker for %s (%v): %v", host, usage, err)
			}
		}
	}
	if _, err := broker.Cert.Verify(x509.VerifyOptions{DNSName: "evil.example", Roots: ca.Pool()}); err == nil {
		t.Error("broker certificate verified for a host not in its SANs")
	}
	// The client certificate is for client use only, subject CN=alice.
	if _, err := client.Cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client: %v", err)
	}
	if _, err := client.Cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("client certificate verified for server use")
	}
	if client.Cert.Subject.String() != "CN=alice" {
		t.Errorf("client subject %q", client.Cert.Subject)
	}
	// Another CA's certificates do not verify.
	other, _ := NewCA("other", 0)
	if _, err := broker.Cert.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: other.Pool()}); err == nil {
		t.Error("verified against another CA")
	}
	// The chain PEM holds the leaf then the CA; the key is PKCS#8.
	var blocks []string
	for rest := broker.CertPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		blocks = append(blocks, b.Type)
	}
	if len(blocks) != 2 {
		t.Errorf("chain has %d certificates", len(blocks))
	}
	if b, _ := pem.Decode(broker.KeyPEM); b == nil || b.Type != "PRIVATE KEY" {
		t.Errorf("key block %v", b)
	}
	if _, err := broker.TLSCertificate(); err != nil {
		t.Error(err)
	}
}

func TestHandshakeWithIssuedCerts(t *testing.T) {
	ca, _ := NewCA("weir test CA", 0)
	broker, _ := ca.Broker("broker-1")
	client, _ := ca.Client("alice")
	bc, _ := broker.TLSCertificate()
	cc, _ := client.TLSCertificate()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{bc},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			got <- err.Error()
			return
		}
		got <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost",
		Certificates: []tls.Certificate{cc}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if cn := <-got; cn != "alice" {
		t.Fatalf("server saw %q", cn)
	}
}

func TestWriteAndLoad(t *testing.T) {
	dir := t.TempDir()
	ca, _ := NewCA("weir test CA", 0)
	if err := ca.WriteCA(dir); err != nil {
		t.Fatal(err)
	}
	p, _ := ca.Broker("broker-1")
	if err := p.Write(dir, "broker-1"); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"ca.pem": 0o644, "ca.key": 0o600, "broker-1.pem": 0o644,
		"broker-1.key": 0o600, "broker-1.keystore.pem": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
	certPEM, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	keyPEM, _ := os.ReadFile(filepath.Join(dir, "ca.key"))
	loaded, err := LoadCA(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	// The loaded CA issues certificates the original's pool verifies.
	c, err := loaded.Client("bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatal(err)
	}
	ks, _ := os.ReadFile(filepath.Join(dir, "broker-1.keystore.pem"))
	if _, err := tls.X509KeyPair(ks, ks); err != nil {
		t.Fatalf("keystore file: %v", err)
	}
	// A leaf is not a CA.
	if _, err := LoadCA(p.CertPEM, p.KeyPEM); err == nil {
		t.Fatal("a broker certificate loaded as a CA")
	}
}

func TestValidity(t *testing.T) {
	ca, _ := NewCA("short", time.Hour)
	p, err := ca.Issue(Spec{CommonName: "x", Client: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Cert.NotAfter.After(ca.Cert.NotAfter) {
		t.Fatal("a leaf outlives its CA")
	}
	expired, _ := ca.Issue(Spec{CommonName: "old", Client: true, NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	if _, err := expired.Cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Fatal("an expired certificate verified")
	}
}

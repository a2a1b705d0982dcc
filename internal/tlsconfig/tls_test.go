package tlsconfig

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirhq/weir/internal/pki"
)

type fixture struct {
	dir    string
	ca     *pki.CA
	server *Server
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// newFixture writes a CA and a broker keystore to a temp dir and makes a
// server with extra properties.
func newFixture(t *testing.T, props map[string]string, opts Options) *fixture {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.NewCA("test CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	broker, _ := ca.Broker("broker-1")
	write(t, filepath.Join(dir, "broker.pem"), broker.PEM())
	write(t, filepath.Join(dir, "ca.pem"), ca.CertPEM)
	p := map[string]string{
		"ssl.keystore.location":   filepath.Join(dir, "broker.pem"),
		"ssl.truststore.location": filepath.Join(dir, "ca.pem"),
	}
	for k, v := range props {
		p[k] = v
	}
	cfg, err := FromProperties(p, "SSL")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{dir: dir, ca: ca, server: srv}
}

// serve accepts one connection at a time and reports each handshake's
// principal (or error) on the channel.
func (f *fixture) serve(t *testing.T) (addr string, results <-chan string) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", f.server.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan string, 100)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				tc.SetDeadline(time.Now().Add(10 * time.Second))
				if err := tc.Handshake(); err != nil {
					out <- "error: " + err.Error()
					return
				}
				p, err := f.server.Principal(tc.ConnectionState())
				if err != nil {
					out <- "error: " + err.Error()
					return
				}
				out <- p
				c.Write([]byte{1}) // the client knows it is in
			})
		}
	})
	return ln.Addr().String(), out
}

func dial(addr string, cfg *tls.Config) (*tls.ConnectionState, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	// TLS 1.3 client certificates are checked after the client's
	// handshake returns: the server writes a byte once it accepted the
	// connection, else the read surfaces its refusal.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != nil {
		return nil, err
	}
	cs := c.ConnectionState()
	return &cs, nil
}

func TestClientAuthRequired(t *testing.T) {
	f := newFixture(t, map[string]string{"ssl.client.auth": "required",
		"ssl.principal.mapping.rules": "RULE:^CN=([^,]+)$/$1/L,DEFAULT"}, Options{})
	addr, results := f.serve(t)
	alice, _ := f.ca.Client("Alice")
	ac, _ := alice.TLSCertificate()
	roots := f.ca.Pool()

	if _, err := dial(addr, &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{ac}}); err != nil {
		t.Fatal(err)
	}
	if got := <-results; got != "User:alice" {
		t.Fatalf("principal %q", got)
	}
	// No certificate: refused.
	if _, err := dial(addr, &tls.Config{RootCAs: roots, ServerName: "localhost"}); err == nil {
		t.Error("a client without a certificate got in")
	}
	if got := <-results; !strings.HasPrefix(got, "error") {
		t.Errorf("server: %q", got)
	}
	// A certificate from another CA: refused.
	other, _ := pki.NewCA("other", 0)
	mallory, _ := other.Client("alice")
	mc, _ := mallory.TLSCertificate()
	send := func(c tls.Certificate) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		// Sent even though the server's request names other CAs (Go's
		// client would otherwise send nothing).
		return func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
	}
	if _, err := dial(addr, &tls.Config{RootCAs: roots, ServerName: "localhost", GetClientCertificate: send(mc)}); err == nil {
		t.Error("an untrusted client certificate got in")
	}
	if got := <-results; !strings.Contains(got, "unknown authority") {
		t.Errorf("server: %q", got)
	}
	// An expired certificate: refused.
	old, _ := f.ca.Issue(pki.Spec{CommonName: "old", Client: true, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	oc, _ := old.TLSCertificate()
	if _, err := dial(addr, &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{oc}}); err == nil {
		t.Error("an expired client certificate got in")
	}
	if got := <-results; !strings.Contains(got, "expired") {
		t.Errorf("server: %q", got)
	}
	// DEFAULT: a subject the first rule does not match stays whole.
	org, _ := f.ca.Issue(pki.Spec{CommonName: "svc", Organization: "Acme", Client: true})
	gc, _ := org.TLSCertificate()
	if _, err := dial(addr, &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{gc}}); err != nil {
		t.Fatal(err)
	}
	if got := <-results; got != "User:CN=svc,O=Acme" {
		t.Errorf("principal %q", got)
	}
}

func TestClientAuthRequestedAndNone(t *testing.T) {
	f := newFixture(t, map[string]string{"ssl.client.auth": "requested"}, Options{})
	addr, results := f.serve(t)
	roots := f.ca.Pool()
	if _, err := dial(addr, &tls.Config{RootCAs: roots, ServerName: "localhost"}); err != nil {
		t.Fatal(err)
	}
	if got := <-results; got != Anonymous {
		t.Fatalf("principal %q", got)
	}
	bob, _ := f.ca.Client("bob")
	bc, _ := bob.TLSCertificate()
	if _, err := dial(addr, &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{bc}}); err != nil {
		t.Fatal(err)
	}
	if got := <-results; got != "User:CN=bob" {
		t.Fatalf("principal %q", got)
	}
	// Requested still verifies a certificate that is sent.
	other, _ := pki.NewCA("other", 0)
	m, _ := other.Client("bob")
	mc, _ := m.TLSCertificate()
	send := func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &mc, nil }
	if _, err := dial(addr, &tls.Config{RootCAs: roots, ServerName: "localhost", GetClientCertificate: send}); err == nil {
		t.Error("an untrusted certificate was accepted under requested")
	}
	if got := <-results; !strings.Contains(got, "unknown authority") {
		t.Errorf("server: %q", got)
	}

	g := newFixture(t, nil, Options{})
	addr, results = g.serve(t)
	if _, err := dial(addr, &tls.Config{RootCAs: g.ca.Pool(), ServerName: "localhost", Certificates: []tls.Certificate{bc}}); err != nil {
		t.Fatal(err)
	}
	if got := <-results; got != Anonymous {
		t.Fatalf("none: principal %q", got)
	}
}

// TestRotateWhileHandshaking replaces the keystore file while clients
// keep handshaking: every handshake succeeds, and once the file changed
// new handshakes see the new certificate without a restart. A
// half-written file keeps the old certificate in use and is reported.
func TestRotateWhileHandshaking(t *testing.T) {
	var reloadErrs atomic.Int32
	f := newFixture(t, nil, Options{OnReloadError: func(string, error) { reloadErrs.Add(1) }})
	addr, results := f.serve(t)
	go func() {
		for range results {
		}
	}()
	cfg := &tls.Config{RootCAs: f.ca.Pool(), ServerName: "localhost"}
	serial := func() string {
		cs, err := dial(addr, cfg)
		if err != nil {
			t.Error(err)
			return ""
		}
		return cs.PeerCertificates[0].SerialNumber.String()
	}
	first := serial()

	next, _ := f.ca.Broker("broker-1-rotated")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var handshakes atomic.Int32
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := dial(addr, cfg); err != nil {
					t.Errorf("handshake during rotation: %v", err)
					return
				}
				handshakes.Add(1)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	write(t, filepath.Join(f.dir, "broker.pem"), next.PEM())
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if handshakes.Load() == 0 {
		t.Fatal("no handshake ran during the rotation")
	}
	if got := serial(); got != next.Cert.SerialNumber.String() || got == first {
		t.Fatalf("after rotation the server presents %s, want %s", got, next.Cert.SerialNumber)
	}

	// Half a file: the rotated certificate stays, the error is reported.
	pemData := next.PEM()
	if err := os.WriteFile(filepath.Join(f.dir, "broker.pem"), pemData[:len(pemData)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if got := serial(); got != next.Cert.SerialNumber.String() {
		t.Fatalf("a half-written keystore replaced the certificate: %s", got)
	}
	if reloadErrs.Load() == 0 {
		t.Fatal("the half-written keystore was not reported")
	}
	third, _ := f.ca.Broker("broker-1-third")
	write(t, filepath.Join(f.dir, "broker.pem"), third.PEM())
	if got := serial(); got != third.Cert.SerialNumber.String() {
		t.Fatalf("after the file was whole again: %s", got)
	}
}

// TestTruststoreReload: a client CA added to the truststore file is
// trusted from the next handshake on.
func TestTruststoreReload(t *testing.T) {
	f := newFixture(t, map[string]string{"ssl.client.auth": "required"}, Options{})
	addr, results := f.serve(t)
	other, _ := pki.NewCA("partner CA", 0)
	p, _ := other.Client("partner")
	pc, _ := p.TLSCertificate()
	cfg := &tls.Config{RootCAs: f.ca.Pool(), ServerName: "localhost",
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pc, nil }}
	if _, err := dial(addr, cfg); err == nil {
		t.Fatal("partner trusted before its CA was added")
	}
	<-results
	write(t, filepath.Join(f.dir, "ca.pem"), append(append([]byte(nil), f.ca.CertPEM...), other.CertPEM...))
	if _, err := dial(addr, cfg); err != nil {
		t.Fatal(err)
	}
	if got := <-results; got != "User:CN=partner" {
		t.Fatalf("principal %q", got)
	}
}

func TestClientSide(t *testing.T) {
	f := newFixture(t, map[string]string{"ssl.client.auth": "required"}, Options{})
	addr, results := f.serve(t)
	go func() {
		for range results {
		}
	}()
	b2, _ := f.ca.Broker("broker-2")
	write(t, filepath.Join(f.dir, "broker-2.pem"), b2.PEM())
	props := map[string]string{
		"ssl.keystore.location":   filepath.Join(f.dir, "broker-2.pem"),
		"ssl.truststore.location": filepath.Join(f.dir, "ca.pem"),
	}
	cfg, err := FromProperties(props, "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.1"} {
		if _, err := dial(addr, c.TLSConfig(name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	conn, err := c.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("DialContext: %v", err)
	}
	conn.Close()
	if _, err := dial(addr, c.TLSConfig("kafka.example.com")); err == nil {
		t.Error("a name outside the server's SANs was accepted")
	}
	props["ssl.endpoint.identification.algorithm"] = ""
	cfg, _ = FromProperties(props, "")
	c, _ = NewClient(cfg, Options{})
	if _, err := dial(addr, c.TLSConfig("kafka.example.com")); err != nil {
		t.Errorf("without endpoint identification: %v", err)
	}
	// A client trusting another CA refuses the server.
	other, _ := pki.NewCA("other", 0)
	write(t, filepath.Join(f.dir, "other.pem"), other.CertPEM)
	props["ssl.truststore.location"] = filepath.Join(f.dir, "other.pem")
	cfg, _ = FromProperties(props, "")
	c, _ = NewClient(cfg, Options{})
	if _, err := dial(addr, c.TLSConfig("localhost")); err == nil {
		t.Error("an untrusted server was accepted")
	}
}

func TestConfig(t *testing.T) {
	base := map[string]string{"ssl.keystore.location": "/k.pem"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	bad := []map[string]string{
		with("ssl.keystore.type", "JKS"),
		with("ssl.truststore.type", "PKCS12"),
		with("ssl.key.password", "x"),
		with("ssl.keystore.key", "k"),
		with("ssl.client.auth", "sometimes"),
		with("ssl.enabled.protocols", "TLSv1.1,TLSv1.2"),
		with("ssl.enabled.protocols", "SSLv2"),
		with("ssl.cipher.suites", "TLS_RSA_WITH_RC4_128_SHA"),
		with("ssl.cipher.suites", "NOPE"),
		with("ssl.principal.mapping.rules", "RULE:x"),
		with("ssl.endpoint.identification.algorithm", "ldap"),
		with("ssl.truststore.location", "/a", "ssl.truststore.certificates", "b"),
	}
	for _, p := range bad {
		if _, err := FromProperties(p, ""); err == nil {
			t.Errorf("%v accepted", p)
		}
	}
	c, err := FromProperties(with(
		"ssl.client.auth", "REQUIRED",
		"listener.name.ssl.ssl.client.auth", "requested",
		"ssl.cipher.suites", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
		"ssl.enabled.protocols", "TLSv1.3"), "SSL")
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientAuth != ClientAuthRequested || len(c.CipherSuites) != 2 {
		t.Fatalf("%+v", c)
	}
	if lo, hi, _ := c.versions(); lo != tls.VersionTLS13 || hi != tls.VersionTLS13 {
		t.Fatalf("versions %x %x", lo, hi)
	}
	if c, _ := FromProperties(base, "SSL"); c.ClientAuth != ClientAuthNone {
		t.Fatalf("default client auth %q", c.ClientAuth)
	}
	// A missing keystore, or client auth without a truststore.
	if _, err := NewServer(Config{}, Options{}); err == nil {
		t.Error("a server without a keystore")
	}
	ca, _ := pki.NewCA("x", 0)
	b, _ := ca.Broker("b")
	if _, err := NewServer(Config{KeystoreCertificateChain: string(b.CertPEM), KeystoreKey: string(b.KeyPEM),
		ClientAuth: ClientAuthRequired}, Options{}); err == nil {
		t.Error("client auth without a truststore")
	}
	if _, err := NewServer(Config{KeystoreCertificateChain: string(b.CertPEM), KeystoreKey: string(b.KeyPEM)}, Options{}); err != nil {
		t.Errorf("inline keystore: %v", err)
	}
}

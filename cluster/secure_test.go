package cluster

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirhq/weir/broker/config"
	"github.com/weirhq/weir/collector"
	"github.com/weirhq/weir/internal/httpauth"
	"github.com/weirhq/weir/internal/kafkaclient"
)

// A secure spec: clients on SASL_SSL on the Kafka ports, brokers and the
// raft quorum on SSL with client certificates on the inter-broker ports,
// ACLs on with the brokers, weir up and admin as super users; the broker
// parses what is generated.
func TestSecureBrokerConfig(t *testing.T) {
	dir := t.TempDir()
	l := Layout{Dir: dir}
	s := newSpec(t, Request{Brokers: 3, Secure: true})
	if s.BrokerBasePort != DefaultBrokerBasePort || s.Brokers[2].BrokerPort != DefaultBrokerBasePort+2 {
		t.Fatalf("inter-broker ports: base %d, broker 3 %d", s.BrokerBasePort, s.Brokers[2].BrokerPort)
	}
	if err := ensureBrokerCert(l, s, 2); err != nil {
		t.Fatal(err)
	}
	data, err := s.BrokerConfig(l, s.Brokers[1])
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(bytes.NewReader(data), "server.properties", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := props(s, l, 2)
	for k, want := range map[string]string{
		"listeners":                            "CLIENTS://127.0.0.1:9093,BROKER://127.0.0.1:9193",
		"controller.quorum.voters":             "1@127.0.0.1:9192,2@127.0.0.1:9193,3@127.0.0.1:9194",
		"listener.security.protocol.map":       "CLIENTS:SASL_SSL,BROKER:SSL",
		"inter.broker.listener.name":           "BROKER",
		"listener.name.broker.ssl.client.auth": "required",
		"allow.everyone.if.no.acl.found":       "false",
		"ssl.keystore.location":                filepath.Join(dir, "tls", "broker-2.keystore.pem"),
	} {
		if p[k] != want {
			t.Errorf("%s = %q, want %q", k, p[k], want)
		}
	}
	sec := cfg.Security
	if !sec.Authorizer || sec.AllowEveryoneIfNoACL || len(sec.TLS) != 2 || len(sec.Mechanisms["CLIENTS"]) != 2 {
		t.Errorf("security as the broker reads it: %+v", sec)
	}
	if got := strings.Join(sec.SuperUsers, ";"); got != "User:CN=weir-broker,O=Weir brokers;User:CN=weir-admin;User:admin" {
		t.Errorf("super.users = %q", got)
	}
	// A broker added later gets the port after the last.
	if b := s.Resized(4).Brokers[3]; b.BrokerPort != DefaultBrokerBasePort+3 {
		t.Errorf("broker 4's inter-broker port %d", b.BrokerPort)
	}
	// Plain clusters keep one PLAINTEXT listener and voters on it.
	if p := props(newSpec(t, Request{Brokers: 1}), l, 1); p["listeners"] != "PLAINTEXT://127.0.0.1:9092" || p["super.users"] != "" {
		t.Errorf("a plain cluster: %v", p)
	}
}

// A saved cluster without security is not turned secure; a secure one
// stays secure when --secure is not repeated.
func TestSecureReconcile(t *testing.T) {
	plain := newSpec(t, Request{Brokers: 1})
	if _, err := plain.Reconcile(Request{Secure: true}, "/d"); err == nil || !strings.Contains(err.Error(), "--secure") {
		t.Errorf("plain + --secure: %v", err)
	}
	secure := newSpec(t, Request{Brokers: 1, Secure: true, BrokerBasePort: 19000})
	if s, err := secure.Reconcile(Request{}, "/d"); err != nil || !s.Secure || s.BrokerBasePort != 19000 {
		t.Errorf("secure, again: %+v %v", s, err)
	}
	if _, err := secure.Reconcile(Request{BrokerBasePort: 19001}, "/d"); err == nil || !strings.Contains(err.Error(), "--broker-base-port") {
		t.Errorf("another --broker-base-port: %v", err)
	}
	if err := checkOverrides(map[string]string{"listener.security.protocol.map": "CLIENTS:PLAINTEXT"}); err == nil || !strings.Contains(err.Error(), "--secure") {
		t.Errorf("overriding the listeners' protocols: %v", err)
	}
	if _, err := NewSpec(Request{Brokers: 1, Secure: true, BrokerBasePort: 9644}, "id"); err == nil || !strings.Contains(err.Error(), "inter-broker") {
		t.Errorf("an inter-broker port on an admin port: %v", err)
	}
}

// prepareSecurity writes the CA, weir up's certificate, the password, the
// token and the client configs, keys and secrets 0600; a second run keeps
// them; the configs are read by kafkaclient and the agents' and the
// collector's configs name them.
func TestPrepareSecurity(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	s := newSpec(t, Request{Brokers: 2, Secure: true})
	logger := log.New(io.Discard, "", 0)
	sec, err := prepareSecurity(l, s, logger)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := os.ReadFile(l.AdminPasswordPath())
	ca, _ := os.ReadFile(l.CAFile())
	for _, path := range []string{l.AdminPasswordPath(), l.TokenPath(), l.ClientProperties(), l.ClientLibrdkafka(),
		l.ClientMTLSProperties(), filepath.Join(l.TLSDir(), "ca.key"), filepath.Join(l.TLSDir(), "weir-admin.keystore.pem")} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", path, fi.Mode(), err)
		}
	}
	if _, err := prepareSecurity(l, s, logger); err != nil {
		t.Fatal(err)
	}
	pw2, _ := os.ReadFile(l.AdminPasswordPath())
	ca2, _ := os.ReadFile(l.CAFile())
	if !bytes.Equal(pw, pw2) || !bytes.Equal(ca, ca2) {
		t.Error("a second start changed the password or the CA")
	}
	for _, path := range []string{l.ClientProperties(), l.ClientMTLSProperties()} {
		if _, err := kafkaclient.Load(path); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	props, _ := kafkaclient.ReadFile(l.ClientProperties())
	if props["security.protocol"] != "SASL_SSL" || !strings.Contains(props["sasl.jaas.config"], strings.TrimSpace(string(pw))) {
		t.Errorf("client.properties: %v", props)
	}
	if e := securityEndpoint(l, s, sec); e == nil || e.AtRest == "" || e.APIToken != l.TokenPath() {
		t.Errorf("endpoint: %+v", e)
	}
	agent, err := s.AgentConfig(l, s.Brokers[0])
	if err != nil || !strings.Contains(string(agent), "client_config: \""+l.ClientProperties()) {
		t.Errorf("agent config: %v\n%s", err, agent)
	}
	cc, err := s.CollectorConfig(l)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := collector.ParseConfig(cc)
	if err != nil || parsed.ClientConfig != l.ClientProperties() || parsed.TokenFile != l.TokenPath() {
		t.Errorf("collector config: %+v %v", parsed, err)
	}
}

// A secure cluster's control plane sends the token to the collector (its
// add/remove-broker and self-healing calls); its own API asks for it.
func TestControlPlaneToken(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	s := newSpec(t, Request{Brokers: 1, Secure: true})
	logger := log.New(io.Discard, "", 0)
	if _, err := prepareSecurity(l, s, logger); err != nil {
		t.Fatal(err)
	}
	tok, err := httpauth.ReadToken(l.TokenPath())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	coll := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Authorization")
		w.Write([]byte(`{"AnomalyDetectorState": {}}`))
	}))
	defer coll.Close()
	cp, err := NewControlPlane(ControlPlaneOptions{Layout: l, Spec: s, Collector: strings.TrimPrefix(coll.URL, "http://"), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	cp.coll.Anomalies(context.Background())
	if auth := <-got; auth != "Bearer "+tok {
		t.Errorf("the collector got Authorization %q", auth)
	}
	h, err := guard(l, s, cp.Handler("test", func() []Status { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	for auth, want := range map[string]int{"": 401, "Bearer " + tok: 200} {
		r := httptest.NewRequest("GET", "/v1/clusters/current", nil)
		r.RemoteAddr = "127.0.0.1:1"
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("GET with %q: %d, want %d", auth, w.Code, want)
		}
	}
}

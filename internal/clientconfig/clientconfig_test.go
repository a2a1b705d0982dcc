package clientconfig

import (
	"strings"
	"testing"
)

func TestSASLSSL(t *testing.T) {
	s := Settings{BootstrapServers: []string{"127.0.0.1:9092", "127.0.0.1:9093"}, SecurityProtocol: "SASL_SSL",
		CAFile: "/c/ca.pem", SASLMechanism: "SCRAM-SHA-512", Username: "admin", Password: "pw1"}
	java, err := s.Java()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"bootstrap.servers=127.0.0.1:9092,127.0.0.1:9093\n",
		"security.protocol=SASL_SSL\n",
		"ssl.truststore.type=PEM\nssl.truststore.location=/c/ca.pem\n",
		"sasl.mechanism=SCRAM-SHA-512\n",
		`sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="pw1";` + "\n",
	} {
		if !strings.Contains(java, want) {
			t.Errorf("java config lacks %q:\n%s", want, java)
		}
	}
	rd, _ := s.Librdkafka()
	for _, want := range []string{"security.protocol=sasl_ssl\n", "ssl.ca.location=/c/ca.pem\n", "sasl.mechanisms=SCRAM-SHA-512\n",
		"sasl.username=admin\n", "sasl.password=pw1\n"} {
		if !strings.Contains(rd, want) {
			t.Errorf("librdkafka config lacks %q:\n%s", want, rd)
		}
	}
}

func TestMutualTLS(t *testing.T) {
	s := Settings{BootstrapServers: []string{"localhost:9094"}, SecurityProtocol: "SSL", CAFile: "ca.pem",
		CertFile: "alice.pem", KeyFile: "alice.key", KeystoreFile: "alice.keystore.pem"}
	java, err := s.Java()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(java, "ssl.keystore.type=PEM\nssl.keystore.location=alice.keystore.pem\n") || strings.Contains(java, "sasl") {
		t.Errorf("%s", java)
	}
	rd, _ := s.Librdkafka()
	if !strings.Contains(rd, "ssl.certificate.location=alice.pem\nssl.key.location=alice.key\n") {
		t.Errorf("%s", rd)
	}
}

func TestInvalid(t *testing.T) {
	for _, s := range []Settings{
		{SecurityProtocol: "SSL", CAFile: "x"},
		{BootstrapServers: []string{"h:1"}, SecurityProtocol: "TLS"},
		{BootstrapServers: []string{"h:1"}, SecurityProtocol: "SASL_SSL", CAFile: "x", SASLMechanism: "PLAIN", Username: "u"},
		{BootstrapServers: []string{"h:1"}, SecurityProtocol: "SSL"},
		{BootstrapServers: []string{"h:1"}, SecurityProtocol: "SSL", CAFile: "x", CertFile: "c"},
		{BootstrapServers: []string{"h:1"}, SecurityProtocol: "SASL_PLAINTEXT", SASLMechanism: "PLAIN", Username: "u", Password: `a"b`},
	} {
		if _, err := s.Java(); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	if got := escapeJava(` C:\x`); got != `\ C:\\x` {
		t.Errorf("escape: %q", got)
	}
}

// Package clientconfig writes the client configuration a secure local
// cluster hands its users: a Java client's properties (also what
// kafka-console-producer --producer.config and kafka-configs
// --command-config read) and librdkafka's (kcat -F,
// confluent-kafka-python), for SASL_SSL with SCRAM or for mutual TLS.
// `weir up --secure` writes them beside endpoints.json.
package clientconfig

import (
	"fmt"
	"strings"
)

// Settings describe how a client connects.
type Settings struct {
	BootstrapServers []string
	// SecurityProtocol is SASL_SSL, SSL, SASL_PLAINTEXT or PLAINTEXT.
	SecurityProtocol string
	// CAFile is the PEM CA certificate clients trust.
	CAFile string
	// CertFile and KeyFile are a client certificate and key (mutual TLS).
	// KeystoreFile is the same pair in one PEM file, for Java.
	CertFile, KeyFile, KeystoreFile string
	// SASLMechanism (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN), Username and
	// Password, for the SASL protocols.
	SASLMechanism, Username, Password string
}

func (s Settings) sasl() bool { return strings.HasPrefix(s.SecurityProtocol, "SASL_") }
func (s Settings) tls() bool  { return strings.HasSuffix(s.SecurityProtocol, "SSL") }

// Validate checks the settings hang together.
func (s Settings) Validate() error {
	switch s.SecurityProtocol {
	case "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL":
	default:
		return fmt.Errorf("security protocol %q", s.SecurityProtocol)
	}
	switch {
	case len(s.BootstrapServers) == 0:
		return fmt.Errorf("no bootstrap servers")
	case s.sasl() && (s.SASLMechanism == "" || s.Username == "" || s.Password == ""):
		return fmt.Errorf("%s needs a mechanism, a user name and a password", s.SecurityProtocol)
	case s.tls() && s.CAFile == "":
		return fmt.Errorf("%s needs the CA file", s.SecurityProtocol)
	case (s.CertFile == "") != (s.KeyFile == ""):
		return fmt.Errorf("a client certificate needs its key, and a key its certificate")
	case strings.ContainsAny(s.Username+s.Password, "\"\\\n"):
		return fmt.Errorf("user names and passwords with quotes, backslashes or newlines are not written")
	}
	return nil
}

// Java renders a Java client's properties.
func (s Settings) Java() (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# Written by weir up --secure.\n")
	kv := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, escapeJava(v)) }
	kv("bootstrap.servers", strings.Join(s.BootstrapServers, ","))
	kv("security.protocol", s.SecurityProtocol)
	if s.tls() {
		kv("ssl.truststore.type", "PEM")
		kv("ssl.truststore.location", s.CAFile)
		if s.KeystoreFile != "" {
			kv("ssl.keystore.type", "PEM")
			kv("ssl.keystore.location", s.KeystoreFile)
		}
	}
	if s.sasl() {
		kv("sasl.mechanism", s.SASLMechanism)
		module := "org.apache.kafka.common.security.scram.ScramLoginModule"
		if s.SASLMechanism == "PLAIN" {
			module = "org.apache.kafka.common.security.plain.PlainLoginModule"
		}
		kv("sasl.jaas.config", fmt.Sprintf(`%s required username="%s" password="%s";`, module, s.Username, s.Password))
	}
	return b.String(), nil
}

// Librdkafka renders librdkafka's properties.
func (s Settings) Librdkafka() (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# Written by weir up --secure.\n")
	kv := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, v) }
	kv("bootstrap.servers", strings.Join(s.BootstrapServers, ","))
	kv("security.protocol", strings.ToLower(s.SecurityProtocol))
	if s.tls() {
		kv("ssl.ca.location", s.CAFile)
		if s.CertFile != "" {
			kv("ssl.certificate.location", s.CertFile)
			kv("ssl.key.location", s.KeyFile)
		}
	}
	if s.sasl() {
		kv("sasl.mechanisms", s.SASLMechanism)
		kv("sasl.username", s.Username)
		kv("sasl.password", s.Password)
	}
	return b.String(), nil
}

// escapeJava escapes a value for a .properties file.
func escapeJava(v string) string {
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	v = r.Replace(v)
	if strings.HasPrefix(v, " ") {
		v = `\` + v
	}
	return v
}

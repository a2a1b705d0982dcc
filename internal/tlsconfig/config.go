package tlsconfig

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// ClientAuth is ssl.client.auth.
type ClientAuth string

const (
	ClientAuthNone      ClientAuth = "none"
	ClientAuthRequested ClientAuth = "requested"
	ClientAuthRequired  ClientAuth = "required"
)

// Config holds the ssl.* settings of one listener or client.
type Config struct {
	KeystoreType             string // ssl.keystore.type: PEM
	KeystoreLocation         string // ssl.keystore.location
	KeystoreCertificateChain string // ssl.keystore.certificate.chain
	KeystoreKey              string // ssl.keystore.key
	KeyPassword              string // ssl.key.password: must be empty

	TruststoreType         string // ssl.truststore.type: PEM
	TruststoreLocation     string // ssl.truststore.location
	TruststoreCertificates string // ssl.truststore.certificates

	ClientAuth            ClientAuth // ssl.client.auth
	EnabledProtocols      []string   // ssl.enabled.protocols
	CipherSuites          []string   // ssl.cipher.suites
	PrincipalMappingRules string     // ssl.principal.mapping.rules
	// EndpointIdentification is ssl.endpoint.identification.algorithm:
	// "https" (check the server's name) or "" (do not); client side.
	EndpointIdentification string
}

// The keys FromProperties reads.
var Keys = []string{
	"ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.certificate.chain", "ssl.keystore.key",
	"ssl.key.password", "ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.certificates",
	"ssl.client.auth", "ssl.enabled.protocols", "ssl.cipher.suites", "ssl.principal.mapping.rules",
	"ssl.endpoint.identification.algorithm",
}

// FromProperties reads a Config for listener (e.g. "SSL", "" for none)
// from properties: listener.name.<listener, lower case>.<key> wins over
// <key>. Defaults are Kafka's (except the store types, PEM).
func FromProperties(props map[string]string, listener string) (Config, error) {
	get := func(key, def string) string {
		if listener != "" {
			if v, ok := props["listener.name."+strings.ToLower(listener)+"."+key]; ok {
				return strings.TrimSpace(v)
			}
		}
		if v, ok := props[key]; ok {
			return strings.TrimSpace(v)
		}
		return def
	}
	c := Config{
		KeystoreType:             get("ssl.keystore.type", "PEM"),
		KeystoreLocation:         get("ssl.keystore.location", ""),
		KeystoreCertificateChain: get("ssl.keystore.certificate.chain", ""),
		KeystoreKey:              get("ssl.keystore.key", ""),
		KeyPassword:              get("ssl.key.password", ""),
		TruststoreType:           get("ssl.truststore.type", "PEM"),
		TruststoreLocation:       get("ssl.truststore.location", ""),
		TruststoreCertificates:   get("ssl.truststore.certificates", ""),
		ClientAuth:               ClientAuth(strings.ToLower(get("ssl.client.auth", "none"))),
		EnabledProtocols:         list(get("ssl.enabled.protocols", "TLSv1.2,TLSv1.3")),
		CipherSuites:             list(get("ssl.cipher.suites", "")),
		PrincipalMappingRules:    get("ssl.principal.mapping.rules", "DEFAULT"),
		EndpointIdentification:   get("ssl.endpoint.identification.algorithm", "https"),
	}
	return c, c.Validate()
}

func list(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Validate checks what can be checked without reading files.
func (c Config) Validate() error {
	for key, typ := range map[string]string{"ssl.keystore.type": c.KeystoreType, "ssl.truststore.type": c.TruststoreType} {
		if typ != "" && !strings.EqualFold(typ, "PEM") {
			return fmt.Errorf("%s=%s: Weir reads PEM only", key, typ)
		}
	}
	switch {
	case c.KeyPassword != "":
		return fmt.Errorf("ssl.key.password: encrypted private keys are not supported; use an unencrypted PKCS#8 key in a file only the broker can read")
	case c.KeystoreLocation != "" && (c.KeystoreCertificateChain != "" || c.KeystoreKey != ""):
		return fmt.Errorf("ssl.keystore.location and ssl.keystore.certificate.chain/ssl.keystore.key are exclusive")
	case (c.KeystoreCertificateChain == "") != (c.KeystoreKey == ""):
		return fmt.Errorf("ssl.keystore.certificate.chain and ssl.keystore.key go together")
	case c.TruststoreLocation != "" && c.TruststoreCertificates != "":
		return fmt.Errorf("ssl.truststore.location and ssl.truststore.certificates are exclusive")
	}
	switch c.ClientAuth {
	case "", ClientAuthNone, ClientAuthRequested, ClientAuthRequired:
	default:
		return fmt.Errorf("ssl.client.auth=%s: want required, requested or none", c.ClientAuth)
	}
	if c.EndpointIdentification != "" && !strings.EqualFold(c.EndpointIdentification, "https") {
		return fmt.Errorf("ssl.endpoint.identification.algorithm=%s: want https or empty", c.EndpointIdentification)
	}
	if _, _, err := c.versions(); err != nil {
		return err
	}
	if _, err := c.suites(); err != nil {
		return err
	}
	if _, err := ParseRules(c.PrincipalMappingRules); err != nil {
		return err
	}
	return nil
}

// versions maps ssl.enabled.protocols to a min and max version.
func (c Config) versions() (uint16, uint16, error) {
	protos := c.EnabledProtocols
	if len(protos) == 0 {
		protos = []string{"TLSv1.2", "TLSv1.3"}
	}
	var lo, hi uint16
	for _, p := range protos {
		var v uint16
		switch p {
		case "TLSv1.2":
			v = tls.VersionTLS12
		case "TLSv1.3":
			v = tls.VersionTLS13
		case "TLSv1", "TLSv1.1", "SSLv3":
			return 0, 0, fmt.Errorf("ssl.enabled.protocols: %s is insecure and not supported", p)
		default:
			return 0, 0, fmt.Errorf("ssl.enabled.protocols: unknown protocol %q", p)
		}
		if lo == 0 || v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi, nil
}

// suites maps ssl.cipher.suites to Go's ids; nil means Go's defaults.
func (c Config) suites() ([]uint16, error) {
	if len(c.CipherSuites) == 0 {
		return nil, nil
	}
	byName := map[string]uint16{}
	for _, s := range tls.CipherSuites() {
		byName[s.Name] = s.ID
	}
	var out []uint16
	for _, n := range c.CipherSuites {
		id, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("ssl.cipher.suites: %q is unknown or insecure", n)
		}
		out = append(out, id)
	}
	return out, nil
}

package tlsconfig

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
)

// Anonymous is the principal of a TLS client without a certificate.
const Anonymous = "User:ANONYMOUS"

// Options tune Server and Client.
type Options struct {
	// OnReloadError hears of a keystore or truststore file that changed
	// but could not be read or parsed (the previous one stays in use).
	OnReloadError func(path string, err error)
}

// Server is the TLS side of an SSL or SASL_SSL listener.
type Server struct {
	base  *tls.Config
	ks    *watched[*tls.Certificate]
	ts    *watched[*x509.CertPool]
	rules Rules
}

// NewServer loads the keystore (required) and the truststore (required
// when ssl.client.auth is requested or required).
func NewServer(c Config, opts Options) (*Server, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	lo, hi, _ := c.versions()
	suites, _ := c.suites()
	rules, _ := ParseRules(c.PrincipalMappingRules)
	ks, err := c.keystore(opts.OnReloadError)
	if err != nil {
		return nil, fmt.Errorf("ssl keystore: %w", err)
	}
	if ks == nil {
		return nil, errors.New("an SSL listener needs ssl.keystore.location (or ssl.keystore.certificate.chain and ssl.keystore.key)")
	}
	ts, err := c.truststore(opts.OnReloadError)
	if err != nil {
		return nil, fmt.Errorf("ssl truststore: %w", err)
	}
	base := &tls.Config{MinVersion: lo, MaxVersion: hi, CipherSuites: suites}
	switch c.ClientAuth {
	case ClientAuthRequired:
		base.ClientAuth = tls.RequireAndVerifyClientCert
	case ClientAuthRequested:
		base.ClientAuth = tls.VerifyClientCertIfGiven
	}
	if base.ClientAuth != tls.NoClientCert && ts == nil {
		return nil, fmt.Errorf("ssl.client.auth=%s needs ssl.truststore.location (or ssl.truststore.certificates)", c.ClientAuth)
	}
	return &Server{base: base, ks: ks, ts: ts, rules: rules}, nil
}

// TLSConfig is the listener's configuration. Each handshake gets the
// current certificate and client CAs (re-read if their files changed).
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: s.base.MinVersion,
		MaxVersion: s.base.MaxVersion,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			cfg := s.base.Clone()
			cfg.Certificates = []tls.Certificate{*s.ks.get()}
			if s.ts != nil {
				cfg.ClientCAs = s.ts.get()
			}
			return cfg, nil
		},
	}
}

// Principal is the Kafka principal of a connection after its handshake:
// User:ANONYMOUS without a client certificate, else "User:" + the
// certificate's subject (RFC 2253) mapped by ssl.principal.mapping.rules.
// A subject no rule maps is an error: the connection is refused.
func (s *Server) Principal(cs tls.ConnectionState) (string, error) {
	if len(cs.PeerCertificates) == 0 {
		return Anonymous, nil
	}
	dn, err := SubjectDN(cs.PeerCertificates[0])
	if err != nil {
		return "", err
	}
	name, err := s.rules.Apply(dn)
	if err != nil {
		return "", err
	}
	return "User:" + name, nil
}

// Client is the TLS side of a connection Weir opens to a broker (or to
// the collector): replication, agents.
type Client struct {
	base     *tls.Config
	ks       *watched[*tls.Certificate]
	ts       *watched[*x509.CertPool]
	checkDNS bool
}

// NewClient loads the optional keystore (for mutual TLS) and truststore
// (the system roots when absent).
func NewClient(c Config, opts Options) (*Client, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	lo, hi, _ := c.versions()
	suites, _ := c.suites()
	ks, err := c.keystore(opts.OnReloadError)
	if err != nil {
		return nil, fmt.Errorf("ssl keystore: %w", err)
	}
	ts, err := c.truststore(opts.OnReloadError)
	if err != nil {
		return nil, fmt.Errorf("ssl truststore: %w", err)
	}
	return &Client{base: &tls.Config{MinVersion: lo, MaxVersion: hi, CipherSuites: suites},
		ks: ks, ts: ts, checkDNS: c.EndpointIdentification != ""}, nil
}

// TLSConfig is the configuration for dialing serverName (a host name or
// IP address, checked against the certificate's SANs unless
// ssl.endpoint.identification.algorithm is empty).
func (c *Client) TLSConfig(serverName string) *tls.Config {
	cfg := c.base.Clone()
	cfg.ServerName = serverName
	if c.ks != nil {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return c.ks.get(), nil
		}
	}
	if c.ts == nil && c.checkDNS {
		return cfg // the system roots, standard verification
	}
	// Verify by hand so that the truststore in use is the current one
	// (and so that endpoint identification can be turned off).
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the server sent no certificate")
		}
		opts := x509.VerifyOptions{Intermediates: x509.NewCertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if c.ts != nil {
			opts.Roots = c.ts.get()
		}
		if c.checkDNS {
			opts.DNSName = serverName
		}
		for _, ic := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(ic)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
	return cfg
}

// DialContext dials addr (host:port) over TLS with TLSConfig(host): the
// dial function for kgo.Dialer, replication and the agents.
func (c *Client) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	d := &tls.Dialer{Config: c.TLSConfig(host)}
	return d.DialContext(ctx, network, addr)
}

// Package pki makes the certificates a secure local cluster needs: a
// local certificate authority, broker certificates (server and client
// use: brokers are each other's clients for replication) with SANs for
// localhost, 127.0.0.1, ::1 and any other hosts given, and client
// certificates whose subject becomes the client's principal. It is what
// `weir up --secure` calls; it is not a general-purpose CA.
//
// Keys are ECDSA P-256, written as unencrypted PKCS#8 PEM ("PRIVATE
// KEY"), which Kafka's PEM keystores (ssl.keystore.type=PEM) and every
// client library read. Files holding keys are written mode 0600.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/weirhq/weir/internal/atomicfile"
	"github.com/weirhq/weir/internal/vfs"
)

// DefaultValidity is how long issued certificates last unless a Spec
// says otherwise; a local cluster's certificates are reissued by
// `weir up --secure` well before then.
const DefaultValidity = 825 * 24 * time.Hour

// LocalHosts are in every broker certificate's SANs.
var LocalHosts = []string{"localhost", "127.0.0.1", "::1"}

// CA is a certificate authority: its certificate and signing key.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// CertPEM is the CA certificate, the truststore clients and brokers use.
	CertPEM []byte
	KeyPEM  []byte
}

// Pair is an issued certificate and its key, parsed and as PEM.
type Pair struct {
	Cert    *x509.Certificate
	CertPEM []byte // the leaf, then the CA (the chain a server presents)
	KeyPEM  []byte
}

// Spec describes a certificate to issue.
type Spec struct {
	CommonName   string
	Organization string
	// Hosts become SANs: IP addresses as IP SANs, the rest as DNS names.
	Hosts []string
	// Server and Client choose the extended key usages.
	Server, Client bool
	// NotBefore and NotAfter default to an hour ago and DefaultValidity
	// from now.
	NotBefore, NotAfter time.Time
}

// NewCA makes a self-signed CA named commonName, valid for validity (0:
// DefaultValidity).
func NewCA(commonName string, validity time.Duration) (*CA, error) {
	if validity == 0 {
		validity = DefaultValidity
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"Weir local CA"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("self-signing CA: %w", err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, CertPEM: encodeCert(der), KeyPEM: keyPEM}, nil
}

// LoadCA reads a CA written by WriteCA (or any PEM CA certificate and
// PKCS#8, PKCS#1 or SEC 1 key).
func LoadCA(certPEM, keyPEM []byte) (*CA, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading CA: %w", err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("loading CA: %w", err)
	}
	if !cert.IsCA {
		return nil, errors.New("loading CA: the certificate is not a CA")
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, errors.New("loading CA: the key cannot sign")
	}
	return &CA{Cert: cert, Key: signer, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// Issue signs a new certificate with a new key.
func (ca *CA) Issue(spec Spec) (*Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	now := time.Now()
	if spec.NotBefore.IsZero() {
		spec.NotBefore = now.Add(-time.Hour)
	}
	if spec.NotAfter.IsZero() {
		spec.NotAfter = now.Add(DefaultValidity)
	}
	if spec.NotAfter.After(ca.Cert.NotAfter) {
		spec.NotAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: spec.CommonName},
		NotBefore:    spec.NotBefore,
		NotAfter:     spec.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if spec.Organization != "" {
		tmpl.Subject.Organization = []string{spec.Organization}
	}
	if spec.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if spec.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	for _, h := range spec.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("issuing %q: %w", spec.CommonName, err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	chain := append(encodeCert(der), ca.CertPEM...)
	return &Pair{Cert: cert, CertPEM: chain, KeyPEM: keyPEM}, nil
}

// Broker issues a broker's certificate: server and client use, SANs for
// LocalHosts and hosts.
func (ca *CA) Broker(name string, hosts ...string) (*Pair, error) {
	return ca.Issue(Spec{CommonName: name, Organization: "Weir brokers",
		Hosts: append(append([]string(nil), LocalHosts...), hosts...), Server: true, Client: true})
}

// Client issues a client certificate with subject CN=name; under
// ssl.principal.mapping.rules=DEFAULT its principal is "User:CN=name".
func (ca *CA) Client(name string) (*Pair, error) {
	return ca.Issue(Spec{CommonName: name, Client: true})
}

// TLSCertificate is the pair as crypto/tls uses it.
func (p *Pair) TLSCertificate() (tls.Certificate, error) {
	return tls.X509KeyPair(p.CertPEM, p.KeyPEM)
}

// PEM is the key then the chain in one file: Kafka's PEM keystore file
// (ssl.keystore.location with ssl.keystore.type=PEM).
func (p *Pair) PEM() []byte {
	return append(append([]byte(nil), p.KeyPEM...), p.CertPEM...)
}

// Pool is a cert pool holding the CA, for verifying what it issued.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// WriteCA writes dir/ca.pem (0644) and dir/ca.key (0600).
func (ca *CA) WriteCA(dir string) error {
	if err := write(filepath.Join(dir, "ca.pem"), ca.CertPEM, 0o644); err != nil {
		return err
	}
	return write(filepath.Join(dir, "ca.key"), ca.KeyPEM, 0o600)
}

// Write writes dir/name.pem (the chain, 0644), dir/name.key (0600) and
// dir/name.keystore.pem (key and chain in one file, 0600).
func (p *Pair) Write(dir, name string) error {
	if err := write(filepath.Join(dir, name+".pem"), p.CertPEM, 0o644); err != nil {
		return err
	}
	if err := write(filepath.Join(dir, name+".key"), p.KeyPEM, 0o600); err != nil {
		return err
	}
	return write(filepath.Join(dir, name+".keystore.pem"), p.PEM(), 0o600)
}

func write(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// WritePrivate makes its temporary file 0600 before writing, so a key
	// is never readable by others, even for a moment.
	if err := atomicfile.WritePrivate(vfs.Default, path, data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Chmod(path, mode)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

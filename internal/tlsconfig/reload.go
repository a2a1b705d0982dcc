package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// watched is a value loaded from one file and re-loaded when the file
// changes (identity, size or modification time). Inline values (path
// "") are loaded once.
type watched[T any] struct {
	path   string
	inline string
	parse  func([]byte) (T, error)
	onErr  func(path string, err error)

	mu    sync.Mutex
	stat  os.FileInfo
	value T
}

func newWatched[T any](path, inline string, parse func([]byte) (T, error), onErr func(string, error)) (*watched[T], error) {
	w := &watched[T]{path: path, inline: inline, parse: parse, onErr: onErr}
	if path == "" {
		v, err := parse([]byte(inline))
		if err != nil {
			return nil, err
		}
		w.value = v
		return w, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w.stat, w.value = fi, v
	return w, nil
}

// get returns the current value, re-reading the file first when it
// changed. A file that cannot be read or parsed leaves the last good
// value in use; the next call tries again.
func (w *watched[T]) get() T {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.path == "" {
		return w.value
	}
	fi, err := os.Stat(w.path)
	if err != nil {
		w.report(err)
		return w.value
	}
	if os.SameFile(fi, w.stat) && fi.Size() == w.stat.Size() && fi.ModTime().Equal(w.stat.ModTime()) {
		return w.value
	}
	data, err := os.ReadFile(w.path)
	if err != nil {
		w.report(err)
		return w.value
	}
	v, err := w.parse(data)
	if err != nil {
		w.report(err)
		return w.value
	}
	w.stat, w.value = fi, v
	return v
}

func (w *watched[T]) report(err error) {
	if w.onErr != nil {
		w.onErr(w.path, err)
	}
}

// parseKeystore reads a PEM keystore: the key and the chain, in any
// order, in one file.
func parseKeystore(data []byte) (*tls.Certificate, error) {
	if isEncrypted(data) {
		return nil, errors.New("the private key is encrypted; Weir reads unencrypted keys only")
	}
	c, err := tls.X509KeyPair(data, data)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return &c, nil
}

func isEncrypted(data []byte) bool {
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return false
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
			return true
		}
	}
}

// parseTruststore reads PEM CA certificates into a pool.
func parseTruststore(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("truststore: %w", err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, errors.New("truststore: no PEM certificate")
	}
	return pool, nil
}

// keystore loads the configured keystore, or nil when there is none.
func (c Config) keystore(onErr func(string, error)) (*watched[*tls.Certificate], error) {
	inline := ""
	if c.KeystoreCertificateChain != "" {
		inline = strings.TrimSpace(c.KeystoreKey) + "\n" + strings.TrimSpace(c.KeystoreCertificateChain) + "\n"
	}
	if c.KeystoreLocation == "" && inline == "" {
		return nil, nil
	}
	return newWatched(c.KeystoreLocation, inline, parseKeystore, onErr)
}

// truststore loads the configured truststore, or nil when there is none.
func (c Config) truststore(onErr func(string, error)) (*watched[*x509.CertPool], error) {
	if c.TruststoreLocation == "" && c.TruststoreCertificates == "" {
		return nil, nil
	}
	return newWatched(c.TruststoreLocation, c.TruststoreCertificates, parseTruststore, onErr)
}

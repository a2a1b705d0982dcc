// Package httpauth guards Weir's own HTTP APIs (the control plane, the
// collector's Cruise Control API, the autoscaler's) when a cluster is
// secure: a request is let through when it came over TLS with a client
// certificate the server verified (mutual TLS), or when it carries the
// cluster's bearer token. Plain HTTP is accepted from the loopback
// interface only — a token must not cross a network in the clear — and
// from elsewhere is refused whatever it carries.
//
// A browser (the collector's console) sends the token in a cookie, set by
// opening a page once with ?token=<token>.
//
// The token lives in the cluster directory (LoadOrCreateToken), mode
// 0600: whoever can read the cluster directory can already stop the
// cluster.
package httpauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/weirhq/weir/internal/atomicfile"
	"github.com/weirhq/weir/internal/vfs"
)

// Config says what the middleware accepts.
type Config struct {
	// Token is the bearer token; empty accepts no token.
	Token string
	// Open lists path prefixes served to anyone (health checks).
	Open []string
}

type principalKey struct{}

// Principal is who a request was let through as: "User:<subject>" for a
// client certificate, "token" for the bearer token, "" for an open path.
func Principal(r *http.Request) string {
	p, _ := r.Context().Value(principalKey{}).(string)
	return p
}

// CookieName is the cookie a browser keeps the token in: a GET with
// ?token=<token> (the console opened once that way) sets it, HttpOnly and
// SameSite=Strict, and is redirected to the same URL without the token.
const CookieName = "weir_token"

// Middleware guards next with cfg.
func Middleware(cfg Config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range cfg.Open {
			if strings.HasPrefix(r.URL.Path, p) {
				next.ServeHTTP(w, r)
				return
			}
		}
		if r.Method == http.MethodGet && r.URL.Query().Has("token") && login(cfg, w, r) {
			return
		}
		principal, status, msg := check(cfg, r)
		if status != 0 {
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="weir"`)
			}
			http.Error(w, msg, status)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, principal)))
	})
}

// check decides: the principal, or an HTTP status and message.
func check(cfg Config, r *http.Request) (string, int, string) {
	if r.TLS == nil && !fromLoopback(r) {
		return "", http.StatusForbidden, "this API accepts plain HTTP from this host only; use HTTPS"
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return "User:" + r.TLS.VerifiedChains[0][0].Subject.String(), 0, ""
	}
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if c, err := r.Cookie(CookieName); auth == "" && err == nil {
		token, ok = c.Value, true
	}
	if !ok || token == "" {
		return "", http.StatusUnauthorized, "authentication required: a client certificate or the cluster's bearer token"
	}
	if !valid(cfg, token) {
		return "", http.StatusUnauthorized, "invalid bearer token"
	}
	return "token", 0, ""
}

func valid(cfg Config, token string) bool {
	return cfg.Token != "" && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(cfg.Token)) == 1
}

// login answers a GET with ?token=: when the token is right and the
// request may carry one (TLS, or plain HTTP from loopback), it sets the
// cookie and redirects to the URL without the token; otherwise it leaves
// the request to check, which refuses it.
func login(cfg Config, w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	if (r.TLS == nil && !fromLoopback(r)) || !valid(cfg, q.Get("token")) {
		return false
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: cfg.Token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	q.Del("token")
	u := *r.URL
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
	return true
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LoadOrCreateToken reads the token at path, or writes a new random one
// (mode 0600) when there is none. A token file others can read is an
// error.
func LoadOrCreateToken(path string) (string, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		b := make([]byte, 32)
		rand.Read(b)
		tok := hex.EncodeToString(b)
		if err := atomicfile.WritePrivate(vfs.Default, path, []byte(tok+"\n")); err != nil {
			return "", fmt.Errorf("writing the API token: %w", err)
		}
		return tok, nil
	case err != nil:
		return "", err
	case fi.Mode().Perm()&0o077 != 0:
		return "", fmt.Errorf("%s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 32 {
		return "", fmt.Errorf("%s: the token is too short", path)
	}
	return tok, nil
}

// ReadToken reads the token at path (written by LoadOrCreateToken), for
// clients: the weir CLI and the services weir up runs.
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the API token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s holds no token", path)
	}
	return tok, nil
}

// Transport returns a RoundTripper that adds "Authorization: Bearer
// token" to requests for hosts (host:port as in the URL; none: every
// host) and sends the rest unchanged, over base (nil:
// http.DefaultTransport).
func Transport(token string, hosts []string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &bearer{token: token, hosts: hosts, base: base}
}

type bearer struct {
	token string
	hosts []string
	base  http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(b.hosts) > 0 && !slices.Contains(b.hosts, r.URL.Host) {
		return b.base.RoundTrip(r)
	}
	r = r.Clone(r.Context()) // a RoundTripper must not change its request
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

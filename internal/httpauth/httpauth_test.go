package httpauth

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirhq/weir/internal/pki"
)

func handler() http.Handler {
	return Middleware(Config{Token: strings.Repeat("ab", 32), Open: []string{"/healthz"}},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello "+Principal(r)) }))
}

func TestPlainHTTP(t *testing.T) {
	h := handler()
	for _, tc := range []struct {
		remote, auth, path string
		status             int
		body               string
	}{
		{"127.0.0.1:5000", "Bearer " + strings.Repeat("ab", 32), "/v1/clusters", 200, "hello token"},
		{"[::1]:5000", "Bearer " + strings.Repeat("ab", 32), "/v1/clusters", 200, "hello token"},
		{"127.0.0.1:5000", "", "/v1/clusters", 401, "authentication required"},
		{"127.0.0.1:5000", "Bearer nope", "/v1/clusters", 401, "invalid bearer token"},
		{"127.0.0.1:5000", "Basic YWJj", "/v1/clusters", 401, "authentication required"},
		// From another host, plain HTTP is refused even with the token.
		{"10.0.0.7:5000", "Bearer " + strings.Repeat("ab", 32), "/v1/clusters", 403, "use HTTPS"},
		{"10.0.0.7:5000", "", "/healthz", 200, "hello "},
	} {
		r := httptest.NewRequest("GET", tc.path, nil)
		r.RemoteAddr = tc.remote
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.body) {
			t.Errorf("%+v: %d %q", tc, w.Code, w.Body.String())
		}
		if w.Code == 401 && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%+v: 401 without WWW-Authenticate", tc)
		}
	}
}

// TestMutualTLS serves over TLS requesting client certificates: a
// verified certificate gets in from anywhere, a TLS client without one
// needs the token.
func TestMutualTLS(t *testing.T) {
	ca, _ := pki.NewCA("test", 0)
	srvPair, _ := ca.Broker("controlplane")
	sc, _ := srvPair.TLSCertificate()
	srv := httptest.NewUnstartedServer(handler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{sc}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: ca.Pool()}
	srv.StartTLS()
	defer srv.Close()

	alice, _ := ca.Client("alice")
	ac, _ := alice.TLSCertificate()
	client := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: ca.Pool(), ServerName: "localhost", Certificates: certs}}}
	}
	get := func(c *http.Client, token string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/clusters", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(client(ac), ""); code != 200 || body != "hello User:CN=alice" {
		t.Errorf("client certificate: %d %q", code, body)
	}
	if code, _ := get(client(), ""); code != 401 {
		t.Errorf("TLS without certificate or token: %d", code)
	}
	if code, body := get(client(), strings.Repeat("ab", 32)); code != 200 || body != "hello token" {
		t.Errorf("TLS with the token: %d %q", code, body)
	}
}

func TestToken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "api.token")
	tok, err := LoadOrCreateToken(path)
	if err != nil || len(tok) != 64 {
		t.Fatalf("%q %v", tok, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	again, err := LoadOrCreateToken(path)
	if err != nil || again != tok {
		t.Fatalf("reload: %q %v", again, err)
	}
	os.Chmod(path, 0o644)
	if _, err := LoadOrCreateToken(path); err == nil {
		t.Fatal("a world-readable token was accepted")
	}
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("abc"), 0o600)
	if _, err := LoadOrCreateToken(short); err == nil {
		t.Fatal("a short token was accepted")
	}
}

// Transport sends the token to the hosts it names only; ReadToken reads
// what LoadOrCreateToken wrote.
func TestTransport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.token")
	tok, err := LoadOrCreateToken(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ReadToken(path); err != nil || got != tok {
		t.Fatalf("ReadToken = %q, %v; want %q", got, err, tok)
	}
	srv := httptest.NewServer(Middleware(Config{Token: tok}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		hosts  []string
		status int
	}{{nil, 200}, {[]string{host}, 200}, {[]string{"127.0.0.1:1"}, 401}} {
		req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
		resp, err := (&http.Client{Transport: Transport(tok, tc.hosts, nil)}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || req.Header.Get("Authorization") != "" {
			t.Errorf("hosts %v: %d (want %d); the caller's request changed: %q", tc.hosts, resp.StatusCode, tc.status, req.Header.Get("Authorization"))
		}
	}
	if _, err := ReadToken(path + ".missing"); err == nil {
		t.Error("ReadToken of a missing file succeeded")
	}
}

// A browser opens a page once with ?token=: it gets the cookie and is
// sent to the page without the token; the cookie then lets it in. A wrong
// token in the query sets nothing.
func TestTokenCookie(t *testing.T) {
	h := handler()
	tok := strings.Repeat("ab", 32)
	r := httptest.NewRequest("GET", "/console/topics?x=1&token="+tok, nil)
	r.RemoteAddr = "127.0.0.1:5000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	cookies := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/topics?x=1" || len(cookies) != 1 || !cookies[0].HttpOnly {
		t.Fatalf("login: %d %q %v", w.Code, w.Header().Get("Location"), cookies)
	}
	r = httptest.NewRequest("GET", "/console/topics", nil)
	r.RemoteAddr = "127.0.0.1:5000"
	r.AddCookie(cookies[0])
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || w.Body.String() != "hello token" {
		t.Fatalf("with the cookie: %d %q", w.Code, w.Body.String())
	}
	for _, remote := range []string{"127.0.0.1:5000", "10.0.0.7:5000"} {
		for _, q := range []string{"nope", tok} {
			if remote == "127.0.0.1:5000" && q == tok {
				continue
			}
			r = httptest.NewRequest("GET", "/console/?token="+q, nil)
			r.RemoteAddr = remote
			w = httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code == http.StatusSeeOther || len(w.Result().Cookies()) > 0 {
				t.Errorf("token %q from %s: %d %v", q, remote, w.Code, w.Result().Cookies())
			}
		}
	}
	r = httptest.NewRequest("GET", "/console/", nil)
	r.RemoteAddr = "127.0.0.1:5000"
	r.AddCookie(&http.Cookie{Name: CookieName, Value: "nope"})
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Errorf("a wrong cookie: %d", w.Code)
	}
}

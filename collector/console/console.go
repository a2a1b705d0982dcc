package console

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/collector/ccclient"
	"github.com/weirhq/weir/internal/groupadmin"
)

// Prefix is where the console is served.
const Prefix = "/console/"

// Options configure a Console.
type Options struct {
	// Client is the collector's Kafka client: admin requests go through
	// it (the Console never closes it).
	Client *kgo.Client
	// Seeds are the bootstrap servers, for the message viewer's own
	// short-lived consumers.
	Seeds []string
	// ClientOpts are the security options (TLS, SASL) those consumers
	// connect with: the collector's own (kafka.client.config).
	ClientOpts []kgo.Opt
	// API is Cruise Control's API (the collector's api.Server handler),
	// called in process: proposals, load, executor and anomaly state.
	API http.Handler
	// ControlPlane and Autoscaler are the base URLs of weir up's control
	// plane and of the autoscaler; "" shows "not configured".
	ControlPlane, Autoscaler string
	Logger                   *slog.Logger
	Now                      func() time.Time
	// Timeout bounds each page's requests to the cluster (default 10 s).
	Timeout time.Duration
	// ActionLog is the file the actions taken are appended to (JSON
	// lines, actions.go), read back at start; "": kept in memory only.
	ActionLog string
}

// Console is the web console. Its one lock, mu, guards the action log
// and is taken alone.
type Console struct {
	o      Options
	adm    groupadmin.Admin
	cc     *ccclient.Client
	remote *http.Client
	pages  pages
	secret []byte

	mu      sync.Mutex
	actions []Action // newest last, at most maxActions
	logErr  bool     // an append to ActionLog failed (logged once)
}

// Action is one destructive action taken through the console.
type Action struct {
	At     time.Time `json:"at"`
	What   string    `json:"what"` // "create topic", "delete topic", ...
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"`
	Remote string    `json:"remote"` // the client's address
	Err    string    `json:"error,omitempty"`
}

const maxActions = 200

// New returns a Console; register its Handler under Prefix.
func New(o Options) (*Console, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	ps, err := parsePages()
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	cc := &ccclient.Client{Base: "http://collector", HTTP: &http.Client{Transport: handlerTransport{o.API}}, Poll: 200 * time.Millisecond}
	c := &Console{o: o, adm: groupadmin.New(o.Client), cc: cc, remote: &http.Client{Timeout: 5 * time.Second},
		pages: ps, secret: secret}
	if o.ActionLog != "" {
		var err error
		if c.actions, err = loadActions(o.ActionLog); err != nil {
			o.Logger.Error("console: the action log", "path", o.ActionLog, "err", err)
		}
	}
	return c, nil
}

// handlerTransport calls an http.Handler in process, so the console uses
// the collector's API (and its ccclient decoding) without a socket.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.h == nil {
		return nil, errors.New("the collector's API is not wired to the console")
	}
	// A client request becomes a server one: a body (empty for a bodiless
	// POST, as a socket gives it) and the request URI.
	sr := r.Clone(r.Context())
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	sr.RequestURI, sr.RemoteAddr = r.URL.RequestURI(), "console"
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	t.h.ServeHTTP(rec, sr)
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", rec.status, http.StatusText(rec.status)),
		StatusCode: rec.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.header, Body: io.NopCloser(&rec.body), ContentLength: int64(rec.body.Len()),
		Request: r,
	}, nil
}

// recorder is the http.ResponseWriter handlerTransport hands the API: it
// keeps the status, the headers and the body for the response.
type recorder struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.body.Write(b)
}

// Handler serves every page under Prefix. POSTs must come from the
// console's own pages: same origin (Sec-Fetch-Site/Origin, Go's
// CrossOriginProtection) and the form's token.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	get := func(path string, h func(w http.ResponseWriter, r *http.Request) error) {
		mux.HandleFunc("GET "+Prefix+strings.TrimPrefix(path, "/"), c.wrap(h))
	}
	post := func(path string, h func(w http.ResponseWriter, r *http.Request) error) {
		mux.HandleFunc("POST "+Prefix+strings.TrimPrefix(path, "/"), c.wrap(c.checkPost(h)))
	}
	mux.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix, http.FileServerFS(staticFS)))
	get("{$}", c.overview)
	get("load", c.load)
	get("topics", c.topics)
	post("topics", c.createTopic)
	get("topics/{name}", c.topic)
	post("topics/{name}/config", c.alterTopicConfig)
	post("topics/{name}/delete", c.deleteTopic)
	get("topics/{name}/messages", c.messages)
	get("topics/{name}/search", c.search)
	get("groups", c.groups)
	get("groups/{name}", c.group)
	post("groups/{name}/reset", c.resetGroup)
	get("rebalance", c.rebalance)
	post("rebalance/execute", c.executeRebalance)
	post("rebalance/stop", c.stopRebalance)
	get("anomalies", c.anomalies)
	get("operations", c.operations)
	get("autoscaler", c.autoscaler)
	mux.HandleFunc(Prefix, c.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return notFound("no page %s", r.URL.Path)
	}))
	return http.NewCrossOriginProtection().Handler(mux)
}

// wrap renders a handler's error as a page: 400 for bad parameters, 404,
// 409, 502 when the cluster or a service answered with an error; a panic
// is a 500 page, never a dead connection.
func (c *Console) wrap(h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				c.o.Logger.Error("console: panic", "path", r.URL.Path, "panic", v)
				c.renderError(w, r, http.StatusInternalServerError, fmt.Errorf("internal error: %v", v))
			}
		}()
		if err := h(w, r); err != nil {
			c.renderError(w, r, statusOf(err), err)
		}
	}
}

// pageError is an error with the HTTP status its page gets.
type pageError struct {
	status int
	msg    string
}

func (e *pageError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &pageError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &pageError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

func forbidden(format string, args ...any) error {
	return &pageError{http.StatusForbidden, fmt.Sprintf(format, args...)}
}

func statusOf(err error) int {
	var pe *pageError
	if errors.As(err, &pe) {
		return pe.status
	}
	var ae *ccclient.Error // the collector's API refused: its status
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 600 {
		return ae.Status
	}
	return http.StatusBadGateway
}

// token is the form token: an HMAC of the process's random secret, so a
// page from another origin cannot know it.
func (c *Console) token() string {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte("weir-console-form"))
	return hex.EncodeToString(m.Sum(nil))
}

// checkPost refuses a POST without the console's token.
func (c *Console) checkPost(h func(w http.ResponseWriter, r *http.Request) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			return badRequest("reading the form: %v", err)
		}
		if !hmac.Equal([]byte(r.PostForm.Get("token")), []byte(c.token())) {
			return forbidden("the form's token is missing or wrong: reload the page and submit again")
		}
		return h(w, r)
	}
}

// record logs a destructive action and keeps it for the operations page.
func (c *Console) record(r *http.Request, what, target, detail string, err error) {
	a := Action{At: c.o.Now(), What: what, Target: target, Detail: detail, Remote: r.RemoteAddr}
	if err != nil {
		a.Err = err.Error()
	}
	c.o.Logger.Info("console action", "what", what, "target", target, "detail", detail, "remote", r.RemoteAddr, "err", a.Err)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.o.ActionLog != "" {
		if err := appendAction(c.o.ActionLog, a); err != nil && !c.logErr {
			c.o.Logger.Error("console: the action log (further failures are not logged)", "err", err)
			c.logErr = true
		}
	}
	c.actions = append(c.actions, a)
	if len(c.actions) > maxActions {
		c.actions = c.actions[len(c.actions)-maxActions:]
	}
}

// Actions returns the actions taken, newest first.
func (c *Console) Actions() []Action {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Action, len(c.actions))
	for i, a := range c.actions {
		out[len(out)-1-i] = a
	}
	return out
}

// ctx bounds one page's requests.
func (c *Console) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), c.o.Timeout)
}

// seeOther redirects after a POST.
func seeOther(w http.ResponseWriter, r *http.Request, path string) error {
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

package server

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/acl"
	"github.com/weirhq/weir/broker/config"
	"github.com/weirhq/weir/broker/protocol"
	"github.com/weirhq/weir/broker/sasl"
	"github.com/weirhq/weir/internal/ratelog"
	"github.com/weirhq/weir/internal/tlsconfig"
)

// Security on the broker's connections (docs/SECURITY.md): each listener
// has Kafka's security protocol; a connection on an SSL or SASL_SSL
// listener is wrapped in TLS (internal/tlsconfig, certificates re-read
// when their files change), one on a SASL_* listener authenticates with
// SaslHandshake and SaslAuthenticate (broker/sasl) before anything but
// ApiVersions is served. Each connection then has a principal and a
// client address, which authz.go authorizes each request for.

// brokerListener is one bound listener.
type brokerListener struct {
	cfg      config.Listener
	protocol string // PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
	ln       net.Listener
	tls      *tlsconfig.Server // SSL and SASL_SSL
	mechs    []string          // SASL_*
}

// session is one connection's security state.
type session struct {
	listener *brokerListener
	host     string // the client's IP address
	// principal is User:ANONYMOUS on PLAINTEXT, the certificate's on
	// SSL, the SASL user's once authenticated.
	principal string
	auth      *sasl.Authenticator // SASL_* listeners
	// files: a plaintext TCP connection's Fetch record sets sent from
	// their segment files (01_fetch.go); nil on TLS.
	files *fetchFiles
}

// handshakeTimeout bounds a TLS handshake (an idle client must not hold
// a goroutine forever).
const handshakeTimeout = 10 * time.Second

// newListenerSecurity prepares a listener's TLS server.
func (b *Broker) newListenerSecurity(l *brokerListener) error {
	l.protocol = b.cfg.SecurityProtocol(l.cfg.Name)
	if tc, ok := b.cfg.Security.TLS[l.cfg.Name]; ok {
		srv, err := tlsconfig.NewServer(tc, tlsconfig.Options{OnReloadError: func(path string, err error) {
			b.logger.Warn("a changed certificate file could not be read; the previous one stays in use", "listener", l.cfg.Name, "path", path, "err", err)
		}})
		if err != nil {
			return fmt.Errorf("listener %s: %w", l.cfg.Name, err)
		}
		l.tls = srv
	}
	l.mechs = b.cfg.Security.Mechanisms[l.cfg.Name]
	return nil
}

// setupAuthorizer builds the authorizer when authorizer.class.name is set.
func (b *Broker) setupAuthorizer() {
	b.authLog = ratelog.New(time.Minute)
	if !b.cfg.Security.Authorizer {
		return
	}
	b.authz = acl.NewAuthorizer(acl.Config{SuperUsers: b.cfg.Security.SuperUsers, AllowIfNoACL: b.cfg.Security.AllowEveryoneIfNoACL})
	if b.cfg.SecurityProtocol(b.cfg.InterBrokerListenerName) == "PLAINTEXT" && !b.cfg.Security.AllowEveryoneIfNoACL &&
		!b.authz.IsSuperUser(tlsconfig.Anonymous) {
		// Brokers reach each other (and this one itself, registering with
		// the controller) as User:ANONYMOUS there: they would be refused
		// CLUSTER_ACTION and never become ready.
		b.logger.Warn("the inter-broker listener is PLAINTEXT and User:ANONYMOUS is not in super.users: brokers will be refused registration and replication; use an SSL inter-broker listener with the brokers' certificate principals in super.users",
			"inter.broker.listener.name", b.cfg.InterBrokerListenerName)
	}
}

// imageCredentials reads SCRAM credentials from the current metadata
// image at each lookup, so a conversation sees the credentials of when it
// runs, not of when the connection was accepted.
type imageCredentials struct{ b *Broker }

func (ic imageCredentials) Credential(m sasl.Mechanism, user string) (sasl.Credential, bool) {
	return ic.b.node.Image().Credential(m, user)
}

// openSession runs a new connection's TLS handshake (on SSL and
// SASL_SSL listeners) and returns the connection to serve and its
// session; an error means the connection is to be closed.
func (b *Broker) openSession(c net.Conn, l *brokerListener) (net.Conn, *session, error) {
	s := &session{listener: l, principal: tlsconfig.Anonymous}
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		s.host = ta.IP.String()
	}
	if l.tls != nil {
		tc := tls.Server(c, l.tls.TLSConfig())
		ctx, cancel := context.WithTimeout(b.ctx, handshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			b.authFailed(s, "tls handshake", err)
			return nil, nil, err
		}
		principal, err := l.tls.Principal(tc.ConnectionState())
		if err != nil {
			b.authFailed(s, "ssl.principal.mapping.rules", err)
			return nil, nil, err
		}
		if l.protocol == "SSL" {
			s.principal = principal
			b.metrics.AuthSuccess.WithLabelValues(l.cfg.Name).Inc()
		}
		c = tc
	}
	if config.UsesSASL(l.protocol) {
		s.principal = ""
		s.auth = sasl.NewAuthenticator(l.mechs, sasl.Options{Credentials: imageCredentials{b}}, b.cfg.Security.MaxReauth)
	}
	return c, s, nil
}

// authFailed counts a failed authentication (Kafka's
// failed-authentication-total) and logs it, one line per listener and
// reason a minute.
func (b *Broker) authFailed(s *session, what string, err error) {
	b.metrics.AuthFailure.WithLabelValues(s.listener.cfg.Name).Inc()
	reason := err.Error()
	var se *sasl.Error
	if errors.As(err, &se) && se.Reason != "" {
		reason = se.Reason
	}
	key := s.listener.cfg.Name + "|" + what
	if ok, held := b.authLog.Allow(key); ok {
		b.logger.Warn("authentication failed", "listener", s.listener.cfg.Name, "remote", s.host, "stage", what,
			"reason", reason, "similar_failures_not_logged", held)
	}
}

// mayStreamRaft reports whether a connection may hand itself to the
// metadata quorum's transport: only on the inter-broker listener, not a
// SASL one, and only for a principal allowed CLUSTER_ACTION.
func (b *Broker) mayStreamRaft(s *session) bool {
	if s.listener.cfg.Name != b.cfg.InterBrokerListenerName || s.auth != nil {
		return false
	}
	return b.authz == nil || b.authz.Allowed(s.principal, s.host, acl.OpClusterAction, acl.ResourceCluster, acl.ClusterName)
}

// authenticate runs SASL for a request on a SASL connection before it is
// dispatched: serve is true when the request is to be handled as usual;
// otherwise resp (if any) is the answer and closeErr, if set, closes the
// connection after it.
func (b *Broker) authenticate(s *session, req protocol.Request) (serve bool, resp kmsg.Response, closeErr error) {
	now := time.Now() // session lifetimes are wall-clock, like socket deadlines
	action, err := s.auth.Route(req.Key, now)
	switch action {
	case sasl.Serve:
		return true, nil, nil
	case sasl.Handshake:
		r := req.Body.(*kmsg.SASLHandshakeRequest)
		out := r.ResponseKind().(*kmsg.SASLHandshakeResponse)
		mechs, err := s.auth.Handshake(r.Mechanism, req.Version)
		out.SupportedMechanisms = mechs
		if err != nil {
			out.ErrorCode = kerr.UnsupportedSaslMechanism.Code
			b.authFailed(s, "sasl handshake", err)
			return false, out, err
		}
		return false, out, nil
	case sasl.Authenticate:
		r := req.Body.(*kmsg.SASLAuthenticateRequest)
		out := r.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		reply, lifetime, err := s.auth.Authenticate(r.SASLAuthBytes, req.Version, now)
		if err != nil {
			b.saslError(out, err)
			b.authFailed(s, "sasl "+s.auth.Mechanism(), err)
			return false, out, err
		}
		out.SASLAuthBytes = reply
		out.SessionLifetimeMillis = lifetime.Milliseconds()
		b.saslDone(s)
		return false, out, nil
	case sasl.RespondError, sasl.RespondErrorAndClose:
		resp := saslErrorResponse(req, err)
		if action == sasl.RespondErrorAndClose {
			b.authFailed(s, "sasl state", err)
			return false, resp, err
		}
		return false, resp, nil
	}
	b.authFailed(s, "sasl state", err)
	return false, nil, err
}

// saslDone notes a completed authentication.
func (b *Broker) saslDone(s *session) {
	if s.auth.Authenticated() {
		s.principal = s.auth.Principal()
		b.metrics.AuthSuccess.WithLabelValues(s.listener.cfg.Name).Inc()
	}
}

func (b *Broker) saslError(out *kmsg.SASLAuthenticateResponse, err error) {
	var se *sasl.Error
	if errors.As(err, &se) {
		out.ErrorCode, out.ErrorMessage = se.Code.Code, strPtr(se.Message)
		return
	}
	out.ErrorCode, out.ErrorMessage = kerr.SaslAuthenticationFailed.Code, strPtr(err.Error())
}

// saslErrorResponse answers a request refused by Route: a SASL request
// with the error; another (one sent in place of SaslAuthenticate, which
// Kafka answers before closing) with its own response carrying it, as
// Kafka's getErrorResponse builds it (nil: the connection closes
// unanswered).
func saslErrorResponse(req protocol.Request, err error) kmsg.Response {
	code, msg := kerr.IllegalSaslState.Code, err.Error()
	var se *sasl.Error
	if errors.As(err, &se) {
		code, msg = se.Code.Code, se.Message
	}
	switch r := req.Body.(type) {
	case *kmsg.SASLHandshakeRequest:
		out := r.ResponseKind().(*kmsg.SASLHandshakeResponse)
		out.ErrorCode = code
		return out
	case *kmsg.SASLAuthenticateRequest:
		out := r.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		out.ErrorCode, out.ErrorMessage = code, &msg
		return out
	}
	return errorResponse(req.Body, code)
}

// rawToken serves one SASL token sent bare after a v0 SaslHandshake
// (frames without a request header, answered the same way); false closes
// the connection.
func (b *Broker) rawToken(c net.Conn, s *session, token []byte) bool {
	reply, _, err := s.auth.Authenticate(token, 0, time.Now())
	if err != nil {
		b.authFailed(s, "sasl "+s.auth.Mechanism(), err)
		return false
	}
	b.saslDone(s)
	out := make([]byte, 4+len(reply))
	binary.BigEndian.PutUint32(out, uint32(len(reply)))
	copy(out[4:], reply)
	_, err = c.Write(out)
	return err == nil
}

// handleSaslOffListener answers SaslHandshake and SaslAuthenticate on a
// listener without SASL as Kafka does: ILLEGAL_SASL_STATE.
func handleSaslOffListener(req protocol.Request) kmsg.Response {
	return saslErrorResponse(req, &sasl.Error{Code: kerr.IllegalSaslState, Message: "SASL is not enabled on this listener"})
}

// localizeEndpoints gives the brokers' addresses on the connection's
// listener in the responses that carry them: a client of the SASL_SSL
// listener must be sent to the other brokers' SASL_SSL listeners, not
// to the inter-broker one registered as their Host and Port.
func (b *Broker) localizeEndpoints(s *session, resp kmsg.Response) {
	name := s.listener.cfg.Name
	if name == b.cfg.InterBrokerListenerName {
		return
	}
	img := b.node.Image()
	endpoint := func(id int32, host *string, port *int32) {
		if br, ok := img.Broker(id); ok {
			*host, *port = br.Endpoint(name)
		}
		if id == b.cfg.NodeID {
			l := b.advertisedListener(name)
			*host, *port = l.Host, int32(l.Port)
		}
	}
	switch r := resp.(type) {
	case *kmsg.MetadataResponse:
		for i := range r.Brokers {
			endpoint(r.Brokers[i].NodeID, &r.Brokers[i].Host, &r.Brokers[i].Port)
		}
	case *kmsg.DescribeClusterResponse:
		for i := range r.Brokers {
			endpoint(r.Brokers[i].NodeID, &r.Brokers[i].Host, &r.Brokers[i].Port)
		}
	case *kmsg.FindCoordinatorResponse:
		if r.ErrorCode == 0 && r.NodeID >= 0 && r.Host != "" {
			endpoint(r.NodeID, &r.Host, &r.Port)
		}
		for i := range r.Coordinators {
			if c := &r.Coordinators[i]; c.ErrorCode == 0 && c.NodeID >= 0 {
				endpoint(c.NodeID, &c.Host, &c.Port)
			}
		}
	}
}

// setupPeerTLS prepares this broker's side of TLS to the other brokers
// when the inter-broker listener is SSL: the listener's keystore is the
// client certificate (its subject the brokers' principal, to list in
// super.users), its truststore verifies the peer (replication, the
// lifecycle's requests to the controller, forwarding, the raft stream).
func (b *Broker) setupPeerTLS() error {
	name := b.cfg.InterBrokerListenerName
	if !config.UsesTLS(b.cfg.SecurityProtocol(name)) {
		return nil
	}
	tc := b.cfg.Security.TLS[name]
	cl, err := tlsconfig.NewClient(tc, tlsconfig.Options{OnReloadError: func(path string, err error) {
		b.logger.Warn("a changed certificate file could not be read; the previous one stays in use", "listener", name, "path", path, "err", err)
	}})
	if err != nil {
		return fmt.Errorf("inter.broker.listener.name %s: %w", name, err)
	}
	b.peerDial = cl.DialContext
	return nil
}

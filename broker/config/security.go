package config

import (
	"strings"
	"time"

	"github.com/weirhq/weir/broker/acl"
	"github.com/weirhq/weir/broker/sasl"
	"github.com/weirhq/weir/internal/tlsconfig"
)

// Security is what the broker's connections and authorizer are
// configured with (docs/SECURITY.md).
type Security struct {
	// TLS is the ssl.* configuration of each SSL and SASL_SSL listener,
	// by listener name (listener.name.<name>.ssl.* over ssl.*).
	TLS map[string]tlsconfig.Config
	// Mechanisms are the SASL mechanisms of each SASL_PLAINTEXT and
	// SASL_SSL listener (listener.name.<name>.sasl.enabled.mechanisms over
	// sasl.enabled.mechanisms).
	Mechanisms map[string][]string
	// MaxReauth is connections.max.reauth.ms (0: sessions do not expire).
	MaxReauth time.Duration
	// Authorizer is true when authorizer.class.name is set: ACLs are
	// enforced.
	Authorizer bool
	// SuperUsers is super.users.
	SuperUsers []string
	// AllowEveryoneIfNoACL is allow.everyone.if.no.acl.found; unset, it is
	// true when every listener is PLAINTEXT (nobody is authenticated, so
	// nothing could be told apart) and false otherwise.
	AllowEveryoneIfNoACL bool
}

// UsesTLS reports whether a security protocol runs over TLS.
func UsesTLS(protocol string) bool { return protocol == "SSL" || protocol == "SASL_SSL" }

// UsesSASL reports whether a security protocol authenticates with SASL.
func UsesSASL(protocol string) bool { return protocol == "SASL_PLAINTEXT" || protocol == "SASL_SSL" }

func (c *Config) buildSecurity(v values) error {
	s := &c.Security
	s.TLS = map[string]tlsconfig.Config{}
	s.Mechanisms = map[string][]string{}
	allPlaintext := true
	for _, l := range c.Listeners {
		proto := c.SecurityProtocol(l.Name)
		if proto != "PLAINTEXT" {
			allPlaintext = false
		}
		if UsesTLS(proto) {
			tc, err := tlsconfig.FromProperties(c.Raw, l.Name)
			if err != nil {
				return v.fail("listeners", "listener %s (%s): %v", l.Name, proto, err)
			}
			if tc.KeystoreLocation == "" && tc.KeystoreCertificateChain == "" {
				return v.fail("listeners", "listener %s is %s but has no certificate: set ssl.keystore.location (or listener.name.%s.ssl.keystore.location)", l.Name, proto, strings.ToLower(l.Name))
			}
			s.TLS[l.Name] = tc
		}
		if UsesSASL(proto) {
			key := "sasl.enabled.mechanisms"
			raw := v.str(key)
			if o, ok := c.Raw["listener.name."+strings.ToLower(l.Name)+"."+key]; ok {
				key, raw = "listener.name."+strings.ToLower(l.Name)+"."+key, o
			}
			mechs, err := sasl.ParseEnabledMechanisms(raw)
			if err != nil {
				return v.fail(key, "%s", strings.TrimPrefix(err.Error(), "sasl.enabled.mechanisms: "))
			}
			if len(mechs) == 0 {
				return v.fail(key, "listener %s is %s but no SASL mechanism is enabled", l.Name, proto)
			}
			s.Mechanisms[l.Name] = mechs
		}
	}
	if p := c.SecurityProtocol(c.InterBrokerListenerName); UsesSASL(p) {
		return v.fail("inter.broker.listener.name", "%s is %s: brokers authenticate to each other with their TLS certificates, so the inter-broker listener must be PLAINTEXT or SSL (with ssl.client.auth=required and the brokers' principals in super.users)", c.InterBrokerListenerName, p)
	}
	s.MaxReauth = v.ms("connections.max.reauth.ms")
	s.Authorizer = v.str("authorizer.class.name") != ""
	s.SuperUsers = acl.ParseSuperUsers(v.str("super.users"))
	s.AllowEveryoneIfNoACL = allPlaintext
	if v.has("allow.everyone.if.no.acl.found") {
		s.AllowEveryoneIfNoACL = v.bool("allow.everyone.if.no.acl.found")
	}
	return nil
}

package config

import (
	"strings"
	"testing"
	"time"
)

func TestSecurityKeys(t *testing.T) {
	c := parse(t, `listeners=PLAINTEXT://:9092,SASL_SSL://:9093,SSL://:9094
ssl.keystore.location=/etc/weir/broker.keystore.pem
ssl.truststore.location=/etc/weir/ca.pem
listener.name.ssl.ssl.client.auth=required
sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
connections.max.reauth.ms=60000
super.users=User:admin;User:CN=broker
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
`, nil)
	s := c.Security
	if !s.Authorizer || s.AllowEveryoneIfNoACL || s.MaxReauth != time.Minute {
		t.Errorf("authorizer %v, allow.everyone %v, reauth %v", s.Authorizer, s.AllowEveryoneIfNoACL, s.MaxReauth)
	}
	if len(s.SuperUsers) != 2 || s.SuperUsers[1] != "User:CN=broker" {
		t.Errorf("super users %q", s.SuperUsers)
	}
	if got := s.TLS["SSL"].ClientAuth; got != "required" {
		t.Errorf("SSL listener's client auth %q, want the listener.name override", got)
	}
	if got := s.TLS["SASL_SSL"].ClientAuth; got != "none" {
		t.Errorf("SASL_SSL listener's client auth %q", got)
	}
	if got := strings.Join(s.Mechanisms["SASL_SSL"], ","); got != "SCRAM-SHA-512,PLAIN" {
		t.Errorf("mechanisms %s", got)
	}
	if _, ok := s.TLS["PLAINTEXT"]; ok {
		t.Error("PLAINTEXT has TLS")
	}
	// All PLAINTEXT: nobody can be told apart, so no ACL means allowed.
	if c := parse(t, "authorizer.class.name=weir\n", nil); !c.Security.AllowEveryoneIfNoACL {
		t.Error("all-PLAINTEXT default of allow.everyone.if.no.acl.found is false")
	}
}

func TestSecurityErrorsNameTheKey(t *testing.T) {
	for text, want := range map[string]string{
		"sasl.enabled.mechanisms=GSSAPI\n":                                      "sasl.enabled.mechanisms",
		"authorizer.class.name=kafka.Foo\n":                                     "authorizer.class.name",
		"ssl.keystore.type=JKS\n":                                               "ssl.keystore.type",
		"listeners=SSL://:9093\n":                                               "ssl.keystore.location",
		"listeners=SSL://:9093\nssl.keystore.location=/k\nssl.key.password=x\n": "ssl.key.password",
		"listeners=SASL_SSL://:9093,SSL://:9094\nssl.keystore.location=/k\n":    "inter.broker.listener.name",
		"listeners=SASL_PLAINTEXT://:1,PLAINTEXT://:2\nlistener.name.sasl_plaintext.sasl.enabled.mechanisms=NOPE\n": "listener.name.sasl_plaintext.sasl.enabled.mechanisms",
		"ssl.client.auth=maybe\n":         "ssl.client.auth",
		"connections.max.reauth.ms=-1\n":  "connections.max.reauth.ms",
		"ssl.enabled.protocols=TLSv1.1\n": "ssl.enabled.protocols",
	} {
		_, err := Parse(strings.NewReader(text), "t", nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", text, err, want)
		}
	}
}

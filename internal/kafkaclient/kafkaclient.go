// Package kafkaclient turns a Kafka client config file — the Java
// properties form `--command-config` reads and `weir up --secure` writes
// (security.protocol, sasl.mechanism with sasl.jaas.config or
// sasl.username/sasl.password, ssl.truststore.location and
// ssl.keystore.location as PEM, ssl.endpoint.identification.algorithm) —
// into franz-go client options: a TLS dialer (internal/tlsconfig, so
// certificates rotated on disk are picked up) and a SASL mechanism.
//
// The weir CLI, the agent, the collector and weir up's supervisor share
// it; it imports nothing under broker/, so the agent, the collector and
// the autoscaler reach secure brokers through the Kafka protocol only.
package kafkaclient

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/weirhq/weir/internal/tlsconfig"
)

// Load reads the client config at path and returns its kgo options. An
// empty path is no options (PLAINTEXT).
func Load(path string) ([]kgo.Opt, error) {
	if path == "" {
		return nil, nil
	}
	props, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	opts, err := Options(props)
	if err != nil {
		return nil, fmt.Errorf("client config %s: %w", path, err)
	}
	return opts, nil
}

// ReadFile reads a properties file (Read).
func ReadFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the client config: %w", err)
	}
	defer f.Close()
	props, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("reading the client config %s: %w", path, err)
	}
	return props, nil
}

// Read reads the subset of the .properties format Kafka's client configs
// use: key=value or key: value lines, # and ! comments, backslash escapes
// and line continuations.
func Read(r io.Reader) (map[string]string, error) {
	props := map[string]string{}
	sc := bufio.NewScanner(r)
	var logical string
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t")
		if logical == "" && (line == "" || line[0] == '#' || line[0] == '!') {
			continue
		}
		if strings.HasSuffix(line, `\`) && !strings.HasSuffix(line, `\\`) {
			logical += strings.TrimSuffix(line, `\`)
			continue
		}
		logical += line
		i := strings.IndexAny(logical, "=:")
		if i < 0 {
			props[unescape(strings.TrimSpace(logical))] = ""
		} else {
			props[unescape(strings.TrimSpace(logical[:i]))] = unescape(strings.TrimLeft(logical[i+1:], " \t"))
		}
		logical = ""
	}
	return props, sc.Err()
}

func unescape(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\t`, "\t", `\r`, "\r", `\ `, " ", `\=`, "=", `\:`, ":").Replace(s)
}

var (
	jaasUser = regexp.MustCompile(`username\s*=\s*"([^"]*)"`)
	jaasPass = regexp.MustCompile(`password\s*=\s*"([^"]*)"`)
)

// Options turns a client config's security keys into kgo options.
func Options(props map[string]string) ([]kgo.Opt, error) {
	protocol := strings.ToUpper(props["security.protocol"])
	if protocol == "" {
		protocol = "PLAINTEXT"
	}
	var opts []kgo.Opt
	switch protocol {
	case "PLAINTEXT", "SASL_PLAINTEXT":
	case "SSL", "SASL_SSL":
		cfg, err := tlsconfig.FromProperties(props, "")
		if err != nil {
			return nil, err
		}
		c, err := tlsconfig.NewClient(cfg, tlsconfig.Options{})
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.Dialer(c.DialContext))
	default:
		return nil, fmt.Errorf("security.protocol=%s: want PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL", protocol)
	}
	if !strings.HasPrefix(protocol, "SASL_") {
		return opts, nil
	}
	mech, err := mechanism(protocol, props)
	if err != nil {
		return nil, err
	}
	return append(opts, kgo.SASL(mech)), nil
}

// mechanism is the SASL mechanism with the config's user and password.
func mechanism(protocol string, props map[string]string) (sasl.Mechanism, error) {
	user, pass := props["sasl.username"], props["sasl.password"]
	if m := jaasUser.FindStringSubmatch(props["sasl.jaas.config"]); m != nil {
		user = m[1]
	}
	if m := jaasPass.FindStringSubmatch(props["sasl.jaas.config"]); m != nil {
		pass = m[1]
	}
	if user == "" || pass == "" {
		return nil, fmt.Errorf("security.protocol=%s needs a user and password (sasl.jaas.config or sasl.username/sasl.password)", protocol)
	}
	switch props["sasl.mechanism"] {
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(), nil
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	}
	return nil, fmt.Errorf("sasl.mechanism=%q: want SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN", props["sasl.mechanism"])
}

package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/weirhq/weir/internal/tlsconfig"
)

// A client config (--command-config, as Kafka's tools take it) is a Java
// properties file with a client's security keys: security.protocol,
// sasl.mechanism and sasl.jaas.config (or sasl.username and
// sasl.password), ssl.truststore.location and ssl.keystore.location (PEM),
// ssl.endpoint.identification.algorithm. `weir up --secure` writes one.

// readProperties reads the subset of the .properties format Kafka's
// client configs use: key=value or key: value lines, # and ! comments,
// backslash escapes and line continuations.
func readProperties(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	props := map[string]string{}
	sc := bufio.NewScanner(f)
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
			props[unescapeProp(strings.TrimSpace(logical))] = ""
		} else {
			props[unescapeProp(strings.TrimSpace(logical[:i]))] = unescapeProp(strings.TrimLeft(logical[i+1:], " \t"))
		}
		logical = ""
	}
	return props, sc.Err()
}

func unescapeProp(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\t`, "\t", `\r`, "\r", `\ `, " ", `\=`, "=", `\:`, ":").Replace(s)
}

var (
	jaasUser = regexp.MustCompile(`username\s*=\s*"([^"]*)"`)
	jaasPass = regexp.MustCompile(`password\s*=\s*"([^"]*)"`)
)

// securityOpts turns a client config into kgo options.
func securityOpts(props map[string]string) ([]kgo.Opt, error) {
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
	var mech sasl.Mechanism
	switch props["sasl.mechanism"] {
	case "SCRAM-SHA-512":
		mech = scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
	case "SCRAM-SHA-256":
		mech = scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	case "PLAIN":
		mech = plain.Auth{User: user, Pass: pass}.AsMechanism()
	default:
		return nil, fmt.Errorf("sasl.mechanism=%q: want SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN", props["sasl.mechanism"])
	}
	return append(opts, kgo.SASL(mech)), nil
}

package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Listener is one entry of listeners or advertised.listeners:
// NAME://host:port. Name is the listener name, upper-cased; it is also the
// security protocol unless listener.security.protocol.map maps it.
type Listener struct {
	Name string
	Host string // "" binds every interface
	Port int
}

// Addr returns host:port, bracketing IPv6 hosts.
func (l Listener) Addr() string { return net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) }

// String returns the NAME://host:port form.
func (l Listener) String() string { return l.Name + "://" + l.Addr() }

// ParseListener parses NAME://host:port; host may be empty or a bracketed
// IPv6 address.
func ParseListener(s string) (Listener, error) {
	s = strings.TrimSpace(s)
	name, addr, ok := strings.Cut(s, "://")
	if !ok || !validListenerName(name) {
		return Listener{}, fmt.Errorf("%q is not a listener (want NAME://host:port)", s)
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return Listener{}, fmt.Errorf("%q is not a listener (want NAME://host:port)", s)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return Listener{}, fmt.Errorf("%q has a bad port %q (want 0-65535)", s, portStr)
	}
	return Listener{Name: strings.ToUpper(name), Host: host, Port: port}, nil
}

func validListenerName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		ok := c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// parseListeners parses a comma-separated listener list; an empty value is
// an empty list.
func parseListeners(v string) ([]Listener, error) {
	var out []Listener
	for _, s := range splitList(v) {
		l, err := ParseListener(s)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// checkListenerList is the table rule for listeners and advertised.listeners.
func checkListenerList(v string) string {
	items := splitList(v)
	for _, s := range items {
		if _, err := ParseListener(s); err != nil {
			reason := strings.TrimPrefix(err.Error(), strconv.Quote(s)+" ")
			if len(items) == 1 {
				return reason
			}
			return fmt.Sprintf("has %q, which %s", s, reason)
		}
	}
	return ""
}

// checkListeners checks the listener set as a whole: names and ports unique.
func checkListeners(ls []Listener) error {
	names := map[string]bool{}
	ports := map[int]string{}
	for _, l := range ls {
		if names[l.Name] {
			return fmt.Errorf("listener name %s is used twice", l.Name)
		}
		names[l.Name] = true
		if l.Port == 0 {
			continue // ephemeral ports never clash
		}
		if other, ok := ports[l.Port]; ok {
			return fmt.Errorf("port %d is used by both %s and %s", l.Port, other, l.Name)
		}
		ports[l.Port] = l.Name
	}
	return nil
}

// isWildcardHost reports whether host binds every interface.
func isWildcardHost(host string) bool { return host == "" || host == "0.0.0.0" || host == "::" }

// parseProtocolMap parses listener.security.protocol.map.
func parseProtocolMap(v string) (map[string]string, error) {
	m := map[string]string{}
	for _, item := range splitList(v) {
		name, proto, ok := strings.Cut(item, ":")
		name, proto = strings.ToUpper(strings.TrimSpace(name)), strings.ToUpper(strings.TrimSpace(proto))
		if !ok || !validListenerName(name) || !contains(securityProtocols, proto) {
			return nil, fmt.Errorf("entry %q is not NAME:PROTOCOL with PROTOCOL one of %s", item, strings.Join(securityProtocols, ", "))
		}
		m[name] = proto
	}
	return m, nil
}

func checkProtocolMap(v string) string {
	if _, err := parseProtocolMap(v); err != nil {
		return "has " + err.Error()
	}
	return ""
}

// checkAdminListener is the table rule for weir.admin.listener.
func checkAdminListener(v string) string {
	if v == "" || v == "off" {
		return ""
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return "is not host:port (or off)"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "has a bad port (want 0-65535)"
	}
	return ""
}

// checkDirList is the table rule for log.dirs: at least one dir, no repeats.
func checkDirList(v string) string {
	dirs := splitList(v)
	if len(dirs) == 0 {
		return "names no directory"
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		if seen[d] {
			return fmt.Sprintf("lists %q twice", d)
		}
		seen[d] = true
	}
	return ""
}

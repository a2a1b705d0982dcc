package api

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// params reads one request's query (and form) parameters the way Cruise
// Control does: names are case-insensitive, names the endpoint does not
// know are an error, and a bad value names the parameter.
type params struct {
	values map[string]string // lower-cased name → last value
}

// badRequest is an error the client caused: 400.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func userErr(format string, args ...any) error { return &badRequest{fmt.Sprintf(format, args...)} }

// parseParams checks the names against the endpoint's allowed ones.
func parseParams(endpoint, method string, q url.Values, allowed []string) (*params, error) {
	p := &params{values: map[string]string{}}
	var unknown []string
	for k, vs := range q {
		name := strings.ToLower(k)
		if !slices.Contains(allowed, name) && !slices.Contains(commonParams, name) {
			unknown = append(unknown, k)
			continue
		}
		p.values[name] = vs[len(vs)-1]
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, userErr("Unrecognized endpoint parameters in %s %s request: [%s].", endpoint, method, strings.Join(unknown, ", "))
	}
	return p, nil
}

// commonParams are accepted by every endpoint.
var commonParams = []string{"json", "get_response_schema", "doas", "reason"}

func (p *params) has(name string) bool { _, ok := p.values[name]; return ok }

func (p *params) str(name, def string) string {
	if v, ok := p.values[name]; ok {
		return v
	}
	return def
}

func (p *params) boolean(name string, def bool) (bool, error) {
	v, ok := p.values[name]
	if !ok || v == "" {
		return def, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, userErr("parameter %s: %q is not true or false", name, v)
}

// integer reads a non-negative integer; def when absent.
func (p *params) integer(name string, def int64) (int64, error) {
	v, ok := p.values[name]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, userErr("parameter %s: %q is not a non-negative integer", name, v)
	}
	return n, nil
}

// positive reads an integer > 0; 0 when absent.
func (p *params) positive(name string) (int, error) {
	n, err := p.integer(name, 0)
	if err != nil {
		return 0, err
	}
	if p.has(name) && n == 0 {
		return 0, userErr("parameter %s: must be positive", name)
	}
	return int(n), nil
}

// list splits a comma-separated value, dropping empty items.
func (p *params) list(name string) []string {
	var out []string
	for s := range strings.SplitSeq(p.values[name], ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// brokerIDs reads a comma-separated list of broker ids.
func (p *params) brokerIDs(name string) ([]int32, error) {
	var out []int32
	for _, s := range p.list(name) {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil || n < 0 {
			return nil, userErr("parameter %s: %q is not a broker id", name, s)
		}
		if !slices.Contains(out, int32(n)) {
			out = append(out, int32(n))
		}
	}
	return out, nil
}

// regex compiles a regular expression parameter (Java's syntax and Go's
// RE2 agree on what excluded_topics patterns use); nil when absent.
func (p *params) regex(name string) (*regexp.Regexp, error) {
	v := p.values[name]
	if v == "" {
		return nil, nil
	}
	re, err := regexp.Compile("^(?:" + v + ")$")
	if err != nil {
		return nil, userErr("parameter %s: %q is not a valid regular expression: %v", name, v, err)
	}
	return re, nil
}

package acl

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/internal/ddtest"
)

// TestScripts runs the scripts in testdata: Kafka's authorization rules
// as examples. Bindings and filters are written in their one-line form
// (ParseBinding, ParseFilter). Commands:
//
//	config [super-users=(User:a,User:b)] [allow-if-no-acl]
//	                                   a new authorizer over the same bindings
//	add                                CreateAcls: validate each binding (one a
//	ALLOW User:alice * READ TOPIC:LITERAL:orders   line) and add the valid ones
//	remove                             delete these exact bindings
//	authorize principal=User:alice host=10.0.0.1
//	READ TOPIC orders                  one question a line: OPERATION TYPE NAME
//	by-type principal=User:alice host=10.0.0.1
//	WRITE TOPIC                        AuthorizeByResourceType, a question a line
//	filter                             DescribeAcls: the bindings each filter
//	ANY null null ANY TOPIC:MATCH:orders  matches, and whether it names at most one
//	acls                               every binding
//	apis                               the permission matrix (APIs)
//	authorized-ops principal=User:a host=h
//	TOPIC orders                       AuthorizedOperations, a resource a line
//	reset                              no bindings, default config
//
// Run with -rewrite to regenerate the expected output.
func TestScripts(t *testing.T) {
	ddtest.Walk(t, "testdata", func(t *testing.T) ddtest.Handler {
		s := &aclScript{a: NewAuthorizer(Config{})}
		return s.run
	})
}

type aclScript struct {
	a        *Authorizer
	bindings []Binding
}

func (s *aclScript) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "config":
		var cfg Config
		d.MaybeScanArgs(t, "super-users", &cfg.SuperUsers)
		cfg.AllowIfNoACL = d.HasArg("allow-if-no-acl")
		s.a = NewAuthorizer(cfg)
		s.a.SetBindings(s.bindings)
		return ""
	case "add":
		var b strings.Builder
		for _, l := range ddtest.Lines(d.Input) {
			acl := parseBinding(t, l)
			if err := acl.Validate(); err != nil {
				fmt.Fprintf(&b, "%s: %s\n", l, renderErr(err))
				continue
			}
			s.bindings = append(s.bindings, acl)
		}
		s.a.SetBindings(s.bindings)
		if b.Len() == 0 {
			return "ok\n"
		}
		return b.String()
	case "remove":
		for _, l := range ddtest.Lines(d.Input) {
			acl := parseBinding(t, l)
			s.bindings = slices.DeleteFunc(s.bindings, func(b Binding) bool { return b == acl })
		}
		s.a.SetBindings(s.bindings)
		return "ok\n"
	case "authorize", "by-type":
		var principal, host string
		d.ScanArgs(t, "principal", &principal)
		d.ScanArgs(t, "host", &host)
		var b strings.Builder
		for _, l := range ddtest.Lines(d.Input) {
			f := strings.Fields(l)
			op, typ := ParseOperation(f[0]), ParseResourceType(f[1])
			if d.Cmd == "by-type" {
				fmt.Fprintf(&b, "%s: %s\n", l, verdict(s.a.AuthorizeByResourceType(principal, host, op, typ)))
				continue
			}
			if len(f) != 3 {
				t.Fatalf("%s: want OPERATION TYPE NAME, got %q", d.Pos, l)
			}
			r := s.a.Authorize(principal, host, op, typ, f[2])
			fmt.Fprintf(&b, "%s: %s (%s", l, verdict(r.Allowed), r.Reason)
			if r.Reason == ReasonAllowACL || r.Reason == ReasonDenyACL {
				fmt.Fprintf(&b, ": %s", r.Binding)
			}
			b.WriteString(")\n")
		}
		return b.String()
	case "filter":
		var b strings.Builder
		for _, l := range ddtest.Lines(d.Input) {
			f, err := ParseFilter(l)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Validate(); err != nil {
				fmt.Fprintf(&b, "%s: %s\n", l, renderErr(err))
				continue
			}
			why := f.IndefiniteField()
			if why == "" {
				why = "at most one"
			}
			fmt.Fprintf(&b, "%s: (%s)\n", l, why)
			for _, m := range sorted(s.a.Describe(f)) {
				fmt.Fprintf(&b, "  %s\n", m)
			}
		}
		return b.String()
	case "acls":
		var b strings.Builder
		for _, m := range sorted(s.a.Index().Bindings()) {
			fmt.Fprintf(&b, "%s\n", m)
		}
		return b.String()
	case "reset":
		s.a, s.bindings = NewAuthorizer(Config{}), nil
		return ""
	case "apis":
		var b strings.Builder
		for _, a := range APIs {
			b.WriteString(a.String())
		}
		return b.String()
	case "authorized-ops":
		var principal, host string
		d.ScanArgs(t, "principal", &principal)
		d.ScanArgs(t, "host", &host)
		var b strings.Builder
		for _, l := range ddtest.Lines(d.Input) {
			f := strings.Fields(l)
			typ := ParseResourceType(f[0])
			bits := s.a.AuthorizedOperations(principal, host, typ, f[1])
			var ops []string
			for _, op := range SupportedOperations(typ) {
				if bits&(1<<op) != 0 {
					ops = append(ops, op.String())
				}
			}
			fmt.Fprintf(&b, "%s: %d %v\n", l, bits, ops)
		}
		return b.String()
	}
	return ddtest.Unknown(t, d)
}

func parseBinding(t *testing.T, l string) Binding {
	t.Helper()
	b, err := ParseBinding(l)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func verdict(ok bool) string {
	if ok {
		return "allowed"
	}
	return "denied"
}

func sorted(bs []Binding) []string {
	out := make([]string, 0, len(bs))
	for _, b := range bs {
		out = append(out, b.String())
	}
	slices.Sort(out)
	return out
}

func renderErr(err error) string {
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return "error: " + err.Error()
	}
	return "error " + ke.Message + ": " + strings.TrimSuffix(err.Error(), ": "+ke.Error())
}

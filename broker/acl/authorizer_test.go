package acl

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// naive is Kafka's rule applied to every binding in turn, with no index:
// what the Index must agree with.
func naive(cfg Config, bindings []Binding, principal, host string, op Operation, typ ResourceType, name string) bool {
	for _, s := range cfg.SuperUsers {
		if s == principal {
			return true
		}
	}
	found, allowed := false, false
	for _, b := range bindings {
		r := b.Resource
		if r.Type != typ {
			continue
		}
		switch {
		case r.Pattern == PatternLiteral && (r.Name == name || r.Name == Wildcard):
		case r.Pattern == PatternPrefixed && strings.HasPrefix(name, r.Name):
		default:
			continue
		}
		found = true
		if b.Entry.Principal != principal && b.Entry.Principal != WildcardPrincipal {
			continue
		}
		switch applies(b.Entry, host, op) {
		case Deny:
			return false
		case Allow:
			allowed = true
		}
	}
	if !found {
		return cfg.AllowIfNoACL
	}
	return allowed
}

// TestIndexAgreesWithNaive checks Authorize against the rule applied
// binding by binding, over random ACL sets built from a small alphabet
// so that names, prefixes, principals and hosts collide often.
func TestIndexAgreesWithNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	names := func() string { return pick("a", "ab", "abc", "abd", "b", "ba", "*") }
	principals := []string{"User:x", "User:y", "User:*", "Svc:x"}
	hosts := []string{"*", "1.1.1.1", "2.2.2.2"}
	ops := []Operation{OpAll, OpRead, OpWrite, OpDescribe, OpAlter, OpAlterConfigs, OpDescribeConfigs, OpCreate}
	types := []ResourceType{ResourceTopic, ResourceGroup}
	for round := range 300 {
		var bindings []Binding
		for range rng.IntN(12) {
			b := Binding{
				Resource: Resource{Type: types[rng.IntN(2)], Name: names(), Pattern: PatternLiteral},
				Entry: Entry{Principal: pick(principals...), Host: pick(hosts...),
					Operation: ops[rng.IntN(len(ops))], Permission: Permission(2 + rng.IntN(2))},
			}
			if rng.IntN(2) == 0 && b.Resource.Name != Wildcard {
				b.Resource.Pattern = PatternPrefixed
			}
			bindings = append(bindings, b)
		}
		cfg := Config{AllowIfNoACL: round%2 == 0}
		if round%5 == 0 {
			cfg.SuperUsers = []string{"User:y"}
		}
		a := NewAuthorizer(cfg)
		a.SetBindings(bindings)
		for _, p := range principals[:2] {
			for _, h := range hosts[1:] {
				for _, op := range ops[1:] {
					for _, typ := range types {
						for _, n := range []string{"a", "ab", "abc", "abcd", "b", "bab", "c"} {
							want := naive(cfg, bindings, p, h, op, typ, n)
							if got := a.Allowed(p, h, op, typ, n); got != want {
								t.Fatalf("round %d: %s from %s %s %s:%s: got %v, want %v; bindings:\n%v",
									round, p, h, op, typ, n, got, want, bindings)
							}
						}
					}
				}
			}
		}
	}
}

func TestParseRoundTrip(t *testing.T) {
	for _, s := range []string{
		"ALLOW User:alice * READ TOPIC:LITERAL:orders",
		"DENY User:* 10.0.0.1 IDEMPOTENT_WRITE CLUSTER:LITERAL:kafka-cluster",
		"ALLOW User:bob * DESCRIBE GROUP:PREFIXED:grp:with:colons",
		"ALLOW User:t * TWO_PHASE_COMMIT TRANSACTIONAL_ID:LITERAL:tx",
	} {
		b, err := ParseBinding(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Validate(); err != nil {
			t.Errorf("%s: %v", s, err)
		}
		if b.String() != s {
			t.Errorf("round trip: %q became %q", s, b.String())
		}
	}
	if _, err := ParseBinding("ALLOW User:a READ TOPIC:LITERAL:x"); err == nil {
		t.Error("four fields parsed")
	}
	if _, err := ParseBinding("ALLOW User:a * READ TOPIC"); err == nil {
		t.Error("a resource without pattern and name parsed")
	}
}

// benchAuthorizer has n bindings spread over topics, prefixes, groups and
// principals, the shape of a large multi-tenant cluster.
func benchAuthorizer(n int) *Authorizer {
	var bindings []Binding
	for i := range n {
		b := Binding{
			Resource: Resource{Type: ResourceTopic, Name: fmt.Sprintf("tenant-%d.topic-%d", i%100, i), Pattern: PatternLiteral},
			Entry:    Entry{Principal: fmt.Sprintf("User:app-%d", i%500), Host: Wildcard, Operation: OpRead, Permission: Allow},
		}
		switch i % 10 {
		case 0:
			b.Resource.Name, b.Resource.Pattern = fmt.Sprintf("tenant-%d.", i%100), PatternPrefixed
		case 1:
			b.Resource.Type = ResourceGroup
		case 2:
			b.Entry.Permission = Deny
			b.Entry.Host = "10.1.2.3"
		case 3:
			b.Entry.Operation = OpWrite
		}
		bindings = append(bindings, b)
	}
	a := NewAuthorizer(Config{SuperUsers: []string{"User:admin"}})
	a.SetBindings(bindings)
	return a
}

func BenchmarkAuthorize(b *testing.B) {
	a := benchAuthorizer(10_000)
	cases := []struct {
		name, principal, topic string
		op                     Operation
	}{
		{"literal-allow", "User:app-4", "tenant-4.topic-4", OpRead},
		{"prefix-allow", "User:app-10", "tenant-10.anything", OpRead},
		{"implied-describe", "User:app-4", "tenant-4.topic-4", OpDescribe},
		{"no-match", "User:nobody", "tenant-4.topic-4", OpRead},
		{"no-acl", "User:app-4", "unrelated", OpRead},
		{"super-user", "User:admin", "tenant-4.topic-4", OpAlter},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a.Authorize(c.principal, "10.9.9.9", c.op, ResourceTopic, c.topic)
			}
		})
	}
}

func BenchmarkNewIndex(b *testing.B) {
	a := benchAuthorizer(10_000)
	bindings := a.Index().Bindings()
	b.ReportAllocs()
	for b.Loop() {
		NewIndex(bindings)
	}
}

// The permission matrix is well formed: keys ascending and unique, each
// check names at least one concrete permission, refusals that answer have
// an error and filtered ones none.
func TestAPIsTable(t *testing.T) {
	last := int16(-1)
	for _, a := range APIs {
		if a.Key <= last {
			t.Errorf("%s: key %d out of order", a.Name, a.Key)
		}
		last = a.Key
		for _, c := range a.Checks {
			if len(c.AnyOf) == 0 {
				t.Errorf("%s: a check with no permission", a.Name)
			}
			for _, n := range c.AnyOf {
				if !concrete(n.Op, n.Resource) || n.Op == OpAll {
					t.Errorf("%s: %s", a.Name, n)
				}
			}
			if (c.Scope == Filtered) != (c.Err == nil) {
				t.Errorf("%s: scope %s with error %v", a.Name, c.Scope, c.Err)
			}
		}
		if got, ok := ForKey(a.Key); !ok || got.Name != a.Name {
			t.Errorf("ForKey(%d)", a.Key)
		}
	}
	if _, ok := ForKey(999); ok {
		t.Error("ForKey(999)")
	}
}

func TestFollow(t *testing.T) {
	a := NewAuthorizer(Config{})
	b1, _ := ParseBinding("ALLOW User:a * READ TOPIC:LITERAL:t")
	acls := []Binding{b1}
	a.Follow(acls)
	first := a.Index()
	a.Follow(acls)
	if a.Index() != first {
		t.Fatal("the same slice rebuilt the index")
	}
	a.Follow(append([]Binding(nil), acls...)) // a new image with equal ACLs: rebuilt, still right
	if a.Index() == first || !a.Allowed("User:a", "h", OpRead, ResourceTopic, "t") {
		t.Fatal("a new slice was not followed")
	}
	a.Follow(nil)
	if a.Allowed("User:a", "h", OpRead, ResourceTopic, "t") {
		t.Fatal("emptied ACLs still allow")
	}
	empty := a.Index()
	a.Follow(nil)
	if a.Index() != empty {
		t.Fatal("nil twice rebuilt the index")
	}
}

package acl

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Reason says which rule decided an authorization.
type Reason int8

const (
	// ReasonSuperUser: the principal is in super.users.
	ReasonSuperUser Reason = iota
	// ReasonAllowACL: an ALLOW binding applies and no DENY does.
	ReasonAllowACL
	// ReasonDenyACL: a DENY binding applies.
	ReasonDenyACL
	// ReasonNoACL: no binding matches the resource at all, so the answer
	// is allow.everyone.if.no.acl.found.
	ReasonNoACL
	// ReasonNoMatch: bindings match the resource but none applies to this
	// principal, host and operation.
	ReasonNoMatch
	// ReasonInvalid: the question was malformed (a non-concrete
	// operation or resource type); always denied.
	ReasonInvalid
)

func (r Reason) String() string {
	return [...]string{"super user", "ALLOW ACL", "DENY ACL", "no ACL found", "no matching ACL", "invalid request"}[r]
}

// Result is an authorization's answer: whether it is allowed, why, and
// the binding that decided it (for ReasonAllowACL and ReasonDenyACL).
type Result struct {
	Allowed bool
	Reason  Reason
	Binding Binding
}

// Config is the authorizer's configuration, by Kafka's keys.
type Config struct {
	// SuperUsers (super.users) are principals allowed everything.
	SuperUsers []string
	// AllowIfNoACL (allow.everyone.if.no.acl.found) is the answer for a
	// resource no binding matches.
	AllowIfNoACL bool
}

// key locates the bindings on one resource pattern.
type key struct {
	typ     ResourceType
	pattern PatternType
	name    string
}

// node holds the bindings of one resource pattern by principal.
type node struct {
	byPrincipal map[string][]Binding
}

// Index is an immutable set of bindings arranged for Authorize: a map
// from (type, pattern, name) to the bindings on that pattern by
// principal, and per resource type the distinct lengths of its PREFIXED
// names, so a resource name is checked against each prefix length with
// one map lookup and no allocation.
type Index struct {
	nodes      map[key]*node
	prefixLens map[ResourceType][]int
	byType     map[ResourceType][]Binding
	bindings   []Binding
}

// NewIndex indexes bindings; duplicates count once.
func NewIndex(bindings []Binding) *Index {
	ix := &Index{
		nodes:      map[key]*node{},
		prefixLens: map[ResourceType][]int{},
		byType:     map[ResourceType][]Binding{},
	}
	seen := make(map[Binding]bool, len(bindings))
	for _, b := range bindings {
		if seen[b] {
			continue
		}
		seen[b] = true
		ix.bindings = append(ix.bindings, b)
		r := b.Resource
		k := key{r.Type, r.Pattern, r.Name}
		n := ix.nodes[k]
		if n == nil {
			n = &node{byPrincipal: map[string][]Binding{}}
			ix.nodes[k] = n
		}
		n.byPrincipal[b.Entry.Principal] = append(n.byPrincipal[b.Entry.Principal], b)
		ix.byType[r.Type] = append(ix.byType[r.Type], b)
		if r.Pattern == PatternPrefixed {
			if lens := ix.prefixLens[r.Type]; !slices.Contains(lens, len(r.Name)) {
				lens = append(lens, len(r.Name))
				slices.Sort(lens)
				ix.prefixLens[r.Type] = lens
			}
		}
	}
	return ix
}

// Bindings returns every binding in the index; the slice must not be
// modified.
func (ix *Index) Bindings() []Binding { return ix.bindings }

// Len is the number of bindings.
func (ix *Index) Len() int { return len(ix.bindings) }

// matcher collects the outcome of the bindings on one resource.
type matcher struct {
	principal, host string
	op              Operation
	hasResourceACLs bool
	allow           *Binding
	deny            *Binding
}

// check applies the bindings of one resource pattern; it reports true
// once a DENY applies.
func (m *matcher) check(n *node) bool {
	if n == nil {
		return false
	}
	m.hasResourceACLs = true
	if m.scan(n.byPrincipal[m.principal]) {
		return true
	}
	return m.principal != WildcardPrincipal && m.scan(n.byPrincipal[WildcardPrincipal])
}

func (m *matcher) scan(bs []Binding) bool {
	for i := range bs {
		b := &bs[i]
		switch applies(b.Entry, m.host, m.op) {
		case Deny:
			m.deny = b
			return true
		case Allow:
			if m.allow == nil {
				m.allow = b
			}
		}
	}
	return false
}

// applies is Kafka's findResult for an entry whose principal matched:
// Allow or Deny when the entry applies to the host and operation,
// PermUnknown when it does not.
func applies(e Entry, host string, op Operation) Permission {
	if e.Host != Wildcard && e.Host != host {
		return PermUnknown
	}
	if e.Operation != OpAll && e.Operation != op {
		if e.Permission != Allow {
			return PermUnknown
		}
		switch op {
		case OpDescribe:
			switch e.Operation {
			case OpRead, OpWrite, OpDelete, OpAlter:
			default:
				return PermUnknown
			}
		case OpDescribeConfigs:
			if e.Operation != OpAlterConfigs {
				return PermUnknown
			}
		default:
			return PermUnknown
		}
	}
	return e.Permission
}

// concrete reports whether op and typ name one operation and one
// resource type (not ANY or UNKNOWN).
func concrete(op Operation, typ ResourceType) bool {
	return op > OpAny && known(operationNames, int8(op)) && typ > ResourceAny && known(resourceNames, int8(typ))
}

// authorize answers for a non-super-user over ix.
func (ix *Index) authorize(allowIfNoACL bool, principal, host string, op Operation, typ ResourceType, name string) Result {
	if !concrete(op, typ) || op == OpAll {
		return Result{Reason: ReasonInvalid}
	}
	m := matcher{principal: principal, host: host, op: op}
	denied := m.check(ix.nodes[key{typ, PatternLiteral, name}])
	for _, l := range ix.prefixLens[typ] {
		if denied || l > len(name) {
			break
		}
		denied = m.check(ix.nodes[key{typ, PatternPrefixed, name[:l]}])
	}
	if !denied && name != Wildcard {
		m.check(ix.nodes[key{typ, PatternLiteral, Wildcard}])
	}
	switch {
	case m.deny != nil:
		return Result{Reason: ReasonDenyACL, Binding: *m.deny}
	case m.allow != nil:
		return Result{Allowed: true, Reason: ReasonAllowACL, Binding: *m.allow}
	case !m.hasResourceACLs:
		return Result{Allowed: allowIfNoACL, Reason: ReasonNoACL}
	}
	return Result{Reason: ReasonNoMatch}
}

// Authorizer answers authorization questions over the current index. It
// is safe for concurrent use; SetBindings swaps the index atomically, so
// a question is answered against one whole ACL set.
type Authorizer struct {
	cfg   Config
	super map[string]bool
	ix    atomic.Pointer[Index]

	followMu     sync.Mutex
	followed     *Binding
	followedLen  int
	followedOnce bool
}

// NewAuthorizer returns an authorizer with no bindings.
func NewAuthorizer(cfg Config) *Authorizer {
	a := &Authorizer{cfg: cfg, super: map[string]bool{}}
	for _, s := range cfg.SuperUsers {
		a.super[s] = true
	}
	a.ix.Store(NewIndex(nil))
	return a
}

// SetBindings replaces the ACL set.
func (a *Authorizer) SetBindings(bindings []Binding) { a.ix.Store(NewIndex(bindings)) }

// Follow replaces the ACL set with bindings unless it is the very slice
// last followed (same backing array and length): the broker calls it with
// each new metadata image's ACLs, which the image replaces whole when
// they change, so unchanged images cost nothing.
func (a *Authorizer) Follow(bindings []Binding) {
	a.followMu.Lock()
	defer a.followMu.Unlock()
	if a.followedOnce && len(bindings) == a.followedLen && (len(bindings) == 0 || &bindings[0] == a.followed) {
		return
	}
	a.SetBindings(bindings)
	a.followedLen, a.followedOnce = len(bindings), true
	a.followed = nil
	if len(bindings) > 0 {
		a.followed = &bindings[0]
	}
}

// SetIndex replaces the ACL set with an index already built.
func (a *Authorizer) SetIndex(ix *Index) { a.ix.Store(ix) }

// Index is the current index.
func (a *Authorizer) Index() *Index { return a.ix.Load() }

// IsSuperUser reports whether principal is in super.users.
func (a *Authorizer) IsSuperUser(principal string) bool { return a.super[principal] }

// Authorize answers whether principal ("User:alice"), connected from host
// (the client's IP address as text), may perform op on the resource of
// type typ named name. op must be a concrete operation (not ANY, ALL or
// UNKNOWN); resources are always named literally.
func (a *Authorizer) Authorize(principal, host string, op Operation, typ ResourceType, name string) Result {
	if a.super[principal] {
		return Result{Allowed: true, Reason: ReasonSuperUser}
	}
	return a.ix.Load().authorize(a.cfg.AllowIfNoACL, principal, host, op, typ, name)
}

// Allowed is Authorize's yes or no.
func (a *Authorizer) Allowed(principal, host string, op Operation, typ ResourceType, name string) bool {
	return a.Authorize(principal, host, op, typ, name).Allowed
}

// AuthorizeByResourceType answers whether principal may perform op on at
// least one resource of type typ (Kafka's authorizeByResourceType): yes
// for a super user or where no ACL matches under
// allow.everyone.if.no.acl.found; no when a DENY on the LITERAL wildcard
// applies; otherwise yes when some applicable ALLOW (of op itself or ALL,
// no implication) is not dominated by an applicable DENY — a LITERAL
// allow by a DENY of the same literal name, either by a PREFIXED DENY of
// a prefix of its name.
func (a *Authorizer) AuthorizeByResourceType(principal, host string, op Operation, typ ResourceType) bool {
	if !concrete(op, typ) || op == OpAll {
		return false
	}
	// Kafka asks about a hard-coded name first, so super users and the
	// no-ACL default answer before any DENY is considered.
	if a.super[principal] {
		return true
	}
	ix := a.ix.Load() // one ACL set for the whole answer
	if ix.authorize(a.cfg.AllowIfNoACL, principal, host, op, typ, "hardcode").Allowed {
		return true
	}
	denyLiteral, denyPrefixed := map[string]bool{}, map[string]bool{}
	var allowLiteral, allowPrefixed []string
	wildcardAllow := false
	for _, b := range ix.byType[typ] {
		e, r := b.Entry, b.Resource
		if e.Host != host && e.Host != Wildcard {
			continue
		}
		if e.Principal != principal && e.Principal != WildcardPrincipal {
			continue
		}
		if e.Operation != op && e.Operation != OpAll {
			continue
		}
		switch {
		case e.Permission == Deny && r.Pattern == PatternLiteral:
			if r.Name == Wildcard {
				return false
			}
			denyLiteral[r.Name] = true
		case e.Permission == Deny && r.Pattern == PatternPrefixed:
			denyPrefixed[r.Name] = true
		case e.Permission == Allow && r.Pattern == PatternLiteral:
			if r.Name == Wildcard {
				wildcardAllow = true // wins unless a wildcard DENY is found
				continue
			}
			allowLiteral = append(allowLiteral, r.Name)
		case e.Permission == Allow && r.Pattern == PatternPrefixed:
			allowPrefixed = append(allowPrefixed, r.Name)
		}
	}
	if wildcardAllow {
		return true
	}
	dominated := func(name string) bool {
		for i := 1; i <= len(name); i++ {
			if denyPrefixed[name[:i]] {
				return true
			}
		}
		return false
	}
	for _, n := range allowLiteral {
		if !denyLiteral[n] && !dominated(n) {
			return true
		}
	}
	for _, n := range allowPrefixed {
		if !dominated(n) {
			return true
		}
	}
	return false
}

// Describe returns the bindings f matches (DescribeAcls).
func (a *Authorizer) Describe(f BindingFilter) []Binding {
	return Filter(a.ix.Load().bindings, f)
}

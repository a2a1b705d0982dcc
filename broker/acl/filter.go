package acl

import (
	"fmt"
	"strings"
)

// ResourceFilter matches resource patterns (Kafka's ResourcePatternFilter).
// A nil Name matches every name.
type ResourceFilter struct {
	Type    ResourceType `json:"type"`
	Name    *string      `json:"name"`
	Pattern PatternType  `json:"pattern"`
}

// EntryFilter matches entries (Kafka's AccessControlEntryFilter). A nil
// Principal or Host matches every one; OpAny and PermAny match every
// operation and permission.
type EntryFilter struct {
	Principal  *string    `json:"principal"`
	Host       *string    `json:"host"`
	Operation  Operation  `json:"operation"`
	Permission Permission `json:"permission"`
}

// BindingFilter is DescribeAcls' and DeleteAcls' filter.
type BindingFilter struct {
	Resource ResourceFilter `json:"resource"`
	Entry    EntryFilter    `json:"entry"`
}

// AnyFilter matches every binding.
var AnyFilter = BindingFilter{
	Resource: ResourceFilter{Type: ResourceAny, Pattern: PatternAny},
	Entry:    EntryFilter{Operation: OpAny, Permission: PermAny},
}

// Matches reports whether the filter matches r. For Pattern MATCH and a
// name, that is every pattern that would match a resource of that name:
// the LITERAL of the name, the LITERAL wildcard, and the PREFIXED
// patterns the name starts with. For ANY and a name, it is every pattern
// type with exactly that name.
func (f ResourceFilter) Matches(r Resource) bool {
	if f.Type != ResourceAny && f.Type != r.Type {
		return false
	}
	if f.Pattern != PatternAny && f.Pattern != PatternMatch && f.Pattern != r.Pattern {
		return false
	}
	if f.Name == nil {
		return true
	}
	if f.Pattern == PatternAny || f.Pattern == r.Pattern {
		return *f.Name == r.Name
	}
	switch r.Pattern {
	case PatternLiteral:
		return *f.Name == r.Name || r.Name == Wildcard
	case PatternPrefixed:
		return strings.HasPrefix(*f.Name, r.Name)
	}
	return false
}

// Matches reports whether the filter matches e.
func (f EntryFilter) Matches(e Entry) bool {
	switch {
	case f.Principal != nil && *f.Principal != e.Principal:
		return false
	case f.Host != nil && *f.Host != e.Host:
		return false
	case f.Operation != OpAny && f.Operation != e.Operation:
		return false
	}
	return f.Permission == PermAny || f.Permission == e.Permission
}

// Matches reports whether the filter matches b.
func (f BindingFilter) Matches(b Binding) bool {
	return f.Resource.Matches(b.Resource) && f.Entry.Matches(b.Entry)
}

// Validate is DescribeAcls' and DeleteAcls' check of a filter: a filter
// with an UNKNOWN (or out of range) field is INVALID_REQUEST.
func (f BindingFilter) Validate() error {
	r, e := f.Resource, f.Entry
	switch {
	case !known(resourceNames, int8(r.Type)):
		return invalid("unknown resource type in filter: %s", r.Type)
	case !known(patternNames, int8(r.Pattern)):
		return invalid("unknown pattern type in filter: %s", r.Pattern)
	case !known(operationNames, int8(e.Operation)):
		return invalid("unknown operation in filter: %s", e.Operation)
	case !known(permissionNames, int8(e.Permission)):
		return invalid("unknown permission type in filter: %s", e.Permission)
	}
	return nil
}

// IndefiniteField names the first field that lets the filter match more
// than one binding, or is "" when it matches at most one (Kafka's
// findIndefiniteField).
func (f BindingFilter) IndefiniteField() string {
	r, e := f.Resource, f.Entry
	switch {
	case r.Type == ResourceAny:
		return "Resource type is ANY."
	case r.Type == ResourceUnknown:
		return "Resource type is UNKNOWN."
	case r.Name == nil:
		return "Resource name is NULL."
	case r.Pattern == PatternMatch:
		return "Resource pattern type is MATCH."
	case r.Pattern == PatternAny:
		return "Resource pattern type is ANY."
	case r.Pattern == PatternUnknown:
		return "Resource pattern type is UNKNOWN."
	case e.Principal == nil:
		return "Principal is NULL"
	case e.Host == nil:
		return "Host is NULL"
	case e.Operation == OpAny:
		return "Operation is ANY"
	case e.Operation == OpUnknown:
		return "Operation is UNKNOWN"
	case e.Permission == PermAny:
		return "Permission type is ANY"
	case e.Permission == PermUnknown:
		return "Permission type is UNKNOWN"
	}
	return ""
}

// Filter returns the bindings f matches, in the order given.
func Filter(bindings []Binding, f BindingFilter) []Binding {
	var out []Binding
	for _, b := range bindings {
		if f.Matches(b) {
			out = append(out, b)
		}
	}
	return out
}

func (f BindingFilter) String() string {
	return fmt.Sprintf("%s %s %s %s %s:%s:%s", f.Entry.Permission, orNull(f.Entry.Principal), orNull(f.Entry.Host),
		f.Entry.Operation, f.Resource.Type, f.Resource.Pattern, orNull(f.Resource.Name))
}

func orNull(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

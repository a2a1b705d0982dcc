package acl

import (
	"fmt"
	"strings"
)

// ParseBinding reads a binding's one-line text form, as Binding.String
// writes it:
//
//	PERMISSION PRINCIPAL HOST OPERATION TYPE:PATTERN:NAME
//	ALLOW User:alice * READ TOPIC:LITERAL:orders
//
// The name is everything after the second colon of the last field, so
// it may hold colons. Names of enums are case-insensitive; unknown ones
// are UNKNOWN (Validate refuses them).
func ParseBinding(s string) (Binding, error) {
	f := strings.Fields(s)
	if len(f) != 5 {
		return Binding{}, fmt.Errorf("acl %q: want PERMISSION PRINCIPAL HOST OPERATION TYPE:PATTERN:NAME", s)
	}
	r := strings.SplitN(f[4], ":", 3)
	if len(r) != 3 {
		return Binding{}, fmt.Errorf("acl %q: resource %q is not TYPE:PATTERN:NAME", s, f[4])
	}
	return Binding{
		Resource: Resource{Type: ParseResourceType(r[0]), Pattern: ParsePatternType(r[1]), Name: r[2]},
		Entry:    Entry{Permission: ParsePermission(f[0]), Principal: f[1], Host: f[2], Operation: ParseOperation(f[3])},
	}, nil
}

// ParseFilter reads a filter in the same form as ParseBinding, where
// "null" for the principal, host or name matches every one, and ANY (or
// MATCH for the pattern) is allowed in the enum fields:
//
//	ANY null null ANY TOPIC:MATCH:orders
func ParseFilter(s string) (BindingFilter, error) {
	b, err := ParseBinding(s)
	if err != nil {
		return BindingFilter{}, err
	}
	null := func(v string) *string {
		if v == "null" {
			return nil
		}
		return &v
	}
	return BindingFilter{
		Resource: ResourceFilter{Type: b.Resource.Type, Pattern: b.Resource.Pattern, Name: null(b.Resource.Name)},
		Entry: EntryFilter{Principal: null(b.Entry.Principal), Host: null(b.Entry.Host),
			Operation: b.Entry.Operation, Permission: b.Entry.Permission},
	}, nil
}

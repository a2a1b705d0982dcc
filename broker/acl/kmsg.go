package acl

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The protocol's ACL requests and responses (kmsg) to and from this
// package's types. A v0 request has no pattern type field: decode it into
// a kmsg value made with its New* constructor (pattern type LITERAL, as
// Kafka reads v0), not a zero value.

// BindingFromCreation is a CreateAcls creation as a binding (validate it
// with Binding.Validate).
func BindingFromCreation(c kmsg.CreateACLsRequestCreation) Binding {
	return Binding{
		Resource: Resource{Type: ResourceType(c.ResourceType), Name: c.ResourceName, Pattern: PatternType(c.ResourcePatternType)},
		Entry: Entry{Principal: c.Principal, Host: c.Host, Operation: Operation(c.Operation),
			Permission: Permission(c.PermissionType)},
	}
}

// FilterFromDescribe is a DescribeAcls request's filter.
func FilterFromDescribe(r *kmsg.DescribeACLsRequest) BindingFilter {
	return BindingFilter{
		Resource: ResourceFilter{Type: ResourceType(r.ResourceType), Name: r.ResourceName, Pattern: PatternType(r.ResourcePatternType)},
		Entry: EntryFilter{Principal: r.Principal, Host: r.Host, Operation: Operation(r.Operation),
			Permission: Permission(r.PermissionType)},
	}
}

// FilterFromDelete is one DeleteAcls filter.
func FilterFromDelete(f kmsg.DeleteACLsRequestFilter) BindingFilter {
	return BindingFilter{
		Resource: ResourceFilter{Type: ResourceType(f.ResourceType), Name: f.ResourceName, Pattern: PatternType(f.ResourcePatternType)},
		Entry: EntryFilter{Principal: f.Principal, Host: f.Host, Operation: Operation(f.Operation),
			Permission: Permission(f.PermissionType)},
	}
}

// DescribeResources groups bindings by resource pattern for a
// DescribeAcls response, resources in the order first seen.
func DescribeResources(bindings []Binding) []kmsg.DescribeACLsResponseResource {
	var out []kmsg.DescribeACLsResponseResource
	at := map[Resource]int{}
	for _, b := range bindings {
		i, ok := at[b.Resource]
		if !ok {
			r := kmsg.NewDescribeACLsResponseResource()
			r.ResourceType = kmsg.ACLResourceType(b.Resource.Type)
			r.ResourceName = b.Resource.Name
			r.ResourcePatternType = kmsg.ACLResourcePatternType(b.Resource.Pattern)
			i = len(out)
			at[b.Resource] = i
			out = append(out, r)
		}
		a := kmsg.NewDescribeACLsResponseResourceACL()
		a.Principal, a.Host = b.Entry.Principal, b.Entry.Host
		a.Operation = kmsg.ACLOperation(b.Entry.Operation)
		a.PermissionType = kmsg.ACLPermissionType(b.Entry.Permission)
		out[i].ACLs = append(out[i].ACLs, a)
	}
	return out
}

// MatchingACL is a deleted binding as DeleteAcls reports it.
func MatchingACL(b Binding) kmsg.DeleteACLsResponseResultMatchingACL {
	m := kmsg.NewDeleteACLsResponseResultMatchingACL()
	m.ResourceType = kmsg.ACLResourceType(b.Resource.Type)
	m.ResourceName = b.Resource.Name
	m.ResourcePatternType = kmsg.ACLResourcePatternType(b.Resource.Pattern)
	m.Principal, m.Host = b.Entry.Principal, b.Entry.Host
	m.Operation = kmsg.ACLOperation(b.Entry.Operation)
	m.PermissionType = kmsg.ACLPermissionType(b.Entry.Permission)
	return m
}

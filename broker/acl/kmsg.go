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
	f := filterOf(c.ResourceType, &c.ResourceName, c.ResourcePatternType, &c.Principal, &c.Host, c.Operation, c.PermissionType)
	return Binding{
		Resource: Resource{Type: f.Resource.Type, Name: c.ResourceName, Pattern: f.Resource.Pattern},
		Entry:    Entry{Principal: c.Principal, Host: c.Host, Operation: f.Entry.Operation, Permission: f.Entry.Permission},
	}
}

// FilterFromDescribe is a DescribeAcls request's filter.
func FilterFromDescribe(r *kmsg.DescribeACLsRequest) BindingFilter {
	return filterOf(r.ResourceType, r.ResourceName, r.ResourcePatternType, r.Principal, r.Host, r.Operation, r.PermissionType)
}

// FilterFromDelete is one DeleteAcls filter.
func FilterFromDelete(f kmsg.DeleteACLsRequestFilter) BindingFilter {
	return filterOf(f.ResourceType, f.ResourceName, f.ResourcePatternType, f.Principal, f.Host, f.Operation, f.PermissionType)
}

// filterOf is the fields every ACL message carries, as a filter.
func filterOf(t kmsg.ACLResourceType, name *string, p kmsg.ACLResourcePatternType, principal, host *string,
	op kmsg.ACLOperation, perm kmsg.ACLPermissionType) BindingFilter {
	return BindingFilter{
		Resource: ResourceFilter{Type: ResourceType(t), Name: name, Pattern: PatternType(p)},
		Entry:    EntryFilter{Principal: principal, Host: host, Operation: Operation(op), Permission: Permission(perm)},
	}
}

// Creation is a binding as a CreateAcls creation.
func Creation(b Binding) kmsg.CreateACLsRequestCreation {
	c := kmsg.NewCreateACLsRequestCreation()
	c.ResourceType, c.ResourceName = kmsg.ACLResourceType(b.Resource.Type), b.Resource.Name
	c.ResourcePatternType = kmsg.ACLResourcePatternType(b.Resource.Pattern)
	c.Principal, c.Host = b.Entry.Principal, b.Entry.Host
	c.Operation, c.PermissionType = kmsg.ACLOperation(b.Entry.Operation), kmsg.ACLPermissionType(b.Entry.Permission)
	return c
}

// DescribeRequest is a DescribeAcls request for a filter.
func DescribeRequest(f BindingFilter) *kmsg.DescribeACLsRequest {
	r := kmsg.NewPtrDescribeACLsRequest()
	r.ResourceType, r.ResourceName = kmsg.ACLResourceType(f.Resource.Type), f.Resource.Name
	r.ResourcePatternType = kmsg.ACLResourcePatternType(f.Resource.Pattern)
	r.Principal, r.Host = f.Entry.Principal, f.Entry.Host
	r.Operation, r.PermissionType = kmsg.ACLOperation(f.Entry.Operation), kmsg.ACLPermissionType(f.Entry.Permission)
	return r
}

// DeleteFilter is a filter as one DeleteAcls filter.
func DeleteFilter(f BindingFilter) kmsg.DeleteACLsRequestFilter {
	d := kmsg.NewDeleteACLsRequestFilter()
	d.ResourceType, d.ResourceName = kmsg.ACLResourceType(f.Resource.Type), f.Resource.Name
	d.ResourcePatternType = kmsg.ACLResourcePatternType(f.Resource.Pattern)
	d.Principal, d.Host = f.Entry.Principal, f.Entry.Host
	d.Operation, d.PermissionType = kmsg.ACLOperation(f.Entry.Operation), kmsg.ACLPermissionType(f.Entry.Permission)
	return d
}

// Described are the bindings of a DescribeAcls response.
func Described(resources []kmsg.DescribeACLsResponseResource) []Binding {
	var out []Binding
	for _, r := range resources {
		res := Resource{Type: ResourceType(r.ResourceType), Name: r.ResourceName, Pattern: PatternType(r.ResourcePatternType)}
		for _, a := range r.ACLs {
			out = append(out, Binding{Resource: res, Entry: Entry{Principal: a.Principal, Host: a.Host,
				Operation: Operation(a.Operation), Permission: Permission(a.PermissionType)}})
		}
	}
	return out
}

// Deleted is a binding DeleteAcls reports deleted (MatchingACL's inverse).
func Deleted(m kmsg.DeleteACLsResponseResultMatchingACL) Binding {
	return Binding{
		Resource: Resource{Type: ResourceType(m.ResourceType), Name: m.ResourceName, Pattern: PatternType(m.ResourcePatternType)},
		Entry: Entry{Principal: m.Principal, Host: m.Host, Operation: Operation(m.Operation),
			Permission: Permission(m.PermissionType)},
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

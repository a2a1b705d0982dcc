package acl

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKmsgRoundTrip: a binding created through CreateAcls' wire form is
// found by a DescribeAcls filter decoded from the wire, and comes back
// in the Describe and Delete responses as it went in.
func TestKmsgRoundTrip(t *testing.T) {
	want, _ := ParseBinding("ALLOW User:alice 10.0.0.1 WRITE TOPIC:PREFIXED:orders-")
	other, _ := ParseBinding("DENY User:bob * READ GROUP:LITERAL:g")
	req := kmsg.NewPtrCreateACLsRequest()
	for _, b := range []Binding{want, other} {
		req.Creations = append(req.Creations, Creation(b))
	}
	req.Version = 3
	got := kmsg.NewPtrCreateACLsRequest()
	got.Version = 3
	if err := got.ReadFrom(req.AppendTo(nil)); err != nil {
		t.Fatal(err)
	}
	var bindings []Binding
	for _, c := range got.Creations {
		b := BindingFromCreation(c)
		if err := b.Validate(); err != nil {
			t.Fatal(err)
		}
		bindings = append(bindings, b)
	}
	if bindings[0] != want || bindings[1] != other {
		t.Fatalf("%v", bindings)
	}

	d := kmsg.NewPtrDescribeACLsRequest()
	d.Version = 3
	d.ResourceType = kmsg.ACLResourceType(ResourceTopic)
	name := "orders-eu"
	d.ResourceName = &name
	d.ResourcePatternType = kmsg.ACLResourcePatternType(PatternMatch)
	d.Operation = kmsg.ACLOperation(OpAny)
	d.PermissionType = kmsg.ACLPermissionType(PermAny)
	dd := kmsg.NewPtrDescribeACLsRequest()
	dd.Version = 3
	if err := dd.ReadFrom(d.AppendTo(nil)); err != nil {
		t.Fatal(err)
	}
	f := FilterFromDescribe(dd)
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	res := DescribeResources(Filter(bindings, f))
	if len(res) != 1 || res[0].ResourceName != "orders-" || len(res[0].ACLs) != 1 || res[0].ACLs[0].Principal != "User:alice" {
		t.Fatalf("describe: %+v", res)
	}
	if got := Described(res); len(got) != 1 || got[0] != want {
		t.Fatalf("described bindings %v, want %v", got, want)
	}
	if got := FilterFromDescribe(DescribeRequest(f)); got.Resource != f.Resource || got.Entry != f.Entry {
		t.Fatalf("DescribeRequest(f) decodes to %+v, want %+v", got, f)
	}

	del := kmsg.NewDeleteACLsRequestFilter()
	del.ResourceType = kmsg.ACLResourceType(ResourceAny)
	del.ResourcePatternType = kmsg.ACLResourcePatternType(PatternAny)
	del.Operation = kmsg.ACLOperation(OpAny)
	del.PermissionType = kmsg.ACLPermissionType(Deny)
	df := FilterFromDelete(del)
	m := Filter(bindings, df)
	if len(m) != 1 || m[0] != other {
		t.Fatalf("delete: %v", m)
	}
	if ma := MatchingACL(m[0]); ma.ResourceName != "g" || ma.Operation != kmsg.ACLOperation(OpRead) || Deleted(ma) != other {
		t.Fatalf("%+v", ma)
	}
	if got := FilterFromDelete(DeleteFilter(df)); got.Resource != df.Resource || got.Entry != df.Entry {
		t.Fatalf("DeleteFilter(df) decodes to %+v, want %+v", got, df)
	}

	// v0 has no pattern type: New* makes it LITERAL, as Kafka reads v0.
	if p := kmsg.NewCreateACLsRequestCreation(); PatternType(p.ResourcePatternType) != PatternLiteral {
		t.Fatalf("v0 default pattern type %d", p.ResourcePatternType)
	}
	if p := kmsg.NewPtrDescribeACLsRequest(); PatternType(p.ResourcePatternType) != PatternLiteral {
		t.Fatalf("v0 default filter pattern type %d", p.ResourcePatternType)
	}
}

// FuzzACLRequests decodes arbitrary bytes as each ACL request at each
// version and runs what the broker will run on them: no panic, and a
// binding that validates authorizes without trouble.
func FuzzACLRequests(f *testing.F) {
	c := kmsg.NewPtrCreateACLsRequest()
	cr := kmsg.NewCreateACLsRequestCreation()
	cr.ResourceType, cr.ResourceName, cr.Principal, cr.Host = 2, "t", "User:a", "*"
	cr.Operation, cr.PermissionType = 3, 3
	c.Creations = append(c.Creations, cr)
	d := kmsg.NewPtrDescribeACLsRequest()
	d.ResourceType, d.Operation, d.PermissionType = 1, 1, 1
	del := kmsg.NewPtrDeleteACLsRequest()
	del.Filters = append(del.Filters, kmsg.NewDeleteACLsRequestFilter())
	for v := int16(0); v <= 3; v++ {
		c.Version, d.Version, del.Version = v, v, v
		f.Add(byte(0), v, c.AppendTo(nil))
		f.Add(byte(1), v, d.AppendTo(nil))
		f.Add(byte(2), v, del.AppendTo(nil))
	}
	a := NewAuthorizer(Config{})
	f.Fuzz(func(t *testing.T, which byte, version int16, data []byte) {
		if version < 0 || version > 3 {
			return
		}
		var bindings []Binding
		var filters []BindingFilter
		switch which % 3 {
		case 0:
			r := kmsg.NewPtrCreateACLsRequest()
			r.Version = version
			if r.ReadFrom(data) != nil {
				return
			}
			for _, c := range r.Creations {
				if b := BindingFromCreation(c); b.Validate() == nil {
					bindings = append(bindings, b)
				}
			}
		case 1:
			r := kmsg.NewPtrDescribeACLsRequest()
			r.Version = version
			if r.ReadFrom(data) != nil {
				return
			}
			filters = append(filters, FilterFromDescribe(r))
		case 2:
			r := kmsg.NewPtrDeleteACLsRequest()
			r.Version = version
			if r.ReadFrom(data) != nil {
				return
			}
			for _, x := range r.Filters {
				filters = append(filters, FilterFromDelete(x))
			}
		}
		a.SetBindings(bindings)
		for _, b := range bindings {
			a.Authorize(b.Entry.Principal, b.Entry.Host, b.Entry.Operation, b.Resource.Type, b.Resource.Name)
			a.AuthorizeByResourceType(b.Entry.Principal, b.Entry.Host, b.Entry.Operation, b.Resource.Type)
			a.AuthorizedOperations(b.Entry.Principal, b.Entry.Host, b.Resource.Type, b.Resource.Name)
		}
		for _, f := range filters {
			if f.Validate() == nil {
				DescribeResources(Filter(bindings, f))
				f.IndefiniteField()
			}
		}
	})
}

package acl

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// ResourceType is the kind of thing an ACL protects (Kafka's
// ResourceType; the numbers are the protocol's).
type ResourceType int8

const (
	ResourceUnknown         ResourceType = 0
	ResourceAny             ResourceType = 1 // filters only
	ResourceTopic           ResourceType = 2
	ResourceGroup           ResourceType = 3
	ResourceCluster         ResourceType = 4
	ResourceTransactionalID ResourceType = 5
	ResourceDelegationToken ResourceType = 6
	ResourceUser            ResourceType = 7
)

// PatternType is how a binding's resource name matches resource names.
type PatternType int8

const (
	PatternUnknown  PatternType = 0
	PatternAny      PatternType = 1 // filters only: any pattern type, exact name
	PatternMatch    PatternType = 2 // filters only: every pattern that would match the name
	PatternLiteral  PatternType = 3
	PatternPrefixed PatternType = 4
)

// Operation is what a principal does to a resource (Kafka's AclOperation).
type Operation int8

const (
	OpUnknown         Operation = 0
	OpAny             Operation = 1 // filters only
	OpAll             Operation = 2
	OpRead            Operation = 3
	OpWrite           Operation = 4
	OpCreate          Operation = 5
	OpDelete          Operation = 6
	OpAlter           Operation = 7
	OpDescribe        Operation = 8
	OpClusterAction   Operation = 9
	OpDescribeConfigs Operation = 10
	OpAlterConfigs    Operation = 11
	OpIdempotentWrite Operation = 12
	OpCreateTokens    Operation = 13
	OpDescribeTokens  Operation = 14
	OpTwoPhaseCommit  Operation = 15
)

// Permission is ALLOW or DENY (Kafka's AclPermissionType).
type Permission int8

const (
	PermUnknown Permission = 0
	PermAny     Permission = 1 // filters only
	Deny        Permission = 2
	Allow       Permission = 3
)

const (
	// Wildcard is the LITERAL resource name matching every resource of
	// its type, and the host matching every host.
	Wildcard = "*"
	// WildcardPrincipal is the principal matching every principal.
	WildcardPrincipal = "User:*"
	// ClusterName is the one name of the CLUSTER resource.
	ClusterName = "kafka-cluster"
)

var (
	resourceNames   = []string{"UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"}
	patternNames    = []string{"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"}
	operationNames  = []string{"UNKNOWN", "ANY", "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "CREATE_TOKENS", "DESCRIBE_TOKENS", "TWO_PHASE_COMMIT"}
	permissionNames = []string{"UNKNOWN", "ANY", "DENY", "ALLOW"}
)

func name(names []string, v int8) string {
	if v < 0 || int(v) >= len(names) {
		return "UNKNOWN"
	}
	return names[v]
}

// parseName finds s (case-insensitively) in names; unknown names are 0
// (UNKNOWN), as Kafka's fromString answers.
func parseName(names []string, s string) int8 {
	for i, n := range names {
		if strings.EqualFold(n, s) {
			return int8(i)
		}
	}
	return 0
}

func (t ResourceType) String() string { return name(resourceNames, int8(t)) }
func (p PatternType) String() string  { return name(patternNames, int8(p)) }
func (o Operation) String() string    { return name(operationNames, int8(o)) }
func (p Permission) String() string   { return name(permissionNames, int8(p)) }

// ParseResourceType, ParsePatternType, ParseOperation and ParsePermission
// read Kafka's names, case-insensitively; an unknown name is UNKNOWN.
func ParseResourceType(s string) ResourceType { return ResourceType(parseName(resourceNames, s)) }
func ParsePatternType(s string) PatternType   { return PatternType(parseName(patternNames, s)) }
func ParseOperation(s string) Operation       { return Operation(parseName(operationNames, s)) }
func ParsePermission(s string) Permission     { return Permission(parseName(permissionNames, s)) }

// known reports whether v is a value of names other than UNKNOWN.
func known(names []string, v int8) bool { return v > 0 && int(v) < len(names) }

// Resource is a binding's resource pattern (Kafka's ResourcePattern).
type Resource struct {
	Type    ResourceType `json:"type"`
	Name    string       `json:"name"`
	Pattern PatternType  `json:"pattern"`
}

func (r Resource) String() string { return fmt.Sprintf("%s:%s:%s", r.Type, r.Pattern, r.Name) }

// Entry is who may or may not do what from where (Kafka's
// AccessControlEntry). Principal is "Type:Name", as in "User:alice".
type Entry struct {
	Principal  string     `json:"principal"`
	Host       string     `json:"host"`
	Operation  Operation  `json:"operation"`
	Permission Permission `json:"permission"`
}

// Binding is one ACL: an entry on a resource pattern. Bindings are
// comparable; two equal bindings are the same ACL.
type Binding struct {
	Resource Resource `json:"resource"`
	Entry    Entry    `json:"entry"`
}

// String is the binding's one-line text form (see ParseBinding).
func (b Binding) String() string {
	return fmt.Sprintf("%s %s %s %s %s", b.Entry.Permission, b.Entry.Principal, b.Entry.Host, b.Entry.Operation, b.Resource)
}

// Validate is CreateAcls' check of a new binding (Kafka's
// AclControlManager.validateNewAcl and AclApis), with Kafka's messages;
// the error wraps INVALID_REQUEST.
func (b Binding) Validate() error {
	r, e := b.Resource, b.Entry
	switch {
	case !known(resourceNames, int8(r.Type)) || r.Type == ResourceAny:
		return invalid("Invalid resourceType %s", r.Type)
	case r.Pattern != PatternLiteral && r.Pattern != PatternPrefixed:
		return invalid("Invalid patternType %s", r.Pattern)
	case e.Operation == OpUnknown || e.Operation == OpAny || !known(operationNames, int8(e.Operation)):
		return invalid("Invalid operation %s", e.Operation)
	case e.Permission != Allow && e.Permission != Deny:
		return invalid("Invalid permissionType %s", e.Permission)
	case r.Name == "":
		return invalid("Resource name should not be empty")
	case r.Type == ResourceCluster && r.Name != ClusterName:
		return invalid("The only valid name for the CLUSTER resource is %s", ClusterName)
	case e.Principal == "":
		return invalid("Invalid empty principal specified")
	case !strings.Contains(e.Principal, ":"):
		return invalid("Could not parse principal from `%s` (no colon is present separating the principal type from the principal name)", e.Principal)
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), kerr.InvalidRequest)
}

// ParseSuperUsers reads super.users: principals separated by ";".
func ParseSuperUsers(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

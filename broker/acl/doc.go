// Package acl is Kafka's authorization model: ACL bindings (a resource
// pattern and an access control entry), the filters DescribeAcls and
// DeleteAcls match them with, the validation CreateAcls applies, and an
// Authorizer that answers "may this principal, from this host, perform
// this operation on this resource?" from an index built once per ACL set.
//
// The semantics are Kafka's StandardAuthorizer's (KRaft), which keeps the
// older AclAuthorizer's rules:
//
//   - A resource is matched by LITERAL bindings of the same name, by the
//     LITERAL wildcard "*", and by PREFIXED bindings whose name is a prefix
//     of the resource's name.
//   - A binding applies when its principal is the request's principal or
//     the wildcard "User:*", and its host is the client's address or "*".
//   - ALL matches every operation. An ALLOW of READ, WRITE, DELETE or ALTER
//     implies DESCRIBE; an ALLOW of ALTER_CONFIGS implies DESCRIBE_CONFIGS.
//     Implication is for ALLOW only: DENY READ does not deny DESCRIBE.
//   - Any applicable DENY wins over every ALLOW.
//   - Principals listed in super.users are allowed everything, DENY or not.
//   - When no binding at all (for any principal, host or operation) matches
//     the resource, the answer is allow.everyone.if.no.acl.found (default
//     false); when some binding matches the resource but none applies to
//     this request, the answer is deny.
//
// AuthorizeByResourceType is Kafka's Authorizer.authorizeByResourceType:
// "is op allowed on some resource of this type?", used for
// IDEMPOTENT_WRITE (InitProducerId without a transactional id is allowed
// with IDEMPOTENT_WRITE on the cluster or WRITE on any topic, KIP-679).
//
// Numbers (ResourceType, PatternType, Operation, Permission) are the
// protocol's codes, so request fields convert directly; names parse and
// print as Kafka's enums do (upper case, case-insensitive on input).
//
// Files:
//
//	types.go       the enums, Binding, Resource, Entry and their validation
//	filter.go      BindingFilter: DescribeAcls/DeleteAcls matching
//	authorizer.go  the index and Authorize / AuthorizeByResourceType
//	parse.go       the one-line text form of bindings and filters
//	apis.go        the permission matrix and KIP-430 authorized operations
//	kmsg.go        CreateAcls, DescribeAcls and DeleteAcls (kmsg) to and from these types
package acl

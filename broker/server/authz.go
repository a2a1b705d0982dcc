package server

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/protocol"
)

// handleSecurity serves the security APIs (SASL on a listener without
// it, the ACL and SCRAM admin APIs) and, when an authorizer is
// configured, authorizes every other request before its handler runs.
// ok=false: dispatch as usual.
func (b *Broker) handleSecurity(s *session, req protocol.Request) (resp kmsg.Response, closeErr error, ok bool) {
	switch body := req.Body.(type) {
	case *kmsg.SASLHandshakeRequest, *kmsg.SASLAuthenticateRequest:
		return handleSaslOffListener(req), nil, true
	case *kmsg.DescribeACLsRequest:
		return b.handleDescribeACLs(body), nil, true
	case *kmsg.CreateACLsRequest:
		return b.handleCreateACLs(body), nil, true
	case *kmsg.DeleteACLsRequest:
		return b.handleDeleteACLs(body), nil, true
	case *kmsg.DescribeUserSCRAMCredentialsRequest:
		return b.handleDescribeUserSCRAMCredentials(body), nil, true
	case *kmsg.AlterUserSCRAMCredentialsRequest:
		return b.handleAlterUserSCRAMCredentials(body), nil, true
	}
	return nil, nil, false
}

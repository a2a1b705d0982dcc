package server

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/acl"
	"github.com/weirhq/weir/broker/protocol"
)

// Every API the broker serves (advertised or inter-broker) that
// acl.APIs gives checks has its authorization wired in authz.go: a
// principal without any ACL gets an answer (the API's refusal, or an
// empty success), never the not-wired fallback, and a refusal encodes.
func TestEveryServedAPIIsAuthorized(t *testing.T) {
	b := startBroker(t, map[string]string{"authorizer.class.name": "weir", "allow.everyone.if.no.acl.found": "false",
		"super.users": "User:ANONYMOUS"}) // the broker reaches itself over PLAINTEXT
	s := &session{listener: b.lns[0], host: "127.0.0.1", principal: "User:nobody"}
	keys := map[int16]bool{}
	for _, r := range protocol.Ranges() {
		keys[r.Key] = true
	}
	for _, k := range []int16{56, 62, 63, 67} { // inter-broker, not advertised
		keys[k] = true
	}
	for key := range keys {
		api, ok := acl.ForKey(key)
		if !ok {
			t.Errorf("%s: not in acl.APIs", kmsg.NameForKey(key))
			continue
		}
		if len(api.Checks) == 0 {
			continue
		}
		r, _ := protocol.VersionRange(key)
		body := kmsg.RequestForKey(key)
		body.SetVersion(r.Max)
		resp, closeErr, _ := b.authorize(s, protocol.Request{Header: protocol.Header{Key: key, Version: r.Max}, Body: body})
		if closeErr != nil && strings.Contains(closeErr.Error(), "no ACL check is wired") {
			t.Errorf("%s: authorization not wired", api.Name)
			continue
		}
		if resp != nil {
			resp.SetVersion(r.Max)
			_ = resp.AppendTo(nil)
		}
	}
}

// FuzzErrorResponse decodes arbitrary bytes as any served request and
// builds the refusals the broker may answer it with (an authorization
// error, ILLEGAL_SASL_STATE during authentication): no panic, and each
// response encodes and decodes back at the request's version.
func FuzzErrorResponse(f *testing.F) {
	for _, r := range protocol.Ranges() {
		req := kmsg.RequestForKey(r.Key)
		req.SetVersion(r.Max)
		f.Add(r.Key, r.Max, req.AppendTo(nil))
	}
	codes := append([]int16{kerr.IllegalSaslState.Code}, authCodes...)
	f.Fuzz(func(t *testing.T, key, version int16, data []byte) {
		rg, ok := protocol.VersionRange(key)
		if !ok || version < rg.Min || version > rg.Max {
			return
		}
		req := kmsg.RequestForKey(key)
		req.SetVersion(version)
		if req.ReadFrom(data) != nil {
			return
		}
		for _, code := range codes {
			resp := errorResponse(req, code)
			if resp == nil {
				continue
			}
			back := req.ResponseKind()
			back.SetVersion(version)
			if err := back.ReadFrom(resp.AppendTo(nil)); err != nil {
				t.Fatalf("%s v%d refused with %d does not decode: %v", kmsg.NameForKey(key), version, code, err)
			}
		}
	})
}

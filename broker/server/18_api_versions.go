package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/protocol"
	"github.com/weirhq/weir/broker/quorum"
)

// ApiVersions, versions 0–3.
//
// The response always goes out with a v0 header (protocol.AppendResponse).
// A version newer than ours never reaches here: protocol.ParseRequest marks
// it and handle answers with a v0 UNSUPPORTED_VERSION body (KIP-511). v3
// adds ClientSoftwareName/Version, which must be valid per KIP-511
// ([a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?) or the request gets
// INVALID_REQUEST. From v3 the response carries the supported features
// (quorum.SupportedFeatures) and the finalized levels of this broker's
// metadata image, with its version as FinalizedFeaturesEpoch; the
// versions transaction version 2 added are advertised only once it is
// finalized (protocol.ApiVersionsResponse).

func (b *Broker) handleApiVersions(r *kmsg.ApiVersionsRequest) kmsg.Response {
	resp := protocol.ApiVersionsResponse(r.Version, false, b.features())
	if r.Version >= 3 && (!validSoftware(r.ClientSoftwareName) || !validSoftware(r.ClientSoftwareVersion)) {
		resp.ErrorCode = kerr.InvalidRequest.Code
	}
	return resp
}

func validSoftware(s string) bool {
	if s == "" {
		return false
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	if !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// features are the feature levels ApiVersions advertises.
func (b *Broker) features() protocol.Features {
	img := b.node.Image()
	return protocol.Features{Supported: quorum.SupportedFeatures, Finalized: img.Features, Epoch: int64(img.Version)}
}

package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeCluster, versions 0–1 (KIP-700), from the metadata image: the
// live brokers and the active controller. v1 adds EndpointType; only
// brokers (1) are described, controllers (2) get UNSUPPORTED_ENDPOINT_TYPE
// (the controllers are the brokers, combined mode).

func (b *Broker) handleDescribeCluster(r *kmsg.DescribeClusterRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.ClusterID = b.clusterID()
	resp.ControllerID = -1
	if id, ok := b.node.LeaderID(); ok {
		resp.ControllerID = id
	}
	resp.ClusterAuthorizedOperations = authorizedOpsOmitted
	resp.EndpointType = 1
	if r.Version >= 1 && r.EndpointType != 1 {
		resp.ErrorCode = kerr.UnsupportedEndpointType.Code
		resp.ErrorMessage = strPtr("only broker endpoints are described")
		return resp
	}
	for _, mb := range metadataBrokers(b.node.Image()) {
		br := kmsg.NewDescribeClusterResponseBroker()
		br.NodeID, br.Host, br.Port, br.Rack = mb.NodeID, mb.Host, mb.Port, mb.Rack
		resp.Brokers = append(resp.Brokers, br)
	}
	return resp
}

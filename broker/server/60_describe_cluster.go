package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeCluster, versions 0–1 (KIP-700). v1 adds EndpointType; only
// brokers (1) are described, controllers (2) get UNSUPPORTED_ENDPOINT_TYPE.

func (b *Broker) handleDescribeCluster(r *kmsg.DescribeClusterRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.ClusterID = b.meta.ClusterID()
	resp.ControllerID = b.cfg.NodeID
	resp.ClusterAuthorizedOperations = authorizedOpsOmitted
	resp.EndpointType = 1
	if r.Version >= 1 && r.EndpointType != 1 {
		resp.ErrorCode = kerr.UnsupportedEndpointType.Code
		resp.ErrorMessage = strPtr("only broker endpoints are described")
		return resp
	}
	for _, mb := range b.metadataBrokers() {
		br := kmsg.NewDescribeClusterResponseBroker()
		br.NodeID, br.Host, br.Port, br.Rack = mb.NodeID, mb.Host, mb.Port, mb.Rack
		resp.Brokers = append(resp.Brokers, br)
	}
	return resp
}

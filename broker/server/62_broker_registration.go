package server

import (
	"errors"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/quorum"
)

// BrokerRegistration, versions 0–3 (KIP-631), inter-broker only.
//
// A broker registers with the active controller at start: its id, a new
// incarnation id per process, its rack and its advertised listener (whose
// address is also its raft address: raft shares the Kafka port). The
// broker is registered fenced and gets its broker epoch (the raft index of
// the registration); it is unfenced once a heartbeat shows it has caught up
// with the metadata log. A broker that is not one of the configured voters
// joins the raft group as a non-voter, so it keeps a copy of the metadata.
//
// Features are the levels the broker can run (a feature it leaves out:
// level 0 only, Kafka's rule for metadata.version); a broker that cannot
// run a finalized level is refused with UNSUPPORTED_VERSION and Kafka's
// message (ClusterControlManager.processRegistrationFeature). The ranges
// are kept in its registration for UpdateFeatures' check.

func (b *Broker) handleBrokerRegistration(r *kmsg.BrokerRegistrationRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.BrokerRegistrationResponse)
	resp.BrokerEpoch = -1
	if !b.node.IsLeader() {
		resp.ErrorCode = kerr.NotController.Code
		return resp
	}
	if r.ClusterID != b.clusterID() {
		resp.ErrorCode = kerr.InconsistentClusterID.Code
		return resp
	}
	if len(r.Listeners) == 0 {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp
	}
	l := r.Listeners[0]
	addr := net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port)))
	cmd := quorum.RegisterBroker{
		ID: r.BrokerID, IncarnationID: quorum.TopicID(r.IncarnationID).String(),
		Host: l.Host, Port: int32(l.Port), RaftAddr: addr,
	}
	for _, ln := range r.Listeners {
		cmd.Listeners = append(cmd.Listeners, quorum.Endpoint{Name: ln.Name, Host: ln.Host, Port: int32(ln.Port)})
	}
	if r.Rack != nil {
		cmd.Rack = *r.Rack
	}
	cmd.Features = registrationFeatures(r.Features)
	res, err := b.proposeRegistration(cmd)
	if err != nil {
		resp.ErrorCode = errCode(err)
		if errors.Is(err, kerr.UnsupportedVersion) {
			b.logger.Warn("refused a broker registration", "broker", r.BrokerID, "err", err)
		}
		return resp
	}
	resp.BrokerEpoch = res.(quorum.RegisterResult).Epoch
	b.ctrl.Beat(r.BrokerID, b.now()) // the quorum node adds non-voters itself
	b.logger.Info("registered broker", "broker", r.BrokerID, "addr", addr, "rack", cmd.Rack, "broker_epoch", resp.BrokerEpoch)
	return resp
}

func registrationFeatures(fs []kmsg.BrokerRegistrationRequestFeature) map[string]quorum.FeatureRange {
	if len(fs) == 0 {
		return nil
	}
	m := make(map[string]quorum.FeatureRange, len(fs))
	for _, f := range fs {
		m[f.Name] = quorum.FeatureRange{Min: f.MinSupportedVersion, Max: f.MaxSupportedVersion}
	}
	return m
}

// proposeRegistration checks that the broker can run every finalized
// feature level and proposes its registration, under featuresMu.
func (b *Broker) proposeRegistration(cmd quorum.RegisterBroker) (any, error) {
	b.featuresMu.Lock()
	defer b.featuresMu.Unlock()
	if err := quorum.CheckRegistration(b.node.Image(), cmd.Features); err != nil {
		return nil, err
	}
	return b.ctrl.Propose(cmd)
}

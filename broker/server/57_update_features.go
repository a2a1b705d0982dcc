package server

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/quorum"
)

// UpdateFeatures, versions 0–2 (KIP-584): finalized feature levels live in
// the metadata quorum (quorum.SetFeatureLevel), so the request runs on the
// controller (forwarded, KIP-590). The features are transaction.version
// (0–2) and weir.metadata.version (0–2, quorum.MetadataVersion). A level
// some registered broker cannot run is INVALID_UPDATE_VERSION naming the
// broker (quorum.CheckSupported, checked and proposed under featuresMu).
// A level below the finalized one needs AllowDowngrade (v0) or
// UpgradeType 2 or 3 (safe or unsafe downgrade, v1+); UpgradeType 0 or
// above 3 is INVALID_REQUEST, as is a feature named twice or an empty
// name. ValidateOnly (v1+) checks without proposing. Each update is
// applied on its own. v2 answers without per-feature results: its
// top-level error is the first failure. CLUSTER ALTER is checked in
// authz.go.
func (b *Broker) handleUpdateFeatures(r *kmsg.UpdateFeaturesRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.updateFeatures(r) })
}

func (b *Broker) updateFeatures(r *kmsg.UpdateFeaturesRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.UpdateFeaturesResponse)
	if res, no := b.notController(); no {
		resp.ErrorCode, resp.ErrorMessage = res.code, strPtr(res.msg)
		return resp
	}
	seen := map[string]bool{}
	for _, u := range r.FeatureUpdates {
		res := kmsg.NewUpdateFeaturesResponseResult()
		res.Feature = u.Feature
		if err := b.updateFeature(r, u, seen); err != nil {
			res.ErrorCode, res.ErrorMessage = errCode(err), strPtr(err.Error())
			if resp.ErrorCode == 0 && r.Version >= 2 {
				resp.ErrorCode, resp.ErrorMessage = res.ErrorCode, res.ErrorMessage
			}
		}
		resp.Results = append(resp.Results, res)
	}
	if r.Version >= 2 {
		resp.Results = nil
	}
	return resp
}

// updateFeature validates one update and, unless ValidateOnly, proposes it.
func (b *Broker) updateFeature(r *kmsg.UpdateFeaturesRequest, u kmsg.UpdateFeaturesRequestFeatureUpdate, seen map[string]bool) error {
	switch {
	case u.Feature == "":
		return fmt.Errorf("an update names no feature: %w", kerr.InvalidRequest)
	case seen[u.Feature]:
		return fmt.Errorf("feature %s is named twice: %w", u.Feature, kerr.InvalidRequest)
	case r.Version >= 1 && (u.UpgradeType < 1 || u.UpgradeType > 3):
		return fmt.Errorf("%s: upgrade type %d is not 1, 2 or 3: %w", u.Feature, u.UpgradeType, kerr.InvalidRequest)
	}
	seen[u.Feature] = true
	cmd := quorum.SetFeatureLevel{Name: u.Feature, Level: max(u.MaxVersionLevel, 0),
		AllowDowngrade: u.AllowDowngrade || r.Version >= 1 && u.UpgradeType >= 2}
	b.featuresMu.Lock()
	defer b.featuresMu.Unlock()
	if err := cmd.Check(b.node.Image()); err != nil || r.ValidateOnly {
		return err
	}
	_, err := b.ctrl.Propose(cmd)
	return err
}

package quorum

import "github.com/twmb/franz-go/pkg/kerr"

// Feature levels, as Kafka's FeatureLevelRecord keeps them: the finalized
// level of each feature the cluster has raised above 0 (a feature at level
// 0 is absent, as in Kafka). UpdateFeatures proposes SetFeatureLevel on
// the controller; brokers read Image.FeatureLevel and advertise the
// finalized levels in ApiVersions.

// TransactionVersion is Kafka's transaction.version feature (KIP-890): at
// 2, EndTxn bumps the producer epoch per transaction and a transactional
// produce adds its partition to the transaction.
const TransactionVersion = "transaction.version"

// SupportedFeatures maps each feature this broker can run to the highest
// level it supports; the lowest is 0.
var SupportedFeatures = map[string]int16{TransactionVersion: 2}

// SetFeatureLevel finalizes Name at Level (0 removes it). A level outside
// 0..SupportedFeatures[Name], or an unknown feature, is
// INVALID_UPDATE_VERSION; so is a lower level than the finalized one
// unless AllowDowngrade. Setting the level it has changes nothing.
type SetFeatureLevel struct {
	Name           string `json:"name"`
	Level          int16  `json:"level"`
	AllowDowngrade bool   `json:"allow_downgrade,omitempty"`
}

func (SetFeatureLevel) Op() string { return "set_feature_level" }

func (c SetFeatureLevel) apply(t *txn, _ uint64) (any, error) {
	if err := c.Check(t.view()); err != nil {
		return nil, err
	}
	if t.view().FeatureLevel(c.Name) != c.Level {
		t.setFeatureLevel(c.Name, c.Level)
	}
	return nil, nil
}

// Check is apply's validation against img, for UpdateFeatures'
// ValidateOnly.
func (c SetFeatureLevel) Check(img *Image) error {
	top, ok := SupportedFeatures[c.Name]
	switch cur := img.FeatureLevel(c.Name); {
	case !ok:
		return kafkaErr(kerr.InvalidUpdateVersion, "feature %q is not supported", c.Name)
	case c.Level < 0 || c.Level > top:
		return kafkaErr(kerr.InvalidUpdateVersion, "%s level %d: supported 0-%d", c.Name, c.Level, top)
	case c.Level < cur && !c.AllowDowngrade:
		return kafkaErr(kerr.InvalidUpdateVersion, "%s level %d is below the finalized %d and no downgrade was asked for", c.Name, c.Level, cur)
	}
	return nil
}

// FeatureLevel is name's finalized level, 0 when it was never raised.
func (img *Image) FeatureLevel(name string) int16 { return img.Features[name] }

func (t *txn) setFeatureLevel(name string, level int16) {
	m := make(map[string]int16, len(t.img.Features)+1)
	for k, v := range t.img.Features {
		m[k] = v
	}
	if level == 0 {
		delete(m, name)
	} else {
		m[name] = level
	}
	t.img.Features = m
	t.changed = true
}

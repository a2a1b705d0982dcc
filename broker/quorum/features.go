package quorum

import (
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Feature levels, as Kafka's FeatureLevelRecord keeps them: the finalized
// level of each feature the cluster has raised above 0 (a feature at level
// 0 is absent, as in Kafka). UpdateFeatures proposes SetFeatureLevel on
// the controller; brokers read Image.FeatureLevel and advertise the
// finalized levels in ApiVersions.
//
// The rolling-upgrade rule (Kafka's metadata.version): a command shape
// that an older Weir would apply differently is written only once the
// finalized MetadataVersion says every node understands it. Brokers
// report the levels they support when they register (Broker.Features);
// the controller refuses to raise a feature above what some registered
// broker supports (CheckSupported) and refuses a registration that cannot
// run a finalized level (CheckRegistration). Both checks run on the
// controller before it proposes, as Kafka's do, and not in the apply: a
// registration applied by an older Weir, or read from a snapshot one
// wrote, has lost its Features, so an apply-time check on them would
// differ from node to node.

// TransactionVersion is Kafka's transaction.version feature (KIP-890): at
// 2, EndTxn bumps the producer epoch per transaction and a transactional
// produce adds its partition to the transaction.
const TransactionVersion = "transaction.version"

// MetadataVersion is Weir's own metadata.version (its own name: Kafka's
// levels name Kafka releases). Level 0 and 1: commands carry no
// preconditions (a Weir older than the feature runs 0 only). Level 2
// (MetadataPreconditions): CreatePartitions carries From and the config
// commands Base/CheckBase, which the apply checks.
const MetadataVersion = "weir.metadata.version"

// MetadataPreconditions is the MetadataVersion level from which commands
// carry preconditions checked at apply time.
const MetadataPreconditions int16 = 2

// SupportedFeatures maps each feature this broker can run to the highest
// level it supports; the lowest is 0.
var SupportedFeatures = map[string]int16{TransactionVersion: 2, MetadataVersion: 2}

// BootstrapFeatures are the levels a new cluster starts at (InitCluster),
// as Kafka formats at the latest metadata.version. transaction.version
// stays 0 until an operator raises it.
var BootstrapFeatures = map[string]int16{MetadataVersion: SupportedFeatures[MetadataVersion]}

// FeatureRange is the levels of one feature a broker can run.
type FeatureRange struct {
	Min int16 `json:"min"`
	Max int16 `json:"max"`
}

// SupportedRanges is SupportedFeatures as the ranges a broker registers.
func SupportedRanges() map[string]FeatureRange {
	m := make(map[string]FeatureRange, len(SupportedFeatures))
	for name, top := range SupportedFeatures {
		m[name] = FeatureRange{Max: top}
	}
	return m
}

// Supports is the range of name the broker registered; a feature it did
// not name, or a registration without Features (a Weir older than them),
// supports level 0 only.
func (b Broker) Supports(name string) FeatureRange { return b.Features[name] }

// SetFeatureLevel finalizes Name at Level (0 removes it). A level outside
// 0..SupportedFeatures[Name], or an unknown feature, is
// INVALID_UPDATE_VERSION; so is a lower level than the finalized one
// unless AllowDowngrade, and any downgrade of MetadataVersion from
// MetadataPreconditions (entries written since carry preconditions an
// older Weir, then allowed back, would not check). Setting the level it
// has changes nothing. The registered brokers' support is the
// controller's check (CheckSupported), not the apply's.
type SetFeatureLevel struct {
	Name           string `json:"name"`
	Level          int16  `json:"level"`
	AllowDowngrade bool   `json:"allow_downgrade,omitempty"`
}

func (SetFeatureLevel) Op() string { return "set_feature_level" }

func (c SetFeatureLevel) apply(t *txn, _ uint64) (any, error) {
	if err := c.checkLocal(t.view()); err != nil {
		return nil, err
	}
	if t.view().FeatureLevel(c.Name) != c.Level {
		t.setFeatureLevel(c.Name, c.Level)
	}
	return nil, nil
}

// Check is the controller's validation before it proposes c (and all of
// UpdateFeatures' ValidateOnly): the apply's own checks, then every
// registered broker's support.
func (c SetFeatureLevel) Check(img *Image) error {
	if err := c.checkLocal(img); err != nil {
		return err
	}
	return CheckSupported(img, c.Name, c.Level)
}

func (c SetFeatureLevel) checkLocal(img *Image) error {
	top, ok := SupportedFeatures[c.Name]
	switch cur := img.FeatureLevel(c.Name); {
	case !ok:
		return kafkaErr(kerr.InvalidUpdateVersion, "feature %q is not supported", c.Name)
	case c.Level < 0 || c.Level > top:
		return kafkaErr(kerr.InvalidUpdateVersion, "%s level %d: supported 0-%d", c.Name, c.Level, top)
	case c.Level < cur && !c.AllowDowngrade:
		return kafkaErr(kerr.InvalidUpdateVersion, "%s level %d is below the finalized %d and no downgrade was asked for", c.Name, c.Level, cur)
	case c.Name == MetadataVersion && c.Level < MetadataPreconditions && cur >= MetadataPreconditions:
		return kafkaErr(kerr.InvalidUpdateVersion, "%s cannot go below %d once reached: the metadata log holds commands with preconditions an older Weir would not check", c.Name, MetadataPreconditions)
	}
	return nil
}

// CheckSupported refuses (INVALID_UPDATE_VERSION) finalizing name at
// level while a registered broker, fenced or not, cannot run it, as
// Kafka's FeatureControlManager does.
func CheckSupported(img *Image, name string, level int16) error {
	for _, b := range img.AllBrokers() {
		if r := b.Supports(name); level < r.Min || level > r.Max {
			return kafkaErr(kerr.InvalidUpdateVersion, "invalid update version %d for feature %s: broker %d only supports versions %d-%d%s",
				level, name, b.ID, r.Min, r.Max, olderWeir(b))
		}
	}
	return nil
}

func olderWeir(b Broker) string {
	if b.Features == nil {
		return " (it registered without feature ranges: a Weir older than weir.metadata.version; upgrade and restart it)"
	}
	return ""
}

// CheckRegistration refuses (UNSUPPORTED_VERSION, Kafka's message) a
// broker registering with ranges that leave out a finalized level; a
// feature it does not name supports level 0 only.
func CheckRegistration(img *Image, features map[string]FeatureRange) error {
	for _, name := range slices.Sorted(maps.Keys(img.Features)) {
		level, r := img.Features[name], features[name]
		if level < r.Min || level > r.Max {
			return fmt.Errorf("unable to register because the broker does not support version %d of %s. It wants a version between %d and %d, inclusive: %w",
				level, name, r.Min, r.Max, kerr.UnsupportedVersion)
		}
	}
	return nil
}

// FeatureLevel is name's finalized level, 0 when it was never raised.
func (img *Image) FeatureLevel(name string) int16 { return img.Features[name] }

// Preconditions reports whether commands written now carry their
// preconditions (CreatePartitions.From, the configs' CheckBase): only
// once MetadataVersion says every node checks them.
func (img *Image) Preconditions() bool {
	return img.FeatureLevel(MetadataVersion) >= MetadataPreconditions
}

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

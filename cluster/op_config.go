package cluster

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/weirhq/weir/broker/config"
)

// ParseProperties reads server.properties text: key=value (or key: value)
// lines, # and ! comments. Every key once.
func ParseProperties(text string) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i <= 0 {
			return nil, fmt.Errorf("line %d: %q is not key=value", n, line)
		}
		k, v := strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("line %d: %s is set twice", n, k)
		}
		out[k] = v
	}
	return out, sc.Err()
}

// UpdateConfiguration makes props the cluster's configuration (the
// overrides of every broker's server.properties), MSK's
// UpdateClusterConfiguration: validated against the keys the broker knows
// (the error names the key and the rule), the configs regenerated, the
// cluster-wide dynamic keys applied at once through IncrementalAlterConfigs,
// and, when a read-only or per-broker key changed, a rolling restart of
// every broker so it starts with them.
func (cp *ControlPlane) UpdateConfiguration(ctx context.Context, props map[string]string, currentVersion string) (string, error) {
	if err := checkOverrides(props); err != nil {
		return "", fmt.Errorf("%w: %v", errBadRequest, err)
	}
	s := cp.Spec()
	changed := changedKeys(s.ConfigOverrides, props)
	if len(changed) == 0 {
		return "", fmt.Errorf("%w: the configuration is the cluster's already (revision %d)", errBadRequest, s.ConfigRevision)
	}
	op, err := cp.begin(OpUpdateConfig, currentVersion, ClusterShape{NumberOfBrokerNodes: len(s.Brokers), ConfigurationRevision: s.ConfigRevision + 1}, StateUpdating)
	if err != nil {
		return "", err
	}
	cp.run(ctx, op.ARN, func(ctx context.Context, step func(string, func() error) error) error {
		return cp.applyConfig(ctx, props, changed, step)
	})
	return op.ARN, nil
}

func (cp *ControlPlane) applyConfig(ctx context.Context, props map[string]string, changed []string, step func(string, func() error) error) error {
	dynamic, static := splitDynamic(changed)
	if err := step("write the brokers' configs (revision)", func() error { return cp.saveConfig(props) }); err != nil {
		return err
	}
	if len(dynamic) > 0 {
		if err := step("apply "+strings.Join(dynamic, ", ")+" dynamically (IncrementalAlterConfigs)", func() error {
			return cp.alterDynamic(ctx, props, dynamic)
		}); err != nil {
			return err
		}
	}
	if len(static) == 0 {
		return nil
	}
	defer cp.brokerHealingOff(ctx)()
	for _, b := range cp.Spec().Brokers {
		if err := cp.rollOne(ctx, b.ID, step); err != nil {
			return err
		}
	}
	return nil
}

// saveConfig saves the spec with the new overrides and a new revision,
// and writes every broker's server.properties.
func (cp *ControlPlane) saveConfig(props map[string]string) error {
	s := cp.Spec()
	s.ConfigOverrides, s.ConfigRevision = maps.Clone(props), s.ConfigRevision+1
	for _, b := range s.Brokers {
		if _, err := brokerProcess(s, cp.l, cp.executable(), b); err != nil {
			return err
		}
	}
	if err := SaveSpec(cp.l, s); err != nil {
		return err
	}
	cp.setSpec(s)
	return nil
}

// alterDynamic sets (or deletes) the cluster-wide dynamic keys.
func (cp *ControlPlane) alterDynamic(ctx context.Context, props map[string]string, keys []string) error {
	var alters []kadm.AlterConfig
	for _, k := range keys {
		if v, ok := props[k]; ok {
			alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(v)})
		} else {
			alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
		}
	}
	rs, err := cp.adm.AlterBrokerConfigs(ctx, alters)
	if err != nil {
		return fmt.Errorf("altering the cluster-wide configs: %w", err)
	}
	for _, r := range rs {
		if r.Err != nil {
			return fmt.Errorf("altering the cluster-wide configs: %w (%s)", r.Err, r.ErrMessage)
		}
	}
	return nil
}

// changedKeys lists the keys whose value differs between a and b, sorted.
func changedKeys(a, b map[string]string) []string {
	var out []string
	for k, v := range b {
		if old, ok := a[k]; !ok || old != v {
			out = append(out, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// splitDynamic separates the cluster-wide dynamic keys (applied at once)
// from those a broker reads only at start.
func splitDynamic(keys []string) (dynamic, static []string) {
	for _, k := range keys {
		if key, ok := config.LookupBrokerKey(k); ok && key.Dynamic == config.ClusterWide {
			dynamic = append(dynamic, k)
		} else {
			static = append(static, k)
		}
	}
	return dynamic, static
}

// Upgrade restarts every process onto another weir binary, brokers one at
// a time the safe way (as reboot-broker), then the agents and the
// collector. The binary must run and say its version.
func (cp *ControlPlane) Upgrade(ctx context.Context, binary, currentVersion string) (string, error) {
	ver, err := binaryVersion(ctx, binary)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errBadRequest, err)
	}
	s := cp.Spec()
	op, err := cp.begin(OpUpgrade, currentVersion, ClusterShape{NumberOfBrokerNodes: len(s.Brokers), SoftwareVersion: ver}, StateUpdating)
	if err != nil {
		return "", err
	}
	cp.run(ctx, op.ARN, func(ctx context.Context, step func(string, func() error) error) error {
		return cp.upgrade(ctx, binary, step)
	})
	return op.ARN, nil
}

func (cp *ControlPlane) upgrade(ctx context.Context, binary string, step func(string, func() error) error) error {
	cp.mu.Lock()
	cp.mu.exe = binary
	cp.mu.Unlock()
	st, err := cp.sup.Statuses(ctx)
	if err != nil {
		return err
	}
	for _, x := range st {
		if !runsWeir(x.Name) {
			continue
		}
		if err := cp.sup.Update(ctx, x.Name, func(p *Process) { p.Path = binary }); err != nil {
			return err
		}
	}
	restore := cp.brokerHealingOff(ctx)
	for _, b := range cp.Spec().Brokers {
		if err := cp.rollOne(ctx, b.ID, step); err != nil {
			restore()
			return err
		}
	}
	restore()
	for _, x := range st {
		if strings.HasPrefix(x.Name, "broker ") || x.State == Stopped || !runsWeir(x.Name) {
			continue
		}
		if err := step("restart "+x.Name, func() error { return cp.restartProcess(ctx, x.Name) }); err != nil {
			return err
		}
	}
	return nil
}

func (cp *ControlPlane) restartProcess(ctx context.Context, name string) error {
	if err := cp.sup.Hold(ctx, name); err != nil {
		return err
	}
	return cp.sup.Release(ctx, name)
}

// binaryVersion runs `<binary> version` and returns its first line.
func binaryVersion(ctx context.Context, binary string) (string, error) {
	if _, err := os.Stat(binary); err != nil {
		return "", fmt.Errorf("the binary %s: %w", binary, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "version").Output()
	if err != nil {
		return "", fmt.Errorf("%s version: %w", binary, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line, nil
}

package cluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Delete is MSK's DeleteCluster: the cluster goes DELETING, weir up stops
// every process (brokers with a controlled shutdown, agents, collector,
// autoscaler, monitoring), then removes what it created in the cluster
// directory, data included, and exits. It is refused while an operation
// runs (MSK deletes a cluster in any state; here an operation would be cut
// off half done, and the caller can wait for it). ref must name this
// cluster by its ARN, name or id: "current" is not enough for a delete.
func (cp *ControlPlane) Delete(ref, currentVersion string) error {
	arn := cp.ClusterARN()
	if ref == "current" || !cp.isThisCluster(ref) {
		return fmt.Errorf("%w: name the cluster to delete by its ARN, name or id (this is %s)", errBadRequest, arn)
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if currentVersion != "" && currentVersion != cp.versionLocked() {
		return fmt.Errorf("%w: currentVersion %s is not the cluster's %s; describe the cluster and retry", errBadRequest, currentVersion, cp.versionLocked())
	}
	if r := cp.mu.ops.running(); r != nil {
		return fmt.Errorf("%w: it is %s: operation %s (%s) holds it; delete when it ends", errBusy, cp.mu.state, r.ARN, r.Type)
	}
	if cp.shutdown == nil {
		return fmt.Errorf("%w: this control plane cannot stop its weir up", errBadRequest)
	}
	cp.mu.state = StateDeleting
	cp.mu.deleting = true
	cp.logger.Printf("cluster %s: DELETING, stopping every process", arn)
	cp.shutdown()
	return nil
}

// Deleting reports whether the cluster was deleted: weir up removes its
// files once every process has stopped.
func (cp *ControlPlane) Deleting() bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.mu.deleting
}

// removeCluster removes what weir up created in the cluster directory
// (every broker's data, the logs, the spec, the operations, the
// collector's, autoscaler's and monitoring's files), and the directory if
// nothing else is left in it. Other files are left alone.
func removeCluster(l Layout) error {
	entries, err := os.ReadDir(l.Dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		n := e.Name()
		ours := strings.HasPrefix(n, "broker-") || n == "collector" || n == "autoscaler" || n == "monitoring" ||
			n == filepath.Base(l.SpecPath()) || n == "operations.json" || n == filepath.Base(l.EndpointsPath()) ||
			n == filepath.Base(l.LockPath())
		if !ours {
			continue
		}
		if err := os.RemoveAll(filepath.Join(l.Dir, n)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(l.Dir); err != nil && !errors.Is(err, fs.ErrNotExist) && !isNotEmpty(err) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func isNotEmpty(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "not empty")
}

package cluster

import (
	"errors"
	"io"
	"log"
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveClusterLeavesOthersFiles: a deleted cluster's files go, and
// the directory with them, unless it holds files weir up did not create.
func TestRemoveClusterLeavesOthersFiles(t *testing.T) {
	l := Layout{Dir: filepath.Join(t.TempDir(), "c")}
	for _, p := range []string{l.DataDir(1), l.DataDir(2), l.CollectorDir(), l.AutoscalerDir(), l.TargetsDir()} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{l.SpecPath(), l.EndpointsPath(), l.LockPath(), filepath.Join(l.Dir, "operations.json"),
		filepath.Join(l.DataDir(1), "00000000000000000000.log")} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mine := filepath.Join(l.Dir, "notes.txt")
	if err := os.WriteFile(mine, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := removeCluster(l); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(l.Dir)
	if len(entries) != 1 || entries[0].Name() != "notes.txt" {
		t.Errorf("left %v, want only notes.txt", entries)
	}
	os.Remove(mine)
	if err := removeCluster(l); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the emptied directory is still there: %v", err)
	}
}

// TestDeleteRefusals: a delete names the cluster, and waits for a running
// operation.
func TestDeleteRefusals(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	ops, err := loadOps(l)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	cp := &ControlPlane{l: l, shutdown: func() { stopped = true }}
	cp.mu.spec, cp.mu.state, cp.mu.ops = newSpec(t, Request{Brokers: 1}), StateActive, ops
	cp.logger = log.New(io.Discard, "", 0)
	for _, ref := range []string{"current", "other-cluster"} {
		if err := cp.Delete(ref, ""); !errors.Is(err, errBadRequest) {
			t.Errorf("Delete(%q) = %v, want a bad request", ref, err)
		}
	}
	if err := cp.Delete(cp.ClusterARN(), "K7"); !errors.Is(err, errBadRequest) {
		t.Errorf("a stale version: %v", err)
	}
	cp.mu.ops.ops = append(cp.mu.ops.ops, Operation{ARN: "op-1", Type: OpUpdateBrokerCount, State: OpInProgress})
	if err := cp.Delete(cp.ClusterARN(), ""); !errors.Is(err, errBusy) {
		t.Errorf("during an operation: %v, want busy", err)
	}
	cp.mu.ops.ops[0].State = OpComplete
	if err := cp.Delete(cp.ClusterARN(), ""); err != nil || !stopped || !cp.Deleting() || cp.mu.state != StateDeleting {
		t.Errorf("Delete = %v (stopped %v, deleting %v, state %s)", err, stopped, cp.Deleting(), cp.mu.state)
	}
}

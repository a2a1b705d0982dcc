package cloudwatch

import (
	"fmt"
	"os"
	"path/filepath"
)

// Example is the target of the checked-in examples: the cluster `make run`
// starts (its agents' cluster_name is the directory's name, weir-data).
var Example = Target{Cluster: "weir-data", Brokers: []int{1, 2, 3},
	GroupLags: []GroupTopic{{Group: "readers", Topic: "orders"}}, Region: "us-east-1"}

// Files renders the dashboard body and the alarms of t, by file name.
func Files(t Target, prefix string) (map[string][]byte, error) {
	body, err := Marshal(Dashboard(t))
	if err != nil {
		return nil, err
	}
	alarms, err := Marshal(Alarms(t))
	if err != nil {
		return nil, err
	}
	return map[string][]byte{prefix + "-dashboard.json": body, prefix + "-alarms.json": alarms}, nil
}

// Write writes t's files into dir, named after the cluster.
func Write(dir string, t Target) error { return write(dir, t, t.Cluster) }

// WriteExamples rewrites example-dashboard.json and example-alarms.json.
func WriteExamples(dir string) error { return write(dir, Example, "example") }

func write(dir string, t Target, prefix string) error {
	files, err := Files(t, prefix)
	if err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// Command gen writes Weir's Grafana dashboards (package grafana) to
// dashboards/grafana/<uid without "weir-">.json. Run from the module root or
// from dashboards/grafana (go generate).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/weirhq/weir/dashboards/grafana"
)

func main() {
	dir := "."
	if _, err := os.Stat("dashboards/grafana"); err == nil {
		dir = "dashboards/grafana"
	}
	for _, d := range grafana.All() {
		b, err := grafana.Marshal(d)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		path := filepath.Join(dir, grafana.FileName(d))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

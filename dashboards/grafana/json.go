package grafana

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Marshal renders a dashboard as the checked-in JSON: indented, with a
// trailing newline.
func Marshal(d *Dashboard) ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal dashboard %s: %w", d.UID, err)
	}
	return append(b, '\n'), nil
}

// FileName is the dashboard's file: its uid without the "weir-" prefix.
func FileName(d *Dashboard) string {
	return strings.TrimPrefix(d.UID, "weir-") + ".json"
}

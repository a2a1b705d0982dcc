// Package grafana holds Weir's Grafana dashboards as code: small typed
// builders (this file and builder.go) for the part of Grafana's dashboard
// JSON model the dashboards use, and one file per dashboard. `go generate`
// (or `go run ./dashboards/grafana/gen`) writes them to the checked-in
// *.json files beside this one; TestGeneratedJSONIsCurrent fails when those
// are stale, and e2e/dashboards_live_test.go runs every query on a live
// cluster.
//
// The queries use the names of docs/METRICS.md and docs/AGENT.md, the
// recording rules of dashboards/prometheus, and the cluster and broker target
// labels that docs/DASHBOARDS.md asks the scrape config for.
package grafana

//go:generate go run ./gen

// SchemaVersion is the Grafana dashboard schema the JSON is written in
// (Grafana 10 and 11 read it without migration).
const SchemaVersion = 39

// Dashboard is one Grafana dashboard.
type Dashboard struct {
	UID           string     `json:"uid"`
	Title         string     `json:"title"`
	Description   string     `json:"description"`
	Tags          []string   `json:"tags"`
	Editable      bool       `json:"editable"`
	GraphTooltip  int        `json:"graphTooltip"`
	Refresh       string     `json:"refresh"`
	SchemaVersion int        `json:"schemaVersion"`
	Time          TimeRange  `json:"time"`
	Timezone      string     `json:"timezone"`
	Templating    Templating `json:"templating"`
	Panels        []*Panel   `json:"panels"`
	Version       int        `json:"version"`
}

// TimeRange is the dashboard's default time range.
type TimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Templating holds the template variables.
type Templating struct {
	List []Variable `json:"list"`
}

// Variable is a template variable: the data source, or a query on it.
type Variable struct {
	Name        string       `json:"name"`
	Label       string       `json:"label"`
	Description string       `json:"description,omitempty"`
	Type        string       `json:"type"` // "datasource" or "query"
	Datasource  *DataSource  `json:"datasource,omitempty"`
	Query       any          `json:"query"`
	Definition  string       `json:"definition,omitempty"`
	Refresh     int          `json:"refresh,omitempty"` // 2: on time range change
	Sort        int          `json:"sort,omitempty"`
	IncludeAll  bool         `json:"includeAll"`
	AllValue    string       `json:"allValue,omitempty"`
	Multi       bool         `json:"multi"`
	Current     VariableOpts `json:"current"`
	Hide        int          `json:"hide"`
}

// VariableOpts is a variable's current selection.
type VariableOpts struct {
	Text  any `json:"text,omitempty"`
	Value any `json:"value,omitempty"`
}

// VariableQuery is a Prometheus query variable's query.
type VariableQuery struct {
	Query string `json:"query"`
	RefID string `json:"refId"`
}

// DataSource points a panel or variable at a data source.
type DataSource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Panel is one panel, or a row.
type Panel struct {
	ID          int          `json:"id"`
	Type        string       `json:"type"`
	Title       string       `json:"title"`
	Description string       `json:"description,omitempty"`
	GridPos     GridPos      `json:"gridPos"`
	Datasource  *DataSource  `json:"datasource,omitempty"`
	Targets     []Target     `json:"targets,omitempty"`
	FieldConfig *FieldConfig `json:"fieldConfig,omitempty"`
	Options     any          `json:"options,omitempty"`
	Collapsed   *bool        `json:"collapsed,omitempty"`
	Panels      []*Panel     `json:"panels,omitempty"`

	// Transformations reshape a table's frames (drop the time and value
	// columns of an instant query, leaving its labels).
	Transformations []any `json:"transformations,omitempty"`
}

// GridPos places a panel on the 24-column grid.
type GridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// Target is one Prometheus query of a panel.
type Target struct {
	RefID        string      `json:"refId"`
	Datasource   *DataSource `json:"datasource"`
	Expr         string      `json:"expr"`
	LegendFormat string      `json:"legendFormat,omitempty"`
	Instant      bool        `json:"instant,omitempty"`
	Range        bool        `json:"range"`
	Format       string      `json:"format,omitempty"` // "table": one row per series (Table panels)
}

// FieldConfig holds a panel's unit, thresholds and limits.
type FieldConfig struct {
	Defaults  FieldDefaults `json:"defaults"`
	Overrides []any         `json:"overrides"`
}

// FieldDefaults are the field options every series of a panel gets.
type FieldDefaults struct {
	Unit       string         `json:"unit,omitempty"`
	Decimals   *int           `json:"decimals,omitempty"`
	Min        *float64       `json:"min,omitempty"`
	Max        *float64       `json:"max,omitempty"`
	Thresholds Thresholds     `json:"thresholds"`
	Color      map[string]any `json:"color"`
	Custom     map[string]any `json:"custom,omitempty"`
}

// Thresholds colour values: the first step's Value is nil (the base).
type Thresholds struct {
	Mode  string `json:"mode"`
	Steps []Step `json:"steps"`
}

// Step is one threshold.
type Step struct {
	Color string   `json:"color"`
	Value *float64 `json:"value"`
}

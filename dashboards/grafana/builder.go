package grafana

import "fmt"

// Units are Grafana's unit ids.
const (
	UnitNone        = "none"
	UnitShort       = "short"
	UnitBytesPerSec = "Bps"
	UnitBytes       = "bytes"
	UnitPercent     = "percent" // 0-100
	UnitPercentUnit = "percentunit"
	UnitSeconds     = "s"
	UnitMillis      = "ms"
	UnitPerSec      = "reqps"
	UnitPerMin      = "opm"
	UnitRecsPerSec  = "cps"
)

// Colours for thresholds.
const (
	Green  = "green"
	Yellow = "yellow"
	Red    = "red"
	Blue   = "blue"
)

var promDS = &DataSource{Type: "prometheus", UID: "${datasource}"}

// Builder lays panels out left to right, top to bottom, on the 24-column grid.
type Builder struct {
	d      Dashboard
	x, y   int
	rowH   int
	nextID int
}

// New starts a dashboard with the data source and cluster variables.
func New(uid, title, description string) *Builder {
	b := &Builder{d: Dashboard{
		UID: uid, Title: title, Description: description, Tags: []string{"weir", "kafka"},
		Editable: true, GraphTooltip: 1, Refresh: "30s", SchemaVersion: SchemaVersion,
		Time: TimeRange{From: "now-1h", To: "now"}, Timezone: "browser", Version: 1,
	}, nextID: 1}
	b.d.Templating.List = []Variable{{
		Name: "datasource", Label: "Data source", Type: "datasource", Query: "prometheus",
		Current: VariableOpts{},
	}}
	return b.Var("cluster", "Cluster", `label_values(kafka_brokers, cluster)`,
		"The cluster label the scrape config sets (docs/DASHBOARDS.md).")
}

// Var adds a query variable over label_values(...); All matches every value,
// and also series without the label.
func (b *Builder) Var(name, label, query, description string) *Builder {
	b.d.Templating.List = append(b.d.Templating.List, Variable{
		Name: name, Label: label, Description: description, Type: "query", Datasource: promDS,
		Query: VariableQuery{Query: query, RefID: "PrometheusVariableQueryEditor-VariableQuery"}, Definition: query,
		Refresh: 2, Sort: 3, IncludeAll: true, AllValue: ".*", Multi: true,
		Current: VariableOpts{Text: []string{"All"}, Value: []string{"$__all"}},
	})
	return b
}

// Row starts a new row of panels.
func (b *Builder) Row(title string) *Builder {
	b.newline()
	f := false
	b.d.Panels = append(b.d.Panels, &Panel{ID: b.id(), Type: "row", Title: title, Collapsed: &f,
		GridPos: GridPos{H: 1, W: 24, X: 0, Y: b.y}, Panels: []*Panel{}})
	b.y++
	return b
}

// Add places panels after the ones before them, wrapping at 24 columns.
func (b *Builder) Add(ps ...*PanelBuilder) *Builder {
	for _, pb := range ps {
		p := pb.p
		if b.x+p.GridPos.W > 24 {
			b.newline()
		}
		p.ID = b.id()
		p.GridPos.X, p.GridPos.Y = b.x, b.y
		b.x += p.GridPos.W
		b.rowH = max(b.rowH, p.GridPos.H)
		for i := range p.Targets {
			p.Targets[i].RefID = string(rune('A' + i))
		}
		b.d.Panels = append(b.d.Panels, p)
	}
	return b
}

func (b *Builder) newline() {
	b.y += b.rowH
	b.x, b.rowH = 0, 0
}

func (b *Builder) id() int {
	b.nextID++
	return b.nextID - 1
}

// Dashboard returns the built dashboard.
func (b *Builder) Dashboard() *Dashboard { return &b.d }

// PanelBuilder builds one panel.
type PanelBuilder struct{ p *Panel }

// TimeSeries is a graph over the dashboard's time range.
func TimeSeries(title, description string) *PanelBuilder {
	return newPanel("timeseries", title, description, 12, 8, map[string]any{
		"legend":  map[string]any{"displayMode": "table", "placement": "bottom", "showLegend": true, "calcs": []string{"lastNotNull", "max"}},
		"tooltip": map[string]any{"mode": "multi", "sort": "desc"},
	})
}

// Stat is one big number (the last value).
func Stat(title, description string) *PanelBuilder {
	return newPanel("stat", title, description, 4, 4, map[string]any{
		"reduceOptions": map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
		"colorMode":     "background", "graphMode": "area", "justifyMode": "auto", "textMode": "auto", "orientation": "auto",
	})
}

// StateTimeline draws each series as a band over time, coloured by its
// value through the thresholds: when each hold was on, for instance.
func StateTimeline(title, description string) *PanelBuilder {
	pb := newPanel("state-timeline", title, description, 24, 6, map[string]any{
		"showValue": "never", "mergeValues": true, "rowHeight": 0.8, "alignValue": "left",
		"legend":  map[string]any{"displayMode": "list", "placement": "bottom", "showLegend": false},
		"tooltip": map[string]any{"mode": "single", "sort": "none"},
	})
	pb.p.FieldConfig.Defaults.Color = map[string]any{"mode": "thresholds"}
	pb.p.FieldConfig.Defaults.Custom = map[string]any{"fillOpacity": 80, "lineWidth": 0}
	return pb
}

// Table lists the series of its instant queries one per row, by their
// labels (the time and value columns dropped).
func Table(title, description string) *PanelBuilder {
	pb := newPanel("table", title, description, 12, 6, map[string]any{
		"showHeader": true, "cellHeight": "sm",
		"footer": map[string]any{"show": false, "reducer": []string{"sum"}, "fields": ""},
	})
	pb.p.FieldConfig.Defaults.Custom = map[string]any{"align": "auto", "cellOptions": map[string]any{"type": "auto"}}
	pb.p.Transformations = []any{
		map[string]any{"id": "merge", "options": map[string]any{}},
		map[string]any{"id": "organize", "options": map[string]any{"excludeByName": map[string]any{"Time": true, "Value": true}}},
	}
	return pb
}

func newPanel(typ, title, description string, w, h int, options map[string]any) *PanelBuilder {
	if description == "" {
		panic(fmt.Sprintf("panel %q has no description", title))
	}
	fc := &FieldConfig{Overrides: []any{}, Defaults: FieldDefaults{
		Unit:       UnitShort,
		Thresholds: Thresholds{Mode: "absolute", Steps: []Step{{Color: Green}}},
		Color:      map[string]any{"mode": "palette-classic"},
	}}
	if typ == "stat" {
		fc.Defaults.Color = map[string]any{"mode": "thresholds"}
	} else {
		fc.Defaults.Custom = map[string]any{"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
			"showPoints": "never", "spanNulls": false, "thresholdsStyle": map[string]any{"mode": "off"}}
	}
	return &PanelBuilder{p: &Panel{Type: typ, Title: title, Description: description, Datasource: promDS,
		GridPos: GridPos{W: w, H: h}, FieldConfig: fc, Options: options}}
}

// Query adds a query; legend is Grafana's legend format ("{{broker}}").
func (pb *PanelBuilder) Query(expr, legend string) *PanelBuilder {
	pb.p.Targets = append(pb.p.Targets, Target{Datasource: promDS, Expr: expr, LegendFormat: legend,
		Range: true})
	return pb
}

// Instant makes the queries instant (the latest value only) and, on a
// table, one row per series.
func (pb *PanelBuilder) Instant() *PanelBuilder {
	for i := range pb.p.Targets {
		pb.p.Targets[i].Instant, pb.p.Targets[i].Range = true, false
		if pb.p.Type == "table" {
			pb.p.Targets[i].Format = "table"
		}
	}
	return pb
}

// Stepped draws a time series as steps: for counts and sizes that change
// at an instant and hold (brokers, provisioned bytes, actions so far).
func (pb *PanelBuilder) Stepped() *PanelBuilder {
	pb.p.FieldConfig.Defaults.Custom["lineInterpolation"] = "stepAfter"
	return pb
}

// Stacked stacks a time series' series: parts that add up to a whole
// (the phases of a request's time).
func (pb *PanelBuilder) Stacked() *PanelBuilder {
	pb.p.FieldConfig.Defaults.Custom["stacking"] = map[string]any{"mode": "normal", "group": "A"}
	return pb
}

// Unit sets the unit of every series.
func (pb *PanelBuilder) Unit(u string) *PanelBuilder {
	pb.p.FieldConfig.Defaults.Unit = u
	return pb
}

// Min sets the axis minimum.
func (pb *PanelBuilder) Min(v float64) *PanelBuilder {
	pb.p.FieldConfig.Defaults.Min = &v
	return pb
}

// Max sets the axis maximum.
func (pb *PanelBuilder) Max(v float64) *PanelBuilder {
	pb.p.FieldConfig.Defaults.Max = &v
	return pb
}

// Width sets the panel's width in grid columns (of 24).
func (pb *PanelBuilder) Width(w int) *PanelBuilder {
	pb.p.GridPos.W = w
	return pb
}

// Height sets the panel's height in grid rows.
func (pb *PanelBuilder) Height(h int) *PanelBuilder {
	pb.p.GridPos.H = h
	return pb
}

// Thresholds colours values from base upwards: each step's colour applies
// from its value on. On a time series the thresholds are drawn as lines.
func (pb *PanelBuilder) Thresholds(base string, steps ...Step) *PanelBuilder {
	pb.p.FieldConfig.Defaults.Thresholds.Steps = append([]Step{{Color: base}}, steps...)
	if pb.p.Type == "timeseries" {
		pb.p.FieldConfig.Defaults.Custom["thresholdsStyle"] = map[string]any{"mode": "line"}
	}
	return pb
}

// At is a threshold step: colour from value v on.
func At(v float64, color string) Step { return Step{Color: color, Value: &v} }

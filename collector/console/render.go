package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/weirhq/weir/internal/bytesize"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFiles embed.FS

// staticFS holds static/console.css and static/console.js.
var staticFS fs.FS = staticFiles

// pages maps a page's name (its template file without .html) to the
// layout parsed with that page.
type pages map[string]*template.Template

func parsePages() (pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	ps := pages{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, fmt.Errorf("parsing the console's %s page: %w", base, err)
		}
		ps[base] = t
	}
	return ps, nil
}

// view is what every page's template gets.
type view struct {
	Title   string
	Nav     string // the nav entry to highlight
	Refresh int    // seconds between live refreshes, 0 for none
	Token   string
	Now     time.Time
	Data    any
}

// render writes page with data. A request with the X-Console-Partial
// header (the live refresh) gets the page's content only.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) error {
	t, ok := c.pages[page]
	if !ok {
		return fmt.Errorf("no console page %q", page)
	}
	v.Token = c.token()
	v.Now = c.o.Now()
	name := "layout.html"
	if r.Header.Get("X-Console-Partial") != "" {
		name = "content"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		return &pageError{http.StatusInternalServerError, fmt.Sprintf("rendering the %s page: %v", page, err)}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// renderError writes the error page.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status >= 500 {
		c.o.Logger.Warn("console: page failed", "path", r.URL.Path, "status", status, "err", err)
	}
	title := http.StatusText(status)
	if rerr := c.render(w, r, status, "error", view{Title: title, Data: map[string]any{"Status": status, "Message": err.Error()}}); rerr != nil {
		http.Error(w, err.Error(), status)
	}
}

var funcs = template.FuncMap{
	"bytes": func(v any) string {
		n := toFloat(v)
		if n < 0 {
			return "?"
		}
		return bytesize.Human(int64(n))
	},
	"mb":   humanMB,
	"rate": humanRate,
	"pct":  func(v float64) string { return fmt.Sprintf("%.1f %%", v) },
	"f1":   func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"f3":   func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"ms": func(ms int64) string {
		if ms <= 0 {
			return ""
		}
		return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05")
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"ago":           func(d time.Duration) string { return d.Round(100 * time.Millisecond).String() },
	"heat":          heat,
	"toF":           toFloat,
	"navItems":      func() [][3]string { return navItems },
	"formats":       func() []string { return []string{"auto", "text", "json", "hex"} },
	"fields":        func() []string { return []string{"any", "key", "value", "headers"} },
	"progressWidth": func(pct float64) string { return fmt.Sprintf("%.1f", 4*math.Max(0, math.Min(100, pct))) },
	"bar":           bar,
	"join": func(xs []int32) string {
		parts := make([]string, len(xs))
		for i, x := range xs {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, ",")
	},
	"deref": func(p *int64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprint(*p)
	},
}

// navItems are the nav's entries: name, path under Prefix, label.
var navItems = [][3]string{
	{"overview", "", "Overview"}, {"load", "load", "Load"}, {"topics", "topics", "Topics"}, {"groups", "groups", "Groups"},
	{"rebalance", "rebalance", "Rebalance"}, {"anomalies", "anomalies", "Anomalies"}, {"operations", "operations", "Operations"},
	{"autoscaler", "autoscaler", "Autoscaler"},
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int32:
		return float64(n)
	case int64:
		return float64(n)
	case float64:
		return n
	}
	return 0
}

// heat is a cell's background for a utilization in percent: green at 0,
// yellow at 50, red at 100 and above.
func heat(pct float64) template.CSS {
	if math.IsNaN(pct) || pct < 0 {
		return "background:#eee"
	}
	hue := 120 - math.Min(pct, 100)*1.2
	return template.CSS(fmt.Sprintf("background:hsl(%.0f,70%%,%.0f%%)", hue, 80-math.Min(pct, 100)*0.2))
}

// bar is a small inline SVG bar of used out of total (total ≤ 0: empty).
func bar(used, total float64) template.HTML {
	frac := 0.0
	if total > 0 {
		frac = math.Max(0, math.Min(1, used/total))
	}
	color := "#3a7"
	switch {
	case frac >= 0.9:
		color = "#c33"
	case frac >= 0.7:
		color = "#d90"
	}
	return template.HTML(fmt.Sprintf(`<svg class="bar" width="120" height="10" role="img" aria-label="%.0f%%"><rect width="120" height="10" fill="#ddd"/><rect width="%.1f" height="10" fill="%s"/></svg>`,
		frac*100, frac*120, color))
}

// humanMB formats Cruise Control's MB.
func humanMB(v float64) string { return bytesize.Human(int64(v * 1e6)) }

// humanRate formats Cruise Control's KB/s.
func humanRate(kbps float64) string { return bytesize.Human(int64(kbps*1000)) + "/s" }

func pctLabel(v float64) string {
	if v < 0 || math.IsNaN(v) {
		return "?"
	}
	return fmt.Sprintf("%.1f %%", v)
}

// roundDuration keeps a duration's figures readable: milliseconds below a
// second, tenths of a second above.
func roundDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

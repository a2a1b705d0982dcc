package autoscaler

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/weirhq/weir/autoscaler/policy"
)

// Handler serves the autoscaler's HTTP API:
//
//	GET  /metrics     its Prometheus series
//	GET  /healthz     200 while it runs
//	GET  /v1/last     the last evaluation (JSON; ?format=text for lines)
//	GET  /v1/plan     what it would do now and why, without acting
//	POST /v1/plan     the same for the policy file in the body (YAML), to
//	                  try a policy against the live cluster before using it
func (a *Autoscaler) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /v1/last", func(w http.ResponseWriter, r *http.Request) { writeReport(w, r, a.Last()) })
	mux.HandleFunc("GET /v1/plan", func(w http.ResponseWriter, r *http.Request) { writeReport(w, r, a.Plan(r.Context(), nil)) })
	mux.HandleFunc("POST /v1/plan", func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "reading the policy: "+err.Error(), http.StatusBadRequest)
			return
		}
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "posted policy"
		}
		p, err := policy.Parse(data, name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeReport(w, r, a.Plan(r.Context(), p))
	})
	return mux
}

func writeReport(w http.ResponseWriter, r *http.Request, rep Report) {
	if r.URL.Query().Get("format") == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, rep.String())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(rep)
}

package grafana

import "strings"

// requestPhases are the phases Kafka's RequestMetrics time a request in,
// in the order they happen, with their summaries' names. Stacked, they add
// up to the request's total time (with the throttle time, 0 on Weir).
var requestPhases = []struct{ legend, metric string }{
	{"request queue", "requestqueuetimems"},
	{"local", "localtimems"},
	{"remote", "remotetimems"},
	{"response queue", "responsequeuetimems"},
	{"response send", "responsesendtimems"},
}

// phaseMean is the mean milliseconds per request of one phase over the
// rate window, Δsum/Δcount of its summary, summed by the labels in by
// ("" for the whole selection).
func phaseMean(metric, sel, request, by string) string {
	name := "kafka_network_requestmetrics_" + metric
	s := sel + `,request="` + request + `"`
	agg := "sum"
	if by != "" {
		agg = "sum by (" + by + ")"
	}
	return agg + ` (rate(` + name + `_sum{` + s + `}` + window + `)) / ` +
		agg + ` (rate(` + name + `_count{` + s + `}` + window + `))`
}

// phasePanel stacks the mean time of each phase of one request kind.
func phasePanel(title, description, sel, request, by string) *PanelBuilder {
	pb := TimeSeries(title, description)
	legend := ""
	for _, l := range strings.Split(by, ",") {
		if l = strings.TrimSpace(l); l != "" {
			legend += " {{" + l + "}}"
		}
	}
	for _, ph := range requestPhases {
		pb.Query(phaseMean(ph.metric, sel, request, by), ph.legend+legend)
	}
	return pb.Unit(UnitMillis).Min(0).Stacked()
}

// idlePanel is the request handler's and the network processor's idle
// share by broker, 0-1 as in Kafka (MSK's CloudWatch shows them in
// percent), with the alerts' 30 % line.
func idlePanel(sel string) *PanelBuilder {
	return TimeSeries("Request handler and network processor idle", "Share of the broker's processors idle, averaged over a minute, 0-1 as Kafka's RequestHandlerAvgIdlePercent and NetworkProcessorAvgIdlePercent (Weir has no thread pools: 1 − the broker's CPU time, and 1 − the time spent decoding, encoding and writing, over GOMAXPROCS × elapsed; docs/METRICS.md). Under 30 % for 15 minutes: alerts KafkaRequestHandlerIdleLow and KafkaNetworkProcessorIdleLow (agent level PER_BROKER).").
		Query(`kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent{`+sel+`}`, "request handler {{broker}}").
		Query(`kafka_network_socketserver_networkprocessoravgidlepercent{`+sel+`}`, "network processor {{broker}}").
		Unit(UnitPercentUnit).Min(0).Max(1).Thresholds(Red, At(0.3, Green))
}

package console

import (
	"net/http"
	"sort"
	"time"
)

func (c *Console) anomalies(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := c.ctx(r)
	defer cancel()
	st, err := c.cc.Anomalies(ctx)
	data := map[string]any{"Err": errText(err)}
	if st != nil {
		all := st.All()
		sort.SliceStable(all, func(i, j int) bool { return all[i].DetectionMs > all[j].DetectionMs })
		data["State"], data["All"] = st, all
	}
	return c.render(w, r, http.StatusOK, "anomalies", view{Title: "Anomalies", Nav: "anomalies", Refresh: 5, Data: data})
}

// operation is a control-plane operation as MSK's API gives it.
type operation struct {
	ARN     string     `json:"operationArn"`
	Type    string     `json:"operationType"`
	State   string     `json:"operationState"`
	Created time.Time  `json:"creationTime"`
	End     *time.Time `json:"endTime"`
	Steps   []struct {
		Name   string `json:"stepName"`
		Status string `json:"stepStatus"`
		Detail string `json:"detail"`
	} `json:"operationSteps"`
	Error *struct {
		Code   string `json:"errorCode"`
		String string `json:"errorString"`
	} `json:"errorInfo"`
}

func (c *Console) operations(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := c.ctx(r)
	defer cancel()
	data := map[string]any{"Configured": c.o.ControlPlane != "", "Actions": c.Actions()}
	if c.o.ControlPlane != "" {
		var out struct {
			Ops []operation `json:"clusterOperationInfoList"`
		}
		if err := c.getJSON(ctx, c.o.ControlPlane, "/v1/clusters/current/operations", &out); err != nil {
			data["Err"] = err.Error()
		}
		sort.SliceStable(out.Ops, func(i, j int) bool { return out.Ops[i].Created.After(out.Ops[j].Created) })
		data["Ops"] = out.Ops
		state, err := c.clusterState(ctx)
		data["State"], data["StateErr"] = state, errText(err)
	}
	return c.render(w, r, http.StatusOK, "operations", view{Title: "Operations", Nav: "operations", Refresh: 5, Data: data})
}

// autoscalerReport is the autoscaler's /v1/last and /v1/plan answer, the
// parts the page shows.
type autoscalerReport struct {
	At      time.Time `json:"at"`
	Policy  string    `json:"policy"`
	Cluster struct {
		State       string          `json:"State"`
		Brokers     int             `json:"Brokers"`
		Provisioned map[int32]int64 `json:"Provisioned"`
		Operation   string          `json:"Operation"`
	} `json:"cluster"`
	Decision struct {
		Actions []struct {
			Kind         string  `json:"Kind"`
			Brokers      []int32 `json:"Brokers"`
			StorageBytes int64   `json:"StorageBytes"`
			BrokerCount  int     `json:"BrokerCount"`
			Reason       string  `json:"Reason"`
		} `json:"Actions"`
		Holds []struct {
			Kind    string    `json:"Kind"`
			Blocked string    `json:"Blocked"`
			Until   time.Time `json:"Until"`
			Reason  string    `json:"Reason"`
		} `json:"Holds"`
	} `json:"decision"`
	// Latest is each broker's last sample, keyed by broker id.
	Latest map[string]struct {
		StorageUsed        int64
		StorageProvisioned int64
		CPUPercent         float64
		NetworkIn          float64
		NetworkOut         float64
	} `json:"latest"`
	Started []struct {
		Operation string `json:"operation"`
		Error     string `json:"error"`
	} `json:"started"`
	Errors []string `json:"errors"`
}

func (c *Console) autoscaler(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := c.ctx(r)
	defer cancel()
	data := map[string]any{"Configured": c.o.Autoscaler != ""}
	if c.o.Autoscaler != "" {
		var last, plan autoscalerReport
		if err := c.getJSON(ctx, c.o.Autoscaler, "/v1/last", &last); err != nil {
			data["LastErr"] = err.Error()
		} else {
			data["Last"] = last
		}
		if err := c.getJSON(ctx, c.o.Autoscaler, "/v1/plan", &plan); err != nil {
			data["PlanErr"] = err.Error()
		} else {
			data["Plan"] = plan
		}
	}
	return c.render(w, r, http.StatusOK, "autoscaler", view{Title: "Autoscaler", Nav: "autoscaler", Refresh: 10, Data: data})
}

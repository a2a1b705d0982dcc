package console

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"

	"github.com/weirhq/weir/collector/ccclient"
)

// moveRow is one broker's share of a proposal.
type moveRow struct {
	Broker int32
	ccclient.BrokerMoves
}

// balanceRow is one resource's spread over the brokers before and after.
type balanceRow struct {
	Resource                       string
	Unit                           string
	BeforeLo, BeforeMean, BeforeHi float64
	AfterLo, AfterMean, AfterHi    float64
}

type rebalanceView struct {
	Proposal    *ccclient.Optimization
	ProposalErr string
	Moves       []moveRow
	Balance     []balanceRow
	Executor    *ccclient.ExecutorState
	ExecutorErr string
	Percent     float64
}

func (c *Console) rebalance(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := c.ctx(r)
	defer cancel()
	var v rebalanceView
	var st ccclient.State
	if err := c.cc.Do(ctx, http.MethodGet, "state", url.Values{"substates": {"executor"}}, &st); err != nil {
		v.ExecutorErr = err.Error()
	} else {
		v.Executor = st.Executor
		v.Percent = progress(st.Executor)
	}
	var o ccclient.Optimization
	if err := c.cc.Do(ctx, http.MethodGet, "proposals", url.Values{"verbose": {"true"}}, &o); err != nil {
		v.ProposalErr = err.Error()
	} else {
		v.Proposal, v.Moves, v.Balance = &o, moveRows(o.Proposals), balanceRows(o)
	}
	return c.render(w, r, http.StatusOK, "rebalance", view{Title: "Rebalance", Nav: "rebalance", Refresh: 3, Data: v})
}

// progress is an execution's share done, in percent (data when it moves
// any, else partitions and leaderships).
func progress(e *ccclient.ExecutorState) float64 {
	if e == nil {
		return 0
	}
	if e.TotalDataMB > 0 {
		return 100 * e.FinishedDataMB / e.TotalDataMB
	}
	total := e.TotalPartitions + e.TotalLeaderships
	if total == 0 {
		return 0
	}
	return 100 * float64(e.FinishedPartitions+e.FinishedLeaderships) / float64(total)
}

func moveRows(ps []ccclient.Proposal) []moveRow {
	var rows []moveRow
	for id, m := range ccclient.MovesPerBroker(ps) {
		rows = append(rows, moveRow{id, *m})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Broker < rows[j].Broker })
	return rows
}

// balanceRows is each resource's spread before and after the proposal.
func balanceRows(o ccclient.Optimization) []balanceRow {
	before := o.LoadBefore
	if before == nil {
		before = &ccclient.BrokerStats{}
	}
	resources := []struct {
		name, unit string
		get        func(ccclient.BrokerLoad) float64
	}{
		{"CPU", "%", func(b ccclient.BrokerLoad) float64 { return b.CPUPct }},
		{"Disk", "%", func(b ccclient.BrokerLoad) float64 { return b.DiskPct }},
		{"Network in", "KB/s", func(b ccclient.BrokerLoad) float64 { return b.LeaderNwInRate + b.FollowerNwInRate }},
		{"Network out", "KB/s", func(b ccclient.BrokerLoad) float64 { return b.NwOutRate }},
		{"Replicas", "", func(b ccclient.BrokerLoad) float64 { return float64(b.Replicas) }},
		{"Leaders", "", func(b ccclient.BrokerLoad) float64 { return float64(b.Leaders) }},
	}
	var rows []balanceRow
	for _, res := range resources {
		row := balanceRow{Resource: res.name, Unit: res.unit}
		row.BeforeLo, row.BeforeMean, row.BeforeHi = before.Spread(res.get)
		row.AfterLo, row.AfterMean, row.AfterHi = o.LoadAfter.Spread(res.get)
		rows = append(rows, row)
	}
	return rows
}

// executeRebalance starts the current proposal's execution (Cruise
// Control's rebalance with dryrun=false).
func (c *Console) executeRebalance(w http.ResponseWriter, r *http.Request) error {
	if r.PostForm.Get("confirm") != "yes" {
		return badRequest("executing a rebalance needs confirm=yes (tick the confirmation box)")
	}
	q := url.Values{"dryrun": {"false"}}
	if t := r.PostForm.Get("throttle"); t != "" {
		n, err := intParam(r.PostForm, "throttle", 0, 1, 1<<40)
		if err != nil {
			return err
		}
		q.Set("replication_throttle", fmt.Sprint(n))
	}
	ctx, cancel := c.ctx(r)
	defer cancel()
	err := c.cc.Do(ctx, http.MethodPost, "rebalance", q, nil)
	c.record(r, "execute rebalance", "cluster", q.Encode(), err)
	if err != nil {
		return err
	}
	return seeOther(w, r, Prefix+"rebalance")
}

func (c *Console) stopRebalance(w http.ResponseWriter, r *http.Request) error {
	if r.PostForm.Get("confirm") != "yes" {
		return badRequest("stopping the execution needs confirm=yes")
	}
	ctx, cancel := c.ctx(r)
	defer cancel()
	err := c.cc.Do(ctx, http.MethodPost, "stop_proposal_execution", url.Values{}, nil)
	c.record(r, "stop execution", "cluster", "", err)
	if err != nil {
		return err
	}
	return seeOther(w, r, Prefix+"rebalance")
}

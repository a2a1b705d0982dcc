package policy

import (
	"fmt"
	"time"
)

// recommendation is the broker count one point of load asks for.
type recommendation struct {
	count int
	why   string
	calm  bool // every broker below scale_in_below of every target
}

func recommend(rs []resource, p point, n int, b *BrokerPolicy) recommendation {
	r := recommendation{count: 1, calm: true}
	for _, res := range rs {
		nd := res.need(p, n, b.Tolerance)
		if nd.count > r.count || r.why == "" {
			r.count = max(r.count, nd.count)
			r.why = fmt.Sprintf("%s averages %s per broker against a target of %s", res.name,
				res.unit(nd.ratio*res.target), res.unit(res.target))
		}
		if nd.peak >= b.ScaleInBelow/100 {
			r.calm = false
		}
	}
	return r
}

// decideBrokers sets the broker count: up to the minimum an active schedule
// sets; out when the load stays above a target for the whole window; in when
// every broker stays well below every target for the stabilization window,
// to the highest recommendation seen in it.
func decideBrokers(in Input, b *BrokerPolicy, d *Decision) {
	n := in.Cluster.Brokers
	if n <= 0 {
		return
	}
	floor, schedule := b.MinAt(in.Now)
	if n < floor {
		why := fmt.Sprintf("below min_brokers %d", floor)
		if schedule != "" {
			why = fmt.Sprintf("schedule %q raises the minimum to %d", schedule, floor)
		}
		scaleTo(in, d, n, floor, why, 0)
		return
	}
	if len(in.Metrics) != n {
		d.Holds = append(d.Holds, Hold{Kind: SetBrokerCount, Blocked: InsufficientData,
			Reason: fmt.Sprintf("metrics from %d of %d brokers", len(in.Metrics), n)})
		return
	}
	ps := points(in)
	if len(ps) == 0 || in.Now.Sub(ps[len(ps)-1].at) > b.Window {
		d.Holds = append(d.Holds, Hold{Kind: SetBrokerCount, Blocked: InsufficientData,
			Reason: fmt.Sprintf("no metrics from every broker in the last %s", b.Window)})
		return
	}
	rs := resources(in, b)
	if !scaleOut(in, b, d, rs, ps) {
		scaleIn(in, b, d, rs, ps, floor)
	}
}

// scaleOut reports whether the load asks for more brokers now, acting or
// holding.
func scaleOut(in Input, b *BrokerPolicy, d *Decision, rs []resource, ps []point) bool {
	n := in.Cluster.Brokers
	now := recommend(rs, ps[len(ps)-1], n, b)
	if now.count <= n {
		withinTolerance(b, d, rs, ps[len(ps)-1], n)
		return false
	}
	hold := func(blocked Blocked, format string, args ...any) bool {
		d.Holds = append(d.Holds, Hold{Kind: SetBrokerCount, Blocked: blocked,
			Reason: fmt.Sprintf("%s, recommends %d broker(s): ", now.why, now.count) + fmt.Sprintf(format, args...)})
		return true
	}
	if n >= b.Max {
		return hold(MaximumReached, "already at max_brokers %d", b.Max)
	}
	w, ok := window(ps, in.Now, b.Window)
	if !ok {
		return hold(InsufficientData, "metrics cover less than the %s window", b.Window)
	}
	out := now.count
	for _, p := range w {
		out = min(out, recommend(rs, p, n, b).count)
	}
	if out <= n {
		return hold(NotSustained, "not above target for the whole %s window", b.Window)
	}
	target := min(out, n+b.ScaleOutStep, 2*n, b.Max)
	why := fmt.Sprintf("%s for %s, recommends %d broker(s)", now.why, b.Window, out)
	switch {
	case target == b.Max && target < out:
		why += fmt.Sprintf(", capped at max_brokers %d", b.Max)
	case target < out:
		why += fmt.Sprintf(", capped at +%d (at most +scale_out_step %d and at most double)", target-n, b.ScaleOutStep)
	}
	scaleTo(in, d, n, target, why, b.ScaleOutCooldown)
	return true
}

func withinTolerance(b *BrokerPolicy, d *Decision, rs []resource, p point, n int) {
	for _, res := range rs {
		if nd := res.need(p, n, b.Tolerance); nd.count == n && nd.ratio > 1 {
			d.Holds = append(d.Holds, Hold{Kind: SetBrokerCount, Blocked: WithinTolerance,
				Reason: fmt.Sprintf("%s averages %s per broker, within %g%% of the target %s", res.name,
					res.unit(nd.ratio*res.target), b.Tolerance, res.unit(res.target))})
			return
		}
	}
}

// scaleIn removes brokers once every recommendation in the stabilization
// window is below the current count, to the highest of them (HPA's
// scale-down stabilization), at most scale_in_step at a time.
func scaleIn(in Input, b *BrokerPolicy, d *Decision, rs []resource, ps []point, floor int) {
	n := in.Cluster.Brokers
	now := recommend(rs, ps[len(ps)-1], n, b)
	if !now.calm || now.count >= n || len(rs) == 0 {
		return
	}
	hold := func(blocked Blocked, format string, args ...any) {
		d.Holds = append(d.Holds, Hold{Kind: SetBrokerCount, Blocked: blocked,
			Reason: fmt.Sprintf("%s, recommends %d broker(s): ", now.why, now.count) + fmt.Sprintf(format, args...)})
	}
	if n <= floor {
		hold(MinimumReached, "already at the minimum %d", floor)
		return
	}
	w, ok := window(ps, in.Now, b.Stabilization)
	if !ok {
		hold(InsufficientData, "metrics cover less than the %s stabilization window", b.Stabilization)
		return
	}
	highest, at := 0, time.Time{}
	for _, p := range w {
		r := recommend(rs, p, n, b)
		c := max(r.count, floor)
		if !r.calm {
			c = max(c, n)
		}
		if c >= highest {
			highest, at = c, p.at
		}
	}
	if highest >= n {
		hold(Stabilizing, "the %s stabilization window holds a recommendation of %d from %s",
			b.Stabilization, highest, at.UTC().Format(time.RFC3339))
		return
	}
	target := max(highest, n-b.ScaleInStep)
	why := fmt.Sprintf("%s, every broker under %g%% of every target for %s, recommends %d broker(s)",
		now.why, b.ScaleInBelow, b.Stabilization, highest)
	scaleTo(in, d, n, target, why, b.ScaleInCooldown)
}

// scaleTo sets the broker count unless the cluster or a cooldown holds it.
func scaleTo(in Input, d *Decision, n, target int, why string, period time.Duration) {
	want := fmt.Sprintf("set the broker count %d → %d", n, target)
	anyChange := func(Record) bool { return true }
	if !gate(in, SetBrokerCount, d, want) || !cooldown(in, SetBrokerCount, period, anyChange, d, want) {
		return
	}
	d.Actions = append(d.Actions, Action{Kind: SetBrokerCount, BrokerCount: target, Reason: why})
}

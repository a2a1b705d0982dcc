package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/internal/groupadmin"
)

func (c *Console) groups(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := c.ctx(r)
	defer cancel()
	rows, err := c.adm.List(ctx, nil)
	if rows == nil && err != nil {
		return err
	}
	return c.render(w, r, http.StatusOK, "groups", view{Title: "Consumer groups", Nav: "groups", Refresh: 10,
		Data: map[string]any{"Groups": rows, "Err": errText(err)}})
}

// groupRow is one partition of a group with its lag in time.
type groupRow struct {
	groupadmin.PartitionRow
	TimeLag string // how old the next record to consume is; "" unknown
}

type groupView struct {
	groupadmin.Description
	Rows     []groupRow
	TotalLag int64
	Inactive bool
	Err      string
}

// maxTimeLags bounds the partitions whose next record is fetched for
// the lag in time.
const maxTimeLags = 64

func (c *Console) group(w http.ResponseWriter, r *http.Request) error {
	name, err := groupName(r.PathValue("name"))
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx(r)
	defer cancel()
	descs, err := c.adm.Describe(ctx, []string{name})
	if len(descs) == 0 {
		if errors.Is(err, kerr.GroupIDNotFound) {
			return notFound("no group %s", name)
		}
		return err
	}
	d := descs[0]
	v := groupView{Description: d, Inactive: d.IsInactive(), Err: errText(err)}
	at := map[tp]int64{}
	for _, p := range d.Partitions {
		if p.Lag != nil && *p.Lag > 0 && p.CurrentOffset != nil && len(at) < maxTimeLags {
			at[tp{p.Topic, p.Partition}] = *p.CurrentOffset
		}
		if p.Lag != nil {
			v.TotalLag += *p.Lag
		}
	}
	stamps := c.timestampsAt(ctx, at, 2*time.Second)
	now := c.o.Now()
	for _, p := range d.Partitions {
		row := groupRow{PartitionRow: p}
		if ts, ok := stamps[tp{p.Topic, p.Partition}]; ok {
			row.TimeLag = now.Sub(ts).Round(time.Second).String()
		} else if p.Lag != nil && *p.Lag == 0 {
			row.TimeLag = "0s"
		}
		v.Rows = append(v.Rows, row)
	}
	return c.render(w, r, http.StatusOK, "group", view{Title: "Group " + name, Nav: "groups", Data: v})
}

var groupNameRE = regexp.MustCompile(`^[^\x00-\x1f]{1,255}$`)

func groupName(s string) (string, error) {
	if !groupNameRE.MatchString(s) {
		return "", badRequest("group name %q: want 1 to 255 printable characters", s)
	}
	return s, nil
}

// resetForm is a reset as the form gives it.
type resetForm struct {
	Strategy string // earliest, latest, offset, shift, time
	Value    string
	Topic    string // "" for every partition with a committed offset
}

// parseReset reads and checks the reset form (pure).
func parseReset(form url.Values) (resetForm, groupadmin.Strategy, []groupadmin.Scope, error) {
	f := resetForm{Strategy: form.Get("strategy"), Value: strings.TrimSpace(form.Get("value")), Topic: strings.TrimSpace(form.Get("topic"))}
	var s groupadmin.Strategy
	var err error
	switch f.Strategy {
	case "earliest":
		s.Kind = groupadmin.Earliest
	case "latest":
		s.Kind = groupadmin.Latest
	case "offset":
		s.Kind = groupadmin.ToOffset
		s.N, err = strconv.ParseInt(f.Value, 10, 64)
		if err != nil || s.N < 0 {
			return f, s, nil, badRequest("value %q: to-offset wants an offset, a whole number ≥ 0", f.Value)
		}
	case "shift":
		s.Kind = groupadmin.ShiftBy
		s.N, err = strconv.ParseInt(f.Value, 10, 64)
		if err != nil {
			return f, s, nil, badRequest("value %q: shift-by wants a whole number, negative to go back", f.Value)
		}
	case "time":
		s.Kind = groupadmin.ToTime
		t, err := parseTime(f.Value)
		if err != nil {
			return f, s, nil, err
		}
		s.N = t.UnixMilli()
	default:
		return f, s, nil, badRequest("strategy %q: want earliest, latest, offset, shift or time", f.Strategy)
	}
	var scopes []groupadmin.Scope
	if f.Topic != "" {
		if _, err := topicName(f.Topic); err != nil {
			return f, s, nil, err
		}
		scopes = []groupadmin.Scope{{Topic: f.Topic}}
	}
	return f, s, scopes, nil
}

// parseTime reads RFC 3339 or Unix milliseconds.
func parseTime(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms >= 0 {
		return time.UnixMilli(ms), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, badRequest("time %q: want RFC 3339 (2026-01-02T15:04:05Z) or Unix milliseconds", s)
}

// resetGroup previews a reset, or with confirm=yes commits it.
func (c *Console) resetGroup(w http.ResponseWriter, r *http.Request) error {
	name, err := groupName(r.PathValue("name"))
	if err != nil {
		return err
	}
	f, s, scopes, err := parseReset(r.PostForm)
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx(r)
	defer cancel()
	d, err := c.adm.ForReset(ctx, name)
	if err != nil {
		return err
	}
	plan, err := c.adm.PlanReset(ctx, name, scopes, s)
	if err != nil {
		return badRequest("planning the reset of group %s: %v", name, err)
	}
	active := !d.IsInactive()
	if r.PostForm.Get("confirm") != "yes" {
		return c.render(w, r, http.StatusOK, "reset", view{Title: "Reset " + name, Nav: "groups",
			Data: map[string]any{"Group": name, "Form": f, "Plan": plan, "Active": active, "State": d.State, "Members": len(d.Members)}})
	}
	if active {
		err = groupadmin.ActiveError(d)
	} else {
		err = c.adm.Commit(ctx, plan)
	}
	c.record(r, "reset offsets", name, fmt.Sprintf("%s %s topic=%q: %d partitions", f.Strategy, f.Value, f.Topic, len(plan.Partitions)), err)
	if err != nil {
		return &pageError{http.StatusConflict, err.Error()}
	}
	return seeOther(w, r, Prefix+"groups/"+url.PathEscape(name))
}

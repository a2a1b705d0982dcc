package console

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/weirhq/weir/internal/topicadmin"
)

// topicRow is one topic of the list.
type topicRow struct {
	Name              string
	Internal          bool
	Partitions        int
	ReplicationFactor int
	URP, Offline      int
	Size              int64 // bytes over every replica; -1 unknown
}

type topicsView struct {
	Topics   []topicRow
	Total    int // partitions
	Filter   string
	SizesErr string
	Elapsed  time.Duration
}

func (c *Console) topics(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := c.ctx(r)
	defer cancel()
	start := time.Now()
	filter := r.URL.Query().Get("filter")
	if len(filter) > 249 {
		return badRequest("filter: at most 249 characters")
	}
	list, err := c.adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return err
	}
	dirs, dirsErr := c.adm.DescribeAllLogDirs(ctx, nil)
	v := topicsView{Filter: filter, SizesErr: errText(dirsErr)}
	v.Topics, v.Total = topicRows(list, dirs, filter)
	v.Elapsed = time.Since(start)
	return c.render(w, r, http.StatusOK, "topics", view{Title: "Topics", Nav: "topics", Data: v})
}

// topicRows lists the topics whose name contains filter, sorted, with
// their sizes summed over the log dirs (pure); total counts partitions.
func topicRows(list kadm.TopicDetails, dirs kadm.DescribedAllLogDirs, filter string) ([]topicRow, int) {
	sizes := map[string]int64{}
	for _, ds := range dirs {
		for _, d := range ds {
			d.Topics.Each(func(p kadm.DescribedLogDirPartition) { sizes[p.Topic] += p.Size })
		}
	}
	var rows []topicRow
	total := 0
	for _, t := range list {
		total += len(t.Partitions)
		if filter != "" && !strings.Contains(t.Topic, filter) {
			continue
		}
		row := topicRow{Name: t.Topic, Internal: t.IsInternal, Partitions: len(t.Partitions), ReplicationFactor: t.Partitions.NumReplicas(), Size: -1}
		if s, ok := sizes[t.Topic]; ok || dirs != nil {
			row.Size = s
		}
		for _, p := range t.Partitions {
			if len(p.ISR) < len(p.Replicas) {
				row.URP++
			}
			if p.Leader < 0 {
				row.Offline++
			}
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows, total
}

// topicView is one topic's page.
type topicView struct {
	topicadmin.Description
	Sizes   map[int32]int64 // the leader replica's bytes per partition
	Size    int64
	Configs []configRow
	Err     string
}

type configRow struct{ Key, Value string }

func (c *Console) topic(w http.ResponseWriter, r *http.Request) error {
	name, err := topicName(r.PathValue("name"))
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx(r)
	defer cancel()
	descs, err := topicadmin.Describe(ctx, c.adm.Client, []string{name})
	if len(descs) == 0 {
		if err != nil && strings.Contains(err.Error(), "UNKNOWN_TOPIC") {
			return notFound("no topic %s", name)
		}
		return err
	}
	v := topicView{Description: descs[0], Sizes: map[int32]int64{}, Err: errText(err)}
	if dirs, err := c.adm.DescribeAllLogDirs(ctx, kadm.TopicsSet{name: nil}); err == nil {
		leaders := map[int32]int32{}
		for _, p := range v.Partitions {
			leaders[p.Partition] = p.Leader
		}
		for broker, ds := range dirs {
			for _, d := range ds {
				d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
					v.Size += p.Size
					if leaders[p.Partition] == broker {
						v.Sizes[p.Partition] = p.Size
					}
				})
			}
		}
	}
	for k, val := range v.Description.Configs {
		v.Configs = append(v.Configs, configRow{k, val})
	}
	sort.Slice(v.Configs, func(i, j int) bool { return v.Configs[i].Key < v.Configs[j].Key })
	return c.render(w, r, http.StatusOK, "topic", view{Title: "Topic " + name, Nav: "topics", Data: v})
}

var topicNameRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// topicName checks Kafka's rules for a topic name.
func topicName(s string) (string, error) {
	if !topicNameRE.MatchString(s) || s == "." || s == ".." {
		return "", badRequest("topic name %q: want 1 to 249 of a-z A-Z 0-9 . _ - (and not . or ..)", s)
	}
	return s, nil
}

var configKeyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,199}$`)

// parseConfigs reads key=value lines (blank lines and # comments skipped).
func parseConfigs(text string) (map[string]*string, error) {
	out := map[string]*string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !configKeyRE.MatchString(k) {
			return nil, badRequest("configs line %d %q: want key=value with a config name such as retention.ms", i+1, line)
		}
		out[k] = &v
	}
	return out, nil
}

// intParam reads a form integer in [lo, hi]; empty is def.
func intParam(form url.Values, key string, def, lo, hi int64) (int64, error) {
	s := strings.TrimSpace(form.Get(key))
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s %q: want a whole number from %d to %d", key, s, lo, hi)
	}
	return n, nil
}

func (c *Console) createTopic(w http.ResponseWriter, r *http.Request) error {
	name, err := topicName(strings.TrimSpace(r.PostForm.Get("name")))
	if err != nil {
		return err
	}
	parts, err := intParam(r.PostForm, "partitions", -1, 1, 100000)
	if err != nil {
		return err
	}
	rf, err := intParam(r.PostForm, "replication_factor", -1, 1, 32)
	if err != nil {
		return err
	}
	configs, err := parseConfigs(r.PostForm.Get("configs"))
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx(r)
	defer cancel()
	resp, err := c.adm.CreateTopic(ctx, int32(parts), int16(rf), configs, name)
	if err == nil {
		err = resp.Err
	}
	c.record(r, "create topic", name, fmt.Sprintf("partitions=%d replication.factor=%d configs=%d", parts, rf, len(configs)), err)
	if err != nil {
		return badRequest("creating topic %s: %v", name, withMessage(err, resp.ErrMessage))
	}
	// The topic's page must find it on whichever broker it asks (visible.go).
	wctx, wcancel := c.ctx(r)
	defer wcancel()
	if err := c.awaitServed(wctx, name, resp.NumPartitions); err != nil {
		c.o.Logger.Warn("console: a created topic is not served everywhere yet", "topic", name, "err", err)
		return &pageError{http.StatusGatewayTimeout, fmt.Sprintf("topic %s was created, but not every broker serves it after %v (%v): open its page again in a moment", name, c.o.Timeout, err)}
	}
	return seeOther(w, r, Prefix+"topics/"+name)
}

func (c *Console) alterTopicConfig(w http.ResponseWriter, r *http.Request) error {
	name, err := topicName(r.PathValue("name"))
	if err != nil {
		return err
	}
	key := strings.TrimSpace(r.PostForm.Get("key"))
	if !configKeyRE.MatchString(key) {
		return badRequest("config name %q: want a name such as retention.ms", key)
	}
	value := strings.TrimSpace(r.PostForm.Get("value"))
	ac := kadm.AlterConfig{Name: key, Value: &value}
	switch op := r.PostForm.Get("op"); op {
	case "set", "":
	case "delete":
		ac = kadm.AlterConfig{Op: kadm.DeleteConfig, Name: key}
	default:
		return badRequest("op %q: want set or delete", op)
	}
	if r.PostForm.Get("confirm") != "yes" {
		return badRequest("changing a config needs confirm=yes (tick the confirmation box)")
	}
	ctx, cancel := c.ctx(r)
	defer cancel()
	resps, err := c.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{ac}, name)
	if err == nil {
		for _, rr := range resps {
			if rr.Err != nil {
				err = withMessage(rr.Err, rr.ErrMessage)
			}
		}
	}
	c.record(r, "alter topic config", name, r.PostForm.Get("op")+" "+key+"="+value, err)
	if err != nil {
		return badRequest("altering %s of topic %s: %v", key, name, err)
	}
	return seeOther(w, r, Prefix+"topics/"+name)
}

func (c *Console) deleteTopic(w http.ResponseWriter, r *http.Request) error {
	name, err := topicName(r.PathValue("name"))
	if err != nil {
		return err
	}
	if strings.HasPrefix(name, "__") {
		return badRequest("topic %s is internal: the console does not delete internal topics", name)
	}
	if got := r.PostForm.Get("confirm"); got != name {
		return badRequest("deleting topic %s needs its name typed in the confirmation field (got %q)", name, got)
	}
	ctx, cancel := c.ctx(r)
	defer cancel()
	resps, err := c.adm.DeleteTopics(ctx, name)
	if err == nil {
		err = resps.Error()
	}
	c.record(r, "delete topic", name, "", err)
	if err != nil {
		return badRequest("deleting topic %s: %v", name, err)
	}
	return seeOther(w, r, Prefix+"topics")
}

// withMessage adds a broker's error message to its error.
func withMessage(err error, msg string) error {
	if err == nil || msg == "" || strings.Contains(err.Error(), msg) {
		return err
	}
	return fmt.Errorf("%w (%s)", err, msg)
}

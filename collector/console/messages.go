package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// tp names one partition.
type tp struct {
	Topic     string
	Partition int32
}

// scan reads each partition of from, from its offset up to (not
// including) its end in to, with a consumer of its own, calling fn for
// every record until fn returns false, every partition is at its end or
// ctx ends.
func (c *Console) scan(ctx context.Context, from, to map[tp]int64, fn func(*kgo.Record) bool) error {
	parts := map[string]map[int32]kgo.Offset{}
	left := map[tp]bool{}
	for p, o := range from {
		if o >= to[p] {
			continue
		}
		if parts[p.Topic] == nil {
			parts[p.Topic] = map[int32]kgo.Offset{}
		}
		parts[p.Topic][p.Partition] = kgo.NewOffset().At(o)
		left[p] = true
	}
	if len(left) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(append(slices.Clip(c.o.ClientOpts), kgo.SeedBrokers(c.o.Seeds...), kgo.ClientID("weir-console"),
		kgo.ConsumePartitions(parts), kgo.FetchMaxWait(200*time.Millisecond), kgo.FetchMaxPartitionBytes(1<<20),
		kgo.FetchMaxBytes(4<<20))...)
	if err != nil {
		return fmt.Errorf("creating a consumer: %w", err)
	}
	defer cl.Close()
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				ferr = fmt.Errorf("fetching %s partition %d: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		stop := false
		fs.EachRecord(func(r *kgo.Record) {
			k := tp{r.Topic, r.Partition}
			if stop || !left[k] {
				return
			}
			if r.Offset >= to[k] {
				delete(left, k)
				return
			}
			if !fn(r) {
				stop = true
			}
			if r.Offset+1 >= to[k] {
				delete(left, k)
			}
		})
		if stop {
			return nil
		}
	}
	return nil
}

// bounds lists the log start and end offsets of topic's partitions.
func (c *Console) bounds(ctx context.Context, topic string) (starts, ends map[int32]int64, err error) {
	s, err := c.adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, nil, err
	}
	e, err := c.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, nil, err
	}
	starts, ends = map[int32]int64{}, map[int32]int64{}
	var errs []error
	s.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			errs = append(errs, o.Err)
		}
		starts[o.Partition] = o.Offset
	})
	e.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			errs = append(errs, o.Err)
			return
		}
		ends[o.Partition] = o.Offset
	})
	if len(ends) == 0 {
		if len(errs) > 0 {
			return nil, nil, notFound("topic %s: %v", topic, errors.Join(errs...))
		}
		return nil, nil, notFound("no topic %s", topic)
	}
	return starts, ends, nil
}

// timestampsAt returns the timestamp of the record at each offset
// (partitions without one within wait are left out).
func (c *Console) timestampsAt(ctx context.Context, at map[tp]int64, wait time.Duration) map[tp]time.Time {
	out := map[tp]time.Time{}
	if len(at) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	to := map[tp]int64{}
	for p, o := range at {
		to[p] = o + 1
	}
	c.scan(ctx, at, to, func(r *kgo.Record) bool {
		out[tp{r.Topic, r.Partition}] = r.Timestamp
		return true
	})
	return out
}

// message is one record as the viewer shows it.
type message struct {
	Partition int32
	Offset    int64
	Timestamp time.Time
	Key       shown
	Value     shown
	Headers   []header
}

type header struct {
	Key   string
	Value shown
}

// toMessage shows r in format; with an Avro codec its value is decoded
// with that schema (keys and headers are shown as auto).
func toMessage(r *kgo.Record, format string, avro *goavro.Codec) message {
	other := format
	if avro != nil {
		other = "auto"
	}
	m := message{Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, Key: show(r.Key, other), Value: show(r.Value, other)}
	if avro != nil {
		m.Value = showAvro(r.Value, avro)
	}
	for _, h := range r.Headers {
		m.Headers = append(m.Headers, header{h.Key, show(h.Value, other)})
	}
	return m
}

// viewerQuery is the viewer's form.
type viewerQuery struct {
	Partition int32
	Offset    string
	Timestamp string
	Limit     int
	Format    string
	Schema    string // the writer's Avro schema, for format avro
	avro      *goavro.Codec
	offset    int64     // Offset parsed
	at        time.Time // Timestamp parsed
}

func parseViewer(q url.Values) (viewerQuery, error) {
	v := viewerQuery{Offset: strings.TrimSpace(q.Get("offset")), Timestamp: strings.TrimSpace(q.Get("timestamp")), Format: q.Get("format")}
	p, err := intParam(q, "partition", 0, 0, 1<<31-1)
	if err != nil {
		return v, err
	}
	v.Partition = int32(p)
	n, err := intParam(q, "limit", 20, 1, 500)
	if err != nil {
		return v, err
	}
	v.Limit = int(n)
	if v.Offset != "" && v.Timestamp != "" {
		return v, badRequest("give an offset or a timestamp, not both")
	}
	if v.Offset != "" {
		if v.offset, err = intParam(q, "offset", 0, -1<<62, 1<<62); err != nil {
			return v, err
		}
	}
	if v.Timestamp != "" {
		if v.at, err = parseTime(v.Timestamp); err != nil {
			return v, err
		}
	}
	switch v.Format {
	case "":
		v.Format = "auto"
	case "auto", "text", "json", "hex":
	case "avro":
		v.Schema = strings.TrimSpace(q.Get("schema"))
		if v.avro, err = parseSchema(v.Schema); err != nil {
			return v, err
		}
	default:
		return v, badRequest("format %q: want auto, text, json, avro or hex", v.Format)
	}
	return v, nil
}

func (c *Console) messages(w http.ResponseWriter, r *http.Request) error {
	name, err := topicName(r.PathValue("name"))
	if err != nil {
		return err
	}
	q, err := parseViewer(r.URL.Query())
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx(r)
	defer cancel()
	starts, ends, err := c.bounds(ctx, name)
	if err != nil {
		return err
	}
	end, ok := ends[q.Partition]
	if !ok {
		return badRequest("topic %s has no partition %d (it has %d)", name, q.Partition, len(ends))
	}
	start := starts[q.Partition]
	from, err := c.startOffset(ctx, name, q, start, end)
	if err != nil {
		return err
	}
	k := tp{name, q.Partition}
	var msgs []message
	sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
	defer scancel()
	err = c.scan(sctx, map[tp]int64{k: from}, map[tp]int64{k: min(end, from+int64(q.Limit))}, func(rec *kgo.Record) bool {
		msgs = append(msgs, toMessage(rec, q.Format, q.avro))
		return len(msgs) < q.Limit
	})
	prev, next := pageLinks(r.URL.Query(), from, start, end, q.Limit, len(msgs))
	return c.render(w, r, http.StatusOK, "messages", view{Title: "Messages of " + name, Nav: "topics", Data: map[string]any{
		"Topic": name, "Query": q, "From": from, "Start": start, "End": end, "Messages": msgs, "Prev": prev, "Next": next,
		"MaxPartition": len(ends) - 1, "Err": errText(err)}})
}

// startOffset is where the viewer starts: the offset asked (negative:
// from the end), clamped to the log; the first at or after the time
// asked; else the log start.
func (c *Console) startOffset(ctx context.Context, topic string, q viewerQuery, start, end int64) (int64, error) {
	switch {
	case q.Offset != "":
		o := q.offset
		if o < 0 {
			o += end
		}
		return min(max(o, start), end), nil
	case q.Timestamp != "":
		listed, err := c.adm.ListOffsetsAfterMilli(ctx, q.at.UnixMilli(), topic)
		if err != nil {
			return 0, err
		}
		if o, ok := listed.Lookup(topic, q.Partition); ok && o.Err == nil && o.Offset >= 0 {
			return o.Offset, nil
		}
		return end, nil
	}
	return start, nil
}

// pageLinks are the viewer's older and newer pages from a page that
// starts at from and shows n records ("" where there is none).
func pageLinks(u url.Values, from, start, end int64, limit, n int) (prev, next string) {
	page := func(o int64) string {
		v := url.Values{}
		for k, vs := range u {
			v[k] = vs
		}
		v.Del("timestamp")
		v.Set("offset", fmt.Sprint(o))
		return "?" + v.Encode()
	}
	if from > start {
		prev = page(max(start, from-int64(limit)))
	}
	if n > 0 && from+int64(n) < end {
		next = page(from + int64(n))
	}
	return prev, next
}

// Search limits: defaults and ceilings.
const (
	defaultSearchBytes = 16 << 20
	maxSearchBytes     = 256 << 20
	defaultSearchTime  = 3 * time.Second
	maxSearchTime      = 30 * time.Second
	maxSearchResults   = 500
)

// searchResult is what a search found and what it cost.
type searchResult struct {
	Matches      []message
	Records      int
	Bytes        int64
	Elapsed      time.Duration
	Stopped      string // why the scan ended
	LimitBytes   int64
	LimitTime    time.Duration
	LimitResults int
}

func (c *Console) search(w http.ResponseWriter, r *http.Request) error {
	name, err := topicName(r.PathValue("name"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	data := map[string]any{"Topic": name, "Q": q.Get("q"), "Mode": q.Get("mode"), "Field": q.Get("field"),
		"Partition": q.Get("partition"), "MaxBytes": q.Get("max_bytes"), "MaxMs": q.Get("max_ms"), "MaxResults": q.Get("max_results")}
	if q.Get("q") == "" {
		return c.render(w, r, http.StatusOK, "search", view{Title: "Search " + name, Nav: "topics", Data: data})
	}
	f, err := newFilter(q.Get("q"), q.Get("mode"), q.Get("field"))
	if err != nil {
		return err
	}
	maxBytes, err := intParam(q, "max_bytes", defaultSearchBytes, 1, maxSearchBytes)
	if err != nil {
		return err
	}
	maxMs, err := intParam(q, "max_ms", defaultSearchTime.Milliseconds(), 1, maxSearchTime.Milliseconds())
	if err != nil {
		return err
	}
	maxResults, err := intParam(q, "max_results", 50, 1, maxSearchResults)
	if err != nil {
		return err
	}
	partition, err := intParam(q, "partition", -1, 0, 1<<31-1)
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx(r)
	defer cancel()
	starts, ends, err := c.bounds(ctx, name)
	if err != nil {
		return err
	}
	from, to := map[tp]int64{}, map[tp]int64{}
	for p, end := range ends {
		if partition < 0 || int64(p) == partition {
			from[tp{name, p}], to[tp{name, p}] = starts[p], end
		}
	}
	if len(from) == 0 {
		return badRequest("topic %s has no partition %d (it has %d)", name, partition, len(ends))
	}
	res := c.runSearch(ctx, f, from, to, maxBytes, time.Duration(maxMs)*time.Millisecond, int(maxResults))
	data["Result"] = res
	return c.render(w, r, http.StatusOK, "search", view{Title: "Search " + name, Nav: "topics", Data: data})
}

// runSearch scans from..to, stopping at the first limit reached, and
// reports which.
func (c *Console) runSearch(ctx context.Context, f *filter, from, to map[tp]int64, maxBytes int64, maxTime time.Duration, maxResults int) searchResult {
	res := searchResult{LimitBytes: maxBytes, LimitTime: maxTime, LimitResults: maxResults, Stopped: "end of the log"}
	start := time.Now()
	sctx, cancel := context.WithTimeout(ctx, maxTime)
	defer cancel()
	err := c.scan(sctx, from, to, func(rec *kgo.Record) bool {
		res.Records++
		res.Bytes += int64(len(rec.Key) + len(rec.Value))
		for _, h := range rec.Headers {
			res.Bytes += int64(len(h.Key) + len(h.Value))
		}
		if f.match(rec.Key, rec.Value, rec.Headers) {
			res.Matches = append(res.Matches, toMessage(rec, "auto", nil))
		}
		switch {
		case len(res.Matches) >= maxResults:
			res.Stopped = fmt.Sprintf("result limit (%d)", maxResults)
			return false
		case res.Bytes >= maxBytes:
			res.Stopped = fmt.Sprintf("byte limit (%d bytes scanned)", maxBytes)
			return false
		}
		return true
	})
	switch {
	case errors.Is(err, context.DeadlineExceeded) && sctx.Err() != nil && ctx.Err() == nil:
		res.Stopped = fmt.Sprintf("time limit (%v)", maxTime)
	case err != nil:
		res.Stopped = "error: " + err.Error()
	}
	res.Elapsed = time.Since(start)
	sort.Slice(res.Matches, func(i, j int) bool {
		a, b := res.Matches[i], res.Matches[j]
		return a.Partition < b.Partition || a.Partition == b.Partition && a.Offset < b.Offset
	})
	return res
}

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/collector/ccclient"
	"github.com/weirhq/weir/internal/await"
)

// TestConsole drives the web console in a real headless Chromium against
// a `weir up --agents` cluster with the autoscaler (what `make run` runs): a topic created in
// the UI is visible to kcat, an offset reset applied in the UI is where
// the group's next consumer starts, a rebalance executed in the UI shows
// its progress and completes, and then every page loads with no console
// error or exception, shows the real brokers, topics and groups, and is
// screenshotted under the test's output directory ($WEIR_TEST_OUT, else a
// temporary directory; the path is logged).
//
// Every form is submitted with b.submit, which waits for the page the
// submit leads to: a check made right after the click would read the page
// the form was on (its "No execution since the collector started"), and
// the next navigation would abort the submit's (net::ERR_ABORTED).
func TestConsole(t *testing.T) {
	t.Parallel()
	chrome := chromium(t)
	out := testOutDir(t, "console")
	// The autoscaler runs too, with a policy that has nothing to do (a
	// storage target far above use), for its page.
	_, e, _ := startAutoscaledUp(t, "storage:\n  target_utilization: 80\n  max_size: 4GiB\n  scale_out_step: 25%\n", "--storage", "1GiB")
	if e.Collector == nil {
		t.Fatalf("endpoints.json names no collector: %+v", e)
	}
	base := strings.TrimSuffix(e.Collector.Console, "/console/")
	addr := e.Brokers[0].Kafka
	cl := newClient(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)

	// Load for the rebalance: 24 partitions whose only replica is broker 1.
	skewed := make([][]int32, 24)
	for i := range skewed {
		skewed[i] = []int32{1}
	}
	createWithAssignment(t, cl, "skewed", skewed)
	waitFullISR(t, adm, "skewed", 24, 1)
	one := "1" // acks=all with one replica
	if _, err := adm.AlterTopicConfigs(testContext(t, 10*time.Second), []kadm.AlterConfig{{Name: "min.insync.replicas", Value: &one}}, "skewed"); err != nil {
		t.Fatal(err)
	}
	var load []*kgo.Record
	for p := range int32(24) {
		for range 16 {
			load = append(load, &kgo.Record{Topic: "skewed", Partition: p, Value: make([]byte, 8<<10)})
		}
	}
	produceAll(t, cl, load)
	// A group that has read 10 records of orders, now without members.
	createWithAssignment(t, cl, "orders", [][]int32{{1, 2, 3}})
	waitFullISR(t, adm, "orders", 1, 3)
	var orders []*kgo.Record
	for i := range 10 {
		orders = append(orders, &kgo.Record{Topic: "orders", Key: []byte(fmt.Sprint("k", i)), Value: []byte(fmt.Sprintf(`{"n":%d}`, i)),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte(fmt.Sprint("t-", i))}}})
	}
	produceAll(t, cl, orders)
	if first := consumeOrders(t, addr, "console-group", 10); first != 0 {
		t.Fatalf("the group's first consumer started at offset %d, want 0", first)
	}

	b := newBrowser(t, chrome)
	b.open(t, base+"/")
	b.do(t, "/ leads to the overview", chromedp.WaitVisible(chromedp.CSS(`#brokers`)))

	t.Run("create topic, seen by kcat", func(t *testing.T) {
		b.open(t, base+"/console/topics")
		b.submit(t, "create the topic", "/console/topics/made-in-ui",
			chromedp.SetValue(chromedp.CSS(`#create-topic input[name=name]`), "made-in-ui"),
			chromedp.SetValue(chromedp.CSS(`#create-topic input[name=partitions]`), "3"),
			chromedp.SetValue(chromedp.CSS(`#create-topic input[name=replication_factor]`), "2"),
			chromedp.SetValue(chromedp.CSS(`#create-topic textarea[name=configs]`), "retention.ms=3600000"),
			chromedp.Click(chromedp.CSS(`#create-topic button`)))
		b.do(t, "the new topic's partitions", chromedp.WaitVisible(chromedp.CSS(`#partitions`)))
		b.noErrors(t)
		kcat := lookTool(t, "kcat")
		await.For(t, 10*time.Second, "kcat -L to list the topic created in the UI", func() error {
			out, err := exec.Command(kcat, "-L", "-b", addr, "-t", "made-in-ui").CombinedOutput()
			if err != nil || !strings.Contains(string(out), `topic "made-in-ui" with 3 partitions`) {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
	})

	t.Run("offset reset, seen by the next consumer", func(t *testing.T) {
		b.open(t, base+"/console/groups/console-group")
		committed := get(t, b, "the committed offset", chromedp.Text(chromedp.CSS(`#lag td.committed`)))
		b.submit(t, "preview the reset", "/console/groups/console-group/reset",
			chromedp.SetValue(chromedp.CSS(`#reset select[name=strategy]`), "offset"),
			chromedp.SetValue(chromedp.CSS(`#reset input[name=value]`), "4"),
			chromedp.SetValue(chromedp.CSS(`#reset input[name=topic]`), "orders"),
			chromedp.Click(chromedp.CSS(`#reset button`)))
		b.do(t, "the preview", chromedp.WaitVisible(chromedp.CSS(`#apply-reset`)))
		if committed != "10" {
			t.Errorf("the group page showed committed offset %q, want 10", committed)
		}
		planned := get(t, b, "the planned offset", chromedp.Text(chromedp.CSS(`#plan td.new`)))
		b.submit(t, "apply the reset", "/console/groups/console-group", chromedp.Click(chromedp.CSS(`#apply-reset button`)))
		b.do(t, "the group page after the reset", chromedp.WaitVisible(chromedp.CSS(`#lag`)))
		committed = get(t, b, "the committed offset", chromedp.Text(chromedp.CSS(`#lag td.committed`)))
		if planned != "4" || committed != "4" {
			t.Errorf("the preview planned %q and the group page then showed %q, want 4 and 4", planned, committed)
		}
		b.noErrors(t)
		if first := consumeOrders(t, addr, "console-group", 1); first != 4 {
			t.Errorf("after the reset the group's next consumer started at offset %d, want 4", first)
		}
	})

	t.Run("rebalance executed with progress", func(t *testing.T) {
		api := ccclient.New(base)
		await.For(t, 2*time.Minute, "a proposal that moves replicas", func() error {
			var o ccclient.Optimization
			if err := api.Do(context.Background(), "GET", "proposals", url.Values{"ignore_proposal_cache": {"true"}}, &o); err != nil {
				return err
			}
			if o.Summary.NumReplicaMovements == 0 {
				return errors.New("the proposal moves no replica yet")
			}
			return nil
		})
		b.open(t, base+"/console/rebalance")
		summary := get(t, b, "the proposal", chromedp.Text(chromedp.CSS(`#proposal-summary`)))
		before := get(t, b, "the last execution before", chromedp.Text(chromedp.CSS(`#last-result`)))
		if before != "No execution since the collector started." {
			t.Fatalf("an execution ran before the one started in the UI: %s", before)
		}
		b.submit(t, "execute the proposal", "/console/rebalance",
			chromedp.Click(chromedp.CSS(`#execute input[name=confirm]`)),
			chromedp.SetValue(chromedp.CSS(`#execute input[name=throttle]`), "1048576"),
			chromedp.Click(chromedp.CSS(`#execute button`)))
		t.Logf("proposal in the UI: %s", summary)
		// The page the execute leads to shows the execution running with
		// its progress bar, or, when the moves (104 KiB) finished first,
		// the finished execution with its completed counts: either is the
		// progress of this execution shown in the UI.
		seen, last, shot := "", "", false
		await.For(t, 90*time.Second, "the execution to complete on the page", func() error {
			both, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`[document.querySelector('#progress-text')?.textContent || '', document.querySelector('#last-result')?.textContent || ''].join('\n')`))
			if err != nil {
				return err
			}
			var progress string
			progress, last, _ = strings.Cut(both, "\n")
			if progress != "" && seen == "" {
				seen = progress
			}
			if progress != "" && !shot { // best effort: a live refresh may be swapping the content
				shot = b.trySnapshot(out, "rebalance-progress") == nil
			}
			if last == "" || last == before {
				return fmt.Errorf("not done: %q", progress)
			}
			return nil
		})
		done := regexp.MustCompile(`^Last execution: ([1-9][0-9]*) of ([0-9]+) partition movements completed`).FindStringSubmatch(last)
		if done == nil || done[1] != done[2] {
			t.Fatalf("the finished execution on the page: %q, want every partition movement completed", last)
		}
		if seen == "" {
			t.Logf("the execution finished before a refresh showed it running; the page shows it done: %s", last)
		} else {
			t.Logf("progress seen in the UI: %s; then: %s", seen, last)
		}
		b.screenshot(t, out, "rebalance-done")
		b.noErrors(t)
		on1 := countPartitions(t, adm, func(p kadm.PartitionDetail) bool {
			return p.Topic == "skewed" && len(p.Replicas) == 1 && p.Replicas[0] == 1
		})
		if on1 == 24 {
			t.Errorf("after the rebalance every partition of skewed is still on broker 1")
		}
		t.Logf("after the rebalance broker 1 holds %d of skewed's 24 partitions", on1)
	})

	t.Run("every page", func(t *testing.T) {
		for _, pg := range []struct {
			name, path, ready string
			want              []string
		}{
			{"overview", "/console/", "#brokers", []string{`data-broker="1"`, `data-broker="2"`, `data-broker="3"`, "ACTIVE"}},
			{"load", "/console/load", "#heatmap", []string{`data-broker="1"`, `data-broker="3"`}},
			{"topics", "/console/topics", "#topics", []string{`data-topic="orders"`, `data-topic="made-in-ui"`, `data-topic="skewed"`}},
			{"topic", "/console/topics/orders", "#partitions", []string{"retention", "Delete topic orders"}},
			{"messages", "/console/topics/orders/messages?offset=0&limit=10", "#messages", []string{"k3", `"n": 3`, "t-3"}},
			{"search", "/console/topics/orders/search?q=t-%5B57%5D&mode=regex&field=headers", "#search-report", []string{"2 matches in 10 records"}},
			{"groups", "/console/groups", "#groups", []string{`data-group="console-group"`}},
			{"group", "/console/groups/console-group", "#lag", []string{`data-tp="orders/0"`}},
			{"rebalance", "/console/rebalance", "#executor-state", []string{"Moves per broker", "Balance before"}},
			{"anomalies", "/console/anomalies", "#anomalies", []string{"Self-healing on for"}},
			{"operations", "/console/operations", "#cp-operations", []string{"create topic", "reset offsets", "execute rebalance"}},
			{"autoscaler", "/console/autoscaler", "table.decisions", []string{"policy <b>", "nothing to do", "/ 1.00 GiB"}},
		} {
			start := time.Now()
			b.open(t, base+pg.path)
			b.do(t, pg.name, chromedp.WaitVisible(chromedp.CSS(pg.ready)))
			html := get(t, b, pg.name, chromedp.OuterHTML(chromedp.CSS(`main`)))
			t.Logf("%s: loaded and visible in %v", pg.name, time.Since(start).Round(time.Millisecond))
			for _, w := range pg.want {
				if !strings.Contains(html, w) {
					t.Errorf("%s: no %q in:\n%s", pg.name, w, tail(html, 3000))
				}
			}
			b.screenshot(t, out, pg.name)
		}
		// One live refresh of the overview, with its script's fetch.
		b.open(t, base+"/console/")
		await.For(t, 15*time.Second, "the overview's live refresh", func() error {
			updated, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(`#updated`)))
			if err != nil {
				return err
			}
			if updated == "at load" {
				return errors.New("not refreshed yet")
			}
			return nil
		})
		b.noErrors(t)
	})
	t.Logf("screenshots in %s", out)
}

// produceAll produces recs, again while a new topic's leader does not
// serve it yet (UNKNOWN_TOPIC_OR_PARTITION once the retries are spent).
func produceAll(t *testing.T, cl *kgo.Client, recs []*kgo.Record) {
	t.Helper()
	await.For(t, 30*time.Second, "producing to new topics", func() error {
		return cl.ProduceSync(testContext(t, 10*time.Second), recs...).FirstErr()
	})
}

// chromium is Debian's chromium; without it the test skips, but fails
// under CI, where make deps installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed: make deps (scripts/install-deps.sh) installs it")
	}
	t.Skip("chromium is not installed, so the console's browser test cannot run: make deps (scripts/install-deps.sh) installs it")
	return ""
}

// testOutDir is where a test writes files worth keeping: $WEIR_TEST_OUT/name,
// else a temporary directory.
func testOutDir(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	if root := os.Getenv("WEIR_TEST_OUT"); root != "" {
		dir = filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("the console's screenshots go to %s", dir)
	return dir
}

// consumeOrders reads n records of orders in group, committing, and returns
// the offset of the first.
func consumeOrders(t *testing.T, addr, group string, n int) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testContext(t, 30*time.Second)
	first, got := int64(-1), 0
	for got < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("consuming orders in group %s: %v", group, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if first < 0 {
				first = r.Offset
			}
			got++
		})
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	cl.LeaveGroup()
	return first
}

// browser is one headless Chromium tab, and the errors its pages logged.
type browser struct {
	ctx  context.Context
	mu   sync.Mutex
	errs []string
}

func newBrowser(t *testing.T, exe string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(1400, 1000), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("starting chromium (%s): %v", exe, err)
	}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() { // owned by the test: the cleanup cancels ctx and waits
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				b.mu.Lock()
				b.errs = append(b.errs, fmt.Sprintf("%s %s:%d %s", m.Type, m.URL, m.Line+1, m.Text))
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		<-done
	})
	return b
}

// do runs actions, failing the test on an error.
func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// open loads u and fails on the console's error page.
func (b *browser) open(t *testing.T, u string) {
	t.Helper()
	resp := get(t, b, "open "+u, chromedp.NavigateResponse(u))
	b.checkPage(t, "open "+u, resp)
}

// submit runs actions that end in a form's submit (a click) and waits
// until the page the submit leads to has loaded: the console's answer, or
// the page its 303 names, whose path must be path.
func (b *browser) submit(t *testing.T, what, path string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		t.Fatalf("%s: no page loaded after the submit: %v", what, err)
	}
	b.checkPage(t, what, resp)
	if u, err := url.Parse(resp.URL); err != nil || u.Path != path {
		t.Fatalf("%s: the submit led to %s, want %s", what, resp.URL, path)
	}
}

// checkPage fails on a page that is not a 200 or is the console's error
// page.
func (b *browser) checkPage(t *testing.T, what string, resp *network.Response) {
	t.Helper()
	msg := get(t, b, what, chromedp.Evaluate[string](`document.querySelector('#error-message')?.textContent || ''`))
	if resp.Status != 200 || msg != "" {
		t.Fatalf("%s: %s answered %d %s", what, resp.URL, resp.Status, msg)
	}
}

// noErrors fails the test with the errors the pages logged so far.
func (b *browser) noErrors(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errs {
		t.Errorf("browser: %s", e)
	}
	b.errs = nil
}

// screenshot writes dir/name.png, again if a live refresh was swapping
// the page's content.
func (b *browser) screenshot(t *testing.T, dir, name string) {
	t.Helper()
	await.For(t, 10*time.Second, "a screenshot of "+name, func() error { return b.trySnapshot(dir, name) })
}

// trySnapshot writes a screenshot of the page as dir/name.png.
func (b *browser) trySnapshot(dir, name string) error {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", name, err)
	}
	return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

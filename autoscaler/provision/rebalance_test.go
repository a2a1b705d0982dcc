package provision

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirhq/weir/collector/ccclient"
	"github.com/weirhq/weir/internal/await"
)

// fakeCollector answers add_broker and remove_broker at once, with an idle
// executor, and records each call with the broker count MSK had then.
type fakeCollector struct {
	mu    sync.Mutex
	msk   *fakeMSK
	calls []string
}

func (c *fakeCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case strings.HasSuffix(r.URL.Path, "/state"):
		fmt.Fprint(w, `{"ExecutorState": {"state": "NO_TASK_IN_PROGRESS"}}`)
	case r.Method == http.MethodPost:
		c.msk.mu.Lock()
		n := len(c.msk.ids)
		c.msk.mu.Unlock()
		c.calls = append(c.calls, fmt.Sprintf("%s %s dryrun=%s with %d brokers", r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:],
			r.URL.Query().Get("brokerid"), r.URL.Query().Get("dryrun"), n))
		fmt.Fprint(w, `{}`)
	}
}

func (c *fakeCollector) taken() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

// TestRebalancingAroundMSK: against MSK (the SDK against the fake), a
// scale-out is MSK's UpdateBrokerCount, then the collector's add_broker
// onto the new brokers once MSK's operation completes; a scale-in moves
// the data off the highest-numbered brokers first, then asks MSK. The
// autoscaler sees one operation that ends when the data has moved, and
// the cluster as busy meanwhile.
func TestRebalancingAroundMSK(t *testing.T) {
	f := newFakeMSK(t)
	coll := &fakeCollector{msk: f}
	srv := httptest.NewServer(coll)
	defer srv.Close()
	r := WithRebalance(f.start(), ccclient.New(srv.URL))
	r.Poll = 10 * time.Millisecond
	defer r.Close()
	ctx := context.Background()

	id, err := r.UpdateBrokerCount(ctx, 6)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := r.Describe(ctx); err != nil || c.Operation == "" {
		t.Fatalf("while MSK adds brokers: %+v, %v; want an operation in progress", c, err)
	}
	if _, err := r.UpdateBrokerCount(ctx, 9); !errors.Is(err, ErrBusy) {
		t.Errorf("a second change while the first runs: %v, want ErrBusy", err)
	}
	f.mu.Lock()
	active := f.activeOp
	f.mu.Unlock()
	f.complete(active)
	waitDone(t, r, id)
	if got := coll.taken(); len(got) != 1 || got[0] != "add_broker 4,5,6 dryrun=false with 6 brokers" {
		t.Fatalf("collector calls %v, want add_broker onto 4,5,6 after MSK added them", got)
	}

	id, err = r.UpdateBrokerCount(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	await.For(t, 10*time.Second, "MSK's DECREASE_BROKER_COUNT", func() error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.activeOp == "" {
			return errors.New("no operation yet")
		}
		active = f.activeOp
		return nil
	})
	if got := coll.taken(); len(got) != 2 || got[1] != "remove_broker 4,5,6 dryrun=false with 6 brokers" {
		t.Fatalf("collector calls %v, want remove_broker off 4,5,6 before MSK removed them", got)
	}
	f.complete(active)
	waitDone(t, r, id)
	if c, err := r.Describe(ctx); err != nil || c.Brokers != 3 || c.Operation != "" {
		t.Errorf("after the scale-in: %+v, %v", c, err)
	}
}

func waitDone(t *testing.T, r *Rebalancing, id string) {
	t.Helper()
	await.For(t, 10*time.Second, "operation "+id, func() error {
		op, err := r.Operation(context.Background(), id)
		switch {
		case err != nil:
			return err
		case op.State == Failed:
			t.Fatalf("operation %s failed: %s", id, op.Error)
		case !op.Done():
			return errors.New(op.State)
		}
		return nil
	})
}

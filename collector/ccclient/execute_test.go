package ccclient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestExecute: a 503 (no model yet) is asked again, dryrun=false is sent,
// and Execute returns once the executor is idle, with the execution's
// error if it had one; another refusal ends it at once.
func TestExecute(t *testing.T) {
	var mu sync.Mutex
	posts, states := 0, 0
	var query url.Values
	refuse := http.StatusServiceUnavailable
	execErr := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/add_broker"):
			posts++
			query = r.URL.Query()
			if posts < 3 {
				w.WriteHeader(refuse)
				fmt.Fprint(w, `{"errorMessage": "no model"}`)
				return
			}
			fmt.Fprint(w, `{}`)
		case strings.HasSuffix(r.URL.Path, "/state"):
			states++
			st := "INTER_BROKER_REPLICA_MOVEMENT_TASK_IN_PROGRESS"
			if states > 2 {
				st = "NO_TASK_IN_PROGRESS"
			}
			fmt.Fprintf(w, `{"ExecutorState": {"state": %q, "error": %q}}`, st, execErr)
		}
	}))
	defer srv.Close()
	c := New(srv.URL)
	ctx := context.Background()
	if err := c.Execute(ctx, "add_broker", url.Values{"brokerid": {"4"}}, time.Minute, time.Minute); err != nil {
		t.Fatal(err)
	}
	if posts != 3 || states != 3 || query.Get("dryrun") != "false" || query.Get("brokerid") != "4" {
		t.Errorf("posts %d, states %d, query %v", posts, states, query)
	}
	mu.Lock()
	posts, refuse = 0, http.StatusBadRequest
	mu.Unlock()
	if err := c.Execute(ctx, "add_broker", nil, time.Minute, time.Minute); err == nil || posts != 1 {
		t.Errorf("a 400: %v after %d posts, want the error at once", err, posts)
	}
	mu.Lock()
	posts, states, refuse, execErr = 2, 0, http.StatusServiceUnavailable, "broker 4 died"
	mu.Unlock()
	if err := c.Execute(ctx, "add_broker", nil, time.Minute, time.Minute); err == nil || !strings.Contains(err.Error(), "broker 4 died") {
		t.Errorf("a failed execution: %v", err)
	}
}

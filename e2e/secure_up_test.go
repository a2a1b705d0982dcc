package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/collector/ccclient"
	"github.com/weirhq/weir/internal/await"
)

// TestSecureUp: `weir up --secure` with three brokers, agents and the
// collector. kcat with the librdkafka config it wrote produces and
// consumes as the admin user over SASL_SSL (the topic made by `weir
// topic create --command-config` with the Java config); a PLAINTEXT
// client gets nothing; the agents reach the brokers over SASL_SSL, so the
// collector models the three brokers and `weir rebalance` (which sends the
// cluster's token by itself) shows a proposal; the control plane's and
// the collector's APIs answer 401 without the token and 200 with it,
// /metrics stays open; `weir cluster describe` sends the token too.
func TestSecureUp(t *testing.T) {
	t.Parallel()
	kcat := lookTool(t, "kcat")
	bin := brokertest.Binary(t)
	dir := filepath.Join(t.TempDir(), "secure")
	base, adminBase, agentBase := freeRange(t, 3, 0), freeRange(t, 3, 0), freeRange(t, 6, 0)
	brokerBase, collectorPort := freeRange(t, 3, 0), freeRange(t, 1, 0)
	start := time.Now()
	up := startUp(t, bin, "--secure", "--brokers", "3", "--dir", dir, "--agents", "--no-monitoring",
		"--base-port", fmt.Sprint(base), "--admin-base-port", fmt.Sprint(adminBase), "--agent-base-port", fmt.Sprint(agentBase),
		"--broker-base-port", fmt.Sprint(brokerBase), "--collector-port", fmt.Sprint(collectorPort))
	e := up.waitEndpoints(t, dir)
	t.Logf("secure cluster up in %v", time.Since(start).Round(100*time.Millisecond))
	sec := e.Security
	if sec == nil || sec.Protocol != "SASL_SSL" || sec.AtRest == "" {
		t.Fatalf("endpoints.json security: %+v", sec)
	}
	for _, want := range []string{"client configs: " + sec.ClientProperties, sec.ClientLibrdkafka, "bearer token in " + sec.APIToken, "encryption at rest: "} {
		if !strings.Contains(up.stdout(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, up.stdout())
		}
	}

	t.Run("kcat", func(t *testing.T) {
		runWeir(t, bin, "topic", "create", "secure-up", "--partitions", "3", "--brokers", e.Bootstrap,
			"--command-config", sec.ClientProperties)
		if _, errOut, err := kcatWith(t, kcat, sec.ClientLibrdkafka, "a\nb\n", "-P", "-t", "secure-up", "-p", "0"); err != nil {
			t.Fatalf("kcat produce over SASL_SSL: %v\n%s", err, errOut)
		}
		out, errOut, err := kcatWith(t, kcat, sec.ClientLibrdkafka, "", "-C", "-t", "secure-up", "-p", "0", "-o", "beginning", "-e")
		if err != nil || out != "a\nb\n" {
			t.Fatalf("kcat consume over SASL_SSL: %q %v\n%s", out, err, errOut)
		}
	})

	t.Run("plaintext-refused", func(t *testing.T) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(e.Brokers[0].Kafka), kgo.RequestRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := cl.Ping(ctx); err == nil {
			t.Fatal("a PLAINTEXT client was answered on the SASL_SSL listener")
		}
		// The inter-broker listener wants a client certificate.
		ms := e.Brokers[0].InterBroker
		out, err := exec_(t, kcat, "-b", ms, "-X", "security.protocol=ssl", "-X", "ssl.ca.location="+sec.CA, "-L", "-m", "3")
		if err == nil {
			t.Fatalf("kcat without a client certificate listed the inter-broker listener %s:\n%s", ms, out)
		}
	})

	t.Run("http-token", func(t *testing.T) {
		token, err := os.ReadFile(sec.APIToken)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			url        string
			auth       string
			wantStatus int
		}{
			{e.ControlPlane + "/v1/clusters/current", "", 401},
			{e.ControlPlane + "/v1/clusters/current", "Bearer wrong", 401},
			{e.ControlPlane + "/v1/clusters/current", "Bearer " + strings.TrimSpace(string(token)), 200},
			{e.Collector.API + "state", "", 401},
			{e.Collector.API + "state", "Bearer " + strings.TrimSpace(string(token)), 200},
			{e.Collector.Console, "", 401},
			{e.Collector.Metrics, "", 200},
		} {
			req, _ := http.NewRequest("GET", c.url, nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.wantStatus {
				t.Errorf("GET %s with %q: %s, want %d", c.url, c.auth, resp.Status, c.wantStatus)
			}
		}
		// The console's operations page asks the control plane, with the
		// token; a browser signs in once with ?token= and keeps a cookie.
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		resp, err := browser.Get(e.Collector.Console + "operations?token=" + strings.TrimSpace(string(token)))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Request.URL.RawQuery != "" || strings.Contains(string(page), "HTTP 401") || !strings.Contains(string(page), "ACTIVE") {
			t.Errorf("the console's operations page: %s (at %s)\n%s", resp.Status, resp.Request.URL, page)
		}
		// The message viewer's consumers connect over SASL_SSL with the
		// collector's client config: the records kcat wrote show.
		resp, err = browser.Get(e.Collector.Console + "topics/secure-up/messages?partition=0&offset=0")
		if err != nil {
			t.Fatal(err)
		}
		page, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), ">a</pre>") || !strings.Contains(string(page), ">b</pre>") {
			t.Errorf("the console's message viewer on a secure cluster: %s\n%s", resp.Status, page)
		}
		if out := runWeir(t, bin, "cluster", "describe", "--dir", dir); !strings.Contains(out, "state ACTIVE") {
			t.Errorf("weir cluster describe:\n%s", out)
		}
	})

	t.Run("collector-over-sasl", func(t *testing.T) {
		// The collector's model needs the agents' samples, which they
		// produce over SASL_SSL; weir rebalance asks for the proposal
		// through the CLI, with the token from the cluster directory.
		var o ccclient.Optimization
		await.For(t, 75*time.Second, "weir rebalance to show a proposal over the three brokers", func() error {
			out, code := runWeirCode(t, bin, "rebalance", "--dir", dir, "--collector", fmt.Sprint("127.0.0.1:", collectorPort), "-o", "json")
			if code != 0 {
				return fmt.Errorf("exit %d: %s", code, out)
			}
			if err := json.Unmarshal([]byte(out), &o); err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			if len(o.LoadAfter.Brokers) != 3 {
				return fmt.Errorf("%d brokers in the model", len(o.LoadAfter.Brokers))
			}
			return nil
		})
		t.Logf("a proposal over %d brokers %v after weir up started", len(o.LoadAfter.Brokers), time.Since(start).Round(100*time.Millisecond))
		// The agents and the collector start once the admin user exists:
		// no SASL attempt of theirs failed.
		for _, b := range e.Brokers {
			log, _ := os.ReadFile(b.Log)
			if i := strings.Index(string(log), `stage="sasl`); i >= 0 {
				t.Errorf("broker %d refused a SASL sign-in: %s", b.ID, string(log)[max(0, i-300):i+100])
			}
		}
		if out, code := runWeirCode(t, bin, "rebalance", "--dir", t.TempDir(), "--collector", fmt.Sprint("127.0.0.1:", collectorPort)); code == 0 || !strings.Contains(out, "401") {
			t.Errorf("weir rebalance without the cluster's token: exit %d\n%s", code, out)
		}
	})

	// A second weir up on the directory, without --secure, brings the
	// same secure cluster back: the same CA, password and client configs,
	// the records still there.
	password, err := os.ReadFile(sec.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	up.interrupt(t)
	again := startUp(t, bin, "--dir", dir)
	e2 := again.waitEndpoints(t, dir)
	if e2.Security == nil || e2.Brokers[0].Kafka != e.Brokers[0].Kafka {
		t.Fatalf("after a restart: %+v", e2)
	}
	if p2, _ := os.ReadFile(sec.AdminPassword); string(p2) != string(password) {
		t.Error("a restart changed the admin password")
	}
	out, errOut, err := kcatWith(t, kcat, sec.ClientLibrdkafka, "", "-C", "-t", "secure-up", "-p", "0", "-o", "beginning", "-e")
	if err != nil || out != "a\nb\n" {
		t.Fatalf("kcat after a restart: %q %v\n%s", out, err, errOut)
	}
	again.interrupt(t)
}

// exec_ runs a tool with a 20 s bound and returns its combined output.
func exec_(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.CommandContext(testContext(t, 20*time.Second), name, args...).CombinedOutput()
	return string(out), err
}

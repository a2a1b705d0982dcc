package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestRunTLS runs `weir bench tls`'s core on a one-broker cluster: the
// same records go through PLAINTEXT, SSL and SASL_SSL (a SCRAM-SHA-512
// user made over PLAINTEXT) in two rounds, each drained back, and the
// table has a row of medians per listener.
func TestRunTLS(t *testing.T) {
	bin := os.Getenv("WEIR_BINARY")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "weir")
		cmd := exec.Command("go", "build", "-o", bin, "../cmd/weir")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building weir: %v\n%s", err, out)
		}
	}
	const records = 2000
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	runs, err := RunTLS(ctx, TLSOptions{
		WeirBinary: bin, Brokers: 1, Rounds: 2, WorkDir: t.TempDir(), Timeout: time.Minute,
		Client: Options{Records: records, RecordSize: 100, Partitions: 2, Acks: "all", Idempotent: true},
	})
	if err != nil {
		t.Fatalf("RunTLS: %v", err)
	}
	if len(runs) != 2*len(tlsListeners) {
		t.Fatalf("%d runs, want two rounds of every listener: %+v", len(runs), runs)
	}
	for i, r := range runs {
		l := tlsListeners[i%len(tlsListeners)]
		if r.Listener != l || r.Round != i/len(tlsListeners) || r.Produce.Records != records || r.Consume.Records < records {
			t.Errorf("run %d: %s round %d produced %d, drained %d; want %s round %d, %d, at least %d",
				i, r.Listener, r.Round, r.Produce.Records, r.Consume.Records, l, i/len(tlsListeners), records, records)
		}
	}
	var out bytes.Buffer
	if err := WriteTLSTable(&out, runs); err != nil {
		t.Fatal(err)
	}
	for _, l := range tlsListeners {
		if !regexp.MustCompile(`\n` + l + ` +2 +[0-9.]+ +[0-9.]+x `).MatchString(out.String()) {
			t.Errorf("no %s row over 2 rounds in\n%s", l, out.String())
		}
	}
}

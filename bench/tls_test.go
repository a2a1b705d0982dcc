package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunTLS runs `weir bench tls`'s core on a one-broker cluster: the
// same records go through PLAINTEXT, SSL and SASL_SSL (a SCRAM-SHA-512
// user made over PLAINTEXT), each drained back, and the table has a row
// per listener.
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
		WeirBinary: bin, Brokers: 1, WorkDir: t.TempDir(), Timeout: time.Minute,
		Client: Options{Records: records, RecordSize: 100, Partitions: 2, Acks: "all", Idempotent: true},
	})
	if err != nil {
		t.Fatalf("RunTLS: %v", err)
	}
	if len(runs) != len(tlsListeners) {
		t.Fatalf("%d runs, want one per listener: %+v", len(runs), runs)
	}
	for i, r := range runs {
		if r.Listener != tlsListeners[i] || r.Produce.Records != records || r.Consume.Records < records {
			t.Errorf("run %d: %s produced %d, drained %d; want %s, %d, at least %d",
				i, r.Listener, r.Produce.Records, r.Consume.Records, tlsListeners[i], records, records)
		}
	}
	var out bytes.Buffer
	if err := WriteTLSTable(&out, runs); err != nil {
		t.Fatal(err)
	}
	for _, l := range tlsListeners {
		if !strings.Contains(out.String(), "\n"+l+" ") {
			t.Errorf("no %s row in\n%s", l, out.String())
		}
	}
}

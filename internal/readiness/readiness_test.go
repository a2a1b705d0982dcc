package readiness

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// An admin endpoint that is not ready yet fails the probe with its status
// and body, before any Kafka request.
func TestBrokerNotReady(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			t.Errorf("probed %s, want /readyz", r.URL.Path)
		}
		http.Error(w, "applying metadata", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	err := Broker(context.Background(), "127.0.0.1:1", srv.URL)
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "applying metadata") {
		t.Fatalf("Broker = %v, want the 503 and its body", err)
	}
}

// With the admin endpoint ready (or none), the Kafka listener decides.
func TestBrokerKafkaDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := Broker(ctx, addr, ""); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Broker = %v, want an error naming %s", err, addr)
	}
}

func TestHTTPOK(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	if err := HTTPOK(context.Background(), srv.URL); err != nil {
		t.Fatal(err)
	}
}

package ops

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestProbeURL(t *testing.T) {
	for _, c := range []struct{ addr, path, want string }{
		{":3000", "/readyz", "http://127.0.0.1:3000/readyz"},
		{"0.0.0.0:8080", "healthz", "http://127.0.0.1:8080/healthz"},
		{"[::]:3000", "/readyz", "http://127.0.0.1:3000/readyz"},
		{"10.0.0.7:3000", "/healthz", "http://10.0.0.7:3000/healthz"},
	} {
		got, err := ProbeURL(c.addr, c.path)
		if err != nil || got != c.want {
			t.Errorf("ProbeURL(%q, %q) = %q, %v; want %q", c.addr, c.path, got, err, c.want)
		}
	}
	if _, err := ProbeURL("3000", "/readyz"); err == nil {
		t.Error("ProbeURL accepted an address without a port separator")
	}
}

func TestProbe(t *testing.T) {
	var ready atomic.Bool
	ready.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" && !ready.Load() {
			http.Error(w, `{"ready":false}`, http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Probe(ctx, srv.URL+"/readyz"); err != nil {
		t.Fatalf("healthy server: %v", err)
	}
	ready.Store(false)
	if err := Probe(ctx, srv.URL+"/readyz"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("unready server: err = %v, want status 503", err)
	}
	// Nothing listening: a clear error, not a hang.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	if err := Probe(ctx, "http://"+closed+"/readyz"); err == nil {
		t.Fatal("probe of a closed port succeeded")
	}
}

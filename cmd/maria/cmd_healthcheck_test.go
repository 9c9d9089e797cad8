package main

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
		got, err := probeURL(c.addr, c.path)
		if err != nil || got != c.want {
			t.Errorf("probeURL(%q, %q) = %q, %v; want %q", c.addr, c.path, got, err, c.want)
		}
	}
	if _, err := probeURL("3000", "/readyz"); err == nil {
		t.Error("probeURL accepted an address without a port separator")
	}
}

func TestHealthcheck(t *testing.T) {
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
	addr := strings.TrimPrefix(srv.URL, "http://")

	if err := cmdHealthcheck([]string{"-addr", addr}); err != nil {
		t.Fatalf("healthy server: %v", err)
	}
	ready.Store(false)
	err := cmdHealthcheck([]string{"-addr", addr})
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("unready server: err = %v, want status 503", err)
	}
	if err := cmdHealthcheck([]string{"-addr", addr, "-path", "/healthz"}); err != nil {
		t.Fatalf("liveness on unready server: %v", err)
	}

	// Nothing listening: a clear error, not a hang.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := probe(ctx, "http://"+closed+"/readyz"); err == nil {
		t.Fatal("probe of a closed port succeeded")
	}
}

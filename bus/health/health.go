// Package health is the one HTTP server of a Maria process: /healthz
// (alive), /readyz (every registered readiness check, each named, run at
// each request), /metrics (Prometheus), and the routes services add to its
// Mux (ingress' /slack/*).
package health

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Check reports whether a dependency is usable.
type Check func(ctx context.Context) error

// Server is the one HTTP server of a process: /healthz, /readyz, /metrics,
// and whatever routes services add to Mux (ingress' /slack/*).
type Server struct {
	Mux    *http.ServeMux
	mu     sync.Mutex
	checks map[string]Check
	// sources add checks that come and go (one per running consumer).
	sources []func() map[string]Check
	srv     *http.Server
	log     zerolog.Logger
}

// New builds the server with health and metrics routes.
func New(log zerolog.Logger) *Server {
	h := &Server{Mux: http.NewServeMux(), checks: map[string]Check{}, log: log}
	h.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	h.Mux.HandleFunc("GET /readyz", h.readyz)
	h.Mux.Handle("GET /metrics", promhttp.Handler())
	return h
}

// AddCheck registers a readiness check under name.
func (h *Server) AddCheck(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = c
}

// AddCheckSource registers checks computed at each /readyz, for
// dependencies that appear at run time (bus.Bus.ConsumerChecks: one per
// processor consumer).
func (h *Server) AddCheckSource(src func() map[string]Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sources = append(h.sources, src)
}

func (h *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	h.mu.Lock()
	checks := make(map[string]Check, len(h.checks))
	for n, c := range h.checks {
		checks[n] = c
	}
	sources := append([]func() map[string]Check(nil), h.sources...)
	h.mu.Unlock()
	for _, src := range sources {
		for n, c := range src() {
			checks[n] = c
		}
	}
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	out := map[string]string{}
	ok := true
	for _, n := range names {
		if err := checks[n](ctx); err != nil {
			out[n] = err.Error()
			ok = false
		} else {
			out[n] = "ok"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ready": ok, "checks": out})
}

// Serve listens on addr until ctx ends, then shuts down gracefully.
// ready, if not nil, receives the bound address (useful with ":0").
func (h *Server) Serve(ctx context.Context, addr string, ready chan<- string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	h.srv = &http.Server{Handler: h.Mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second}
	if ready != nil {
		ready <- ln.Addr().String()
	}
	h.log.Info().Str("addr", ln.Addr().String()).Msg("http listening")
	errc := make(chan error, 1)
	go func() { errc <- h.srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return h.srv.Shutdown(sctx)
	}
}

package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mariahq/maria/bus/health"
	"github.com/rs/zerolog"
)

func readyz(t *testing.T, h *health.Server) (int, map[string]string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.Mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var body struct {
		Ready  bool              `json:"ready"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("readyz body %q: %v", rec.Body, err)
	}
	if body.Ready != (rec.Code == http.StatusOK) {
		t.Fatalf("ready=%v with status %d", body.Ready, rec.Code)
	}
	return rec.Code, body.Checks
}

// /readyz runs every check, fixed and from sources, names each, and is 503
// while any fails; /healthz only says the process is alive.
func TestReadyzRunsEveryCheck(t *testing.T) {
	h := health.New(zerolog.Nop())
	rec := httptest.NewRecorder()
	h.Mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("healthz = %d", rec.Code)
	}
	if code, checks := readyz(t, h); code != http.StatusOK || len(checks) != 0 {
		t.Fatalf("no checks: %d %v", code, checks)
	}
	var broken error
	h.AddCheck("nats", func(context.Context) error { return broken })
	h.AddCheckSource(func() map[string]health.Check {
		return map[string]health.Check{"consumer MARIA_IN/ai": func(context.Context) error { return nil }}
	})
	if code, checks := readyz(t, h); code != http.StatusOK || checks["nats"] != "ok" || checks["consumer MARIA_IN/ai"] != "ok" {
		t.Fatalf("all healthy: %d %v", code, checks)
	}
	broken = errors.New("not connected")
	if code, checks := readyz(t, h); code != http.StatusServiceUnavailable || checks["nats"] != "not connected" || checks["consumer MARIA_IN/ai"] != "ok" {
		t.Fatalf("nats down: %d %v", code, checks)
	}
}

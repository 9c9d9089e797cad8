package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/config"
)

func TestERPServiceNeedsOdooURL(t *testing.T) {
	env := config.NewEnvFrom(map[string]string{"MARIA_DATA_DIR": t.TempDir(), "MARIA_NATS_LISTEN": "-", "MARIA_HTTP_ADDR": "127.0.0.1:0"})
	_, err := Start(context.Background(), Options{Services: []string{"erp"}, Env: env, LogOutput: io.Discard})
	if err == nil {
		t.Fatal("erp without ODOO_URL must not start")
	}
	for _, want := range []string{"ODOO_URL is required", "ODOO_PASSWORD is required", "ODOO_DB is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error should say %q: %v", want, err)
		}
	}
}

func TestERPServiceStartsAndReportsReadiness(t *testing.T) {
	env := config.NewEnvFrom(map[string]string{"MARIA_DATA_DIR": t.TempDir(), "MARIA_NATS_LISTEN": "-", "MARIA_HTTP_ADDR": "127.0.0.1:0",
		"ODOO_URL": "http://127.0.0.1:9", "ODOO_DB": "odoo", "ODOO_USERNAME": "maria", "ODOO_PASSWORD": "secret-key-123",
		"MARIA_ERP_ALLOW": "res.partner:name,email"})
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	var logs strings.Builder
	r, err := Start(ctx, Options{Services: []string{"erp"}, Env: env, LogOutput: &syncWriter{w: &logs}, HTTPReady: addr})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			_ = r.Wait()
		}
	}
	defer stop()
	var base string
	select {
	case base = <-addr:
	case <-time.After(10 * time.Second):
		t.Fatal("http did not start")
	}
	resp, err := http.Get("http://" + base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ready struct {
		Checks map[string]string `json:"checks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ready); err != nil {
		t.Fatal(err)
	}
	// Nothing listens on port 9: erp is not ready, and says why.
	if resp.StatusCode == http.StatusOK || !strings.Contains(ready.Checks["erp"], "unreachable") && !strings.Contains(ready.Checks["erp"], "waiting for Odoo") {
		t.Fatalf("readyz should report erp not ready (Odoo unreachable): %d %v", resp.StatusCode, ready.Checks)
	}
	stop()
	if !strings.Contains(logs.String(), "erp configured") {
		t.Fatalf("expected the erp service to log its configuration: %s", logs.String())
	}
	if strings.Contains(logs.String(), "secret-key-123") {
		t.Fatal("the Odoo key must never be logged")
	}
}

// syncWriter serializes writes from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

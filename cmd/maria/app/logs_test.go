package app

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/telemetry"
)

// Every JSON log line of a process running several services names each
// key once ("component" was written twice by egress).
func TestLogLinesHaveNoDuplicateKeys(t *testing.T) {
	env := config.NewEnvFrom(map[string]string{"MARIA_DATA_DIR": t.TempDir(), "MARIA_NATS_LISTEN": "-", "MARIA_HTTP_ADDR": "127.0.0.1:0",
		"MARIA_LOG_LEVEL": "debug", "MARIA_LOG_FORMAT": "json",
		"SLACK_SIGNING_SECRET": "s", "MARIA_EGRESS_DRY_RUN": "true", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
		"ODOO_URL": "http://127.0.0.1:9", "ODOO_DB": "odoo", "ODOO_USERNAME": "maria", "ODOO_PASSWORD": "secret-key-123"})
	pr, pw := io.Pipe()
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Start(ctx, Options{Services: []string{"ingress", "egress", "ai", "erp", "storage"}, Env: env, LogOutput: &syncWriter{w: pw}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	timeout := time.After(20 * time.Second)
	for running := false; !running; {
		select {
		case l := <-lines:
			got = append(got, l)
			running = strings.Contains(l, `"maria running"`)
		case <-timeout:
			t.Fatalf("no \"maria running\" line: %v", got)
		}
	}
	cancel()
	_ = r.Wait()
	_ = pw.Close()
	for l := range lines {
		got = append(got, l)
	}
	components := map[string]bool{}
	for _, l := range got {
		dups, err := telemetry.DuplicateKeys(l)
		if err != nil {
			t.Fatal(err)
		}
		if len(dups) > 0 {
			t.Errorf("duplicate keys %v in %s", dups, l)
		}
		var f struct{ Component string }
		_ = json.Unmarshal([]byte(l), &f)
		components[f.Component] = true
	}
	if !components["egress"] || !components["erp"] {
		t.Fatalf("the test saw no egress or erp line (components %v): it checks nothing", components)
	}
}

package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/config"
)

// duplicateKeys returns the keys a JSON object line holds more than once
// (encoding/json keeps the last silently; log collectors disagree).
func duplicateKeys(line string) ([]string, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object: %q", line)
	}
	seen := map[string]bool{}
	var dups []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if seen[key] {
			dups = append(dups, key)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return dups, nil
}

func TestDuplicateKeys(t *testing.T) {
	for line, want := range map[string]string{
		`{"a":1,"b":{"a":2}}`:               "",
		`{"component":"x","component":"y"}`: "component",
		`{"a":[1,{"a":1}],"a":null}`:        "a",
	} {
		got, err := duplicateKeys(line)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("%s: got %v %v, want %q", line, got, err, want)
		}
	}
}

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
		dups, err := duplicateKeys(l)
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

package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/config"
)

// callCounter is every server a start could reach: an HTTP server standing
// in for Slack, OpenAI and Odoo, and a TCP listener standing in for NATS.
type callCounter struct {
	http  *httptest.Server
	nats  net.Listener
	calls atomic.Int64
}

func newCallCounter(t *testing.T) *callCounter {
	c := &callCounter{}
	c.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c.calls.Add(1)
		http.Error(w, "no call expected", http.StatusTeapot)
	}))
	t.Cleanup(c.http.Close)
	var err error
	c.nats, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.nats.Close() })
	go func() {
		for {
			conn, err := c.nats.Accept()
			if err != nil {
				return
			}
			c.calls.Add(1)
			_ = conn.Close()
		}
	}()
	return c
}

// configCase is a broken configuration and the whole message it gets.
type configCase struct {
	name     string
	services []string
	env      map[string]string
	want     string
}

// brokenConfigs are the cases of TestStartReportsEveryConfigurationErrorBeforeAnyCall:
// with(set, unset...) is a valid configuration pointing at c, changed.
func brokenConfigs(with func(set map[string]string, unset ...string) map[string]string) []configCase {
	return []configCase{
		{"shared and every service", []string{"ingress", "egress", "ai", "erp"},
			with(map[string]string{"MARIA_LOG_LEVEL": "loud", "MARIA_LOG_FORMAT": "fancy", "SLACK_BOT_TOKEN": "bad", "MARIA_EGRESS_CONCURRENCY": "x"},
				"SLACK_SIGNING_SECRET", "OPENAI_BASE_URL", "ODOO_PASSWORD"),
			`configuration: 8 problems
  shared:
    - MARIA_LOG_LEVEL="loud": want one of trace, debug, info, warn, error
    - MARIA_LOG_FORMAT="fancy": want one of auto, json, console
  ingress:
    - ingress needs SLACK_SIGNING_SECRET (HTTP endpoints /slack/events, /slack/commands, /slack/interactions) or SLACK_APP_TOKEN (Socket Mode); neither is set
    - SLACK_BOT_TOKEN must be a bot token starting with xoxb-
  egress:
    - MARIA_EGRESS_CONCURRENCY="x": want an integer in [1, 1024]
    - SLACK_BOT_TOKEN does not look like a Slack token (want xoxb-...)
  ai:
    - set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (an OpenAI-compatible server such as a local model or the simulator)
  erp:
    - ODOO_PASSWORD is required (Odoo password or, better, an API key of Maria's Odoo user)`},
		{"one service among valid ones: egress' auth.test is not called", []string{"ingress", "egress", "erp"},
			with(nil, "ODOO_URL"),
			`configuration: 1 problem
  erp:
    - ODOO_URL is required (the erp service reads and writes Odoo there, e.g. https://mycompany.odoo.com; ` + "`maria demo`" + ` points it at the Odoo simulator)`},
		{"two services, one problem each", []string{"ai", "erp"},
			with(map[string]string{"MARIA_ERP_MAX_LIMIT": "0", "MARIA_AI_TIMEOUT": "-1s"}),
			`configuration: 2 problems
  ai:
    - MARIA_AI_TIMEOUT="-1s": want a positive duration like 30s or 5m
  erp:
    - MARIA_ERP_MAX_LIMIT="0": want an integer in [1, 1000]`},
		{"only the shared variables", []string{"egress"},
			with(map[string]string{"MARIA_STREAM_REPLICAS": "9", "MARIA_NATS_LISTEN": "nowhere"}),
			`configuration: 2 problems
  shared:
    - MARIA_STREAM_REPLICAS="9": want an integer in [1, 5]
    - MARIA_NATS_LISTEN="nowhere": want host:port or -`},
	}
}

// A broken configuration is reported whole — the shared variables and
// every selected service's, grouped per service, each problem once —
// before any network call: no NATS connection, no auth.test, no Odoo or
// OpenAI request.
func TestStartReportsEveryConfigurationErrorBeforeAnyCall(t *testing.T) {
	c := newCallCounter(t)
	valid := func() map[string]string {
		return map[string]string{
			"NATS_URL": "nats://" + c.nats.Addr().String(), "MARIA_HTTP_ADDR": "127.0.0.1:0",
			"SLACK_API_URL": c.http.URL + "/api/", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
			"OPENAI_BASE_URL": c.http.URL + "/v1", "ODOO_URL": c.http.URL, "ODOO_DB": "db", "ODOO_USERNAME": "u", "ODOO_PASSWORD": "p",
		}
	}
	with := func(set map[string]string, unset ...string) map[string]string {
		v := valid()
		for k, x := range set {
			v[k] = x
		}
		for _, k := range unset {
			delete(v, k)
		}
		return v
	}
	for _, tt := range brokenConfigs(with) {
		t.Run(tt.name, func(t *testing.T) {
			before := c.calls.Load()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r, err := Start(ctx, Options{Services: tt.services, Env: config.NewEnvFrom(tt.env), LogOutput: io.Discard})
			if err == nil {
				cancel()
				_ = r.Wait()
				t.Fatal("a broken configuration started")
			}
			if err.Error() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", err, tt.want)
			}
			if _, ok := config.AsErrors(err); !ok {
				t.Errorf("not a *config.Errors: %T", err)
			}
			if n := c.calls.Load() - before; n != 0 {
				t.Errorf("%d network calls before the configuration was found broken", n)
			}
		})
	}
}

// Probe says in one line why a service cannot start (the replay sandbox
// prints one line per skipped service).
func TestProbeSkipsWithOneLineReason(t *testing.T) {
	env := map[string]string{"MARIA_NATS_LISTEN": "-", "MARIA_HTTP_ADDR": "127.0.0.1:0", "ODOO_PASSWORD": "p"}
	ok, skipped := Probe(context.Background(), []string{"erp"}, env, t.TempDir, io.Discard)
	reason := skipped["erp"]
	if len(ok) != 0 || reason == nil {
		t.Fatalf("erp without ODOO_URL started: ok=%v skipped=%v", ok, skipped)
	}
	want := "ODOO_URL is required (the erp service reads and writes Odoo there, e.g. https://mycompany.odoo.com; `maria demo` points it at the Odoo simulator); " +
		"ODOO_DB is required (the Odoo database name, needed by XML-RPC (ODOO_PROTOCOL=auto or xmlrpc)); ODOO_USERNAME is required (the login of Maria's Odoo user, needed by XML-RPC (ODOO_PROTOCOL=auto or xmlrpc))"
	if reason.Error() != want {
		t.Fatalf("reason\n%s\nwant\n%s", reason, want)
	}
}

package demo

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/tests/sim/odoosim"
	"github.com/mariahq/maria/tests/sim/openaisim"
)

// syncBuffer is a bytes.Buffer safe for the services' concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func logSink() io.Writer {
	if os.Getenv("MARIA_TEST_LOG") == "1" {
		return os.Stderr
	}
	return io.Discard
}

// `maria demo` end to end, as the binary runs it: the script succeeds and
// the prompt answers a piped question through the same pipeline.
func TestRunScriptThenChat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, logs syncBuffer
	err := Run(ctx, RunOptions{
		Environ: map[string]string{"MARIA_DATA_DIR": t.TempDir(), "MARIA_NATS_LISTEN": "127.0.0.1:0", "MARIA_HTTP_ADDR": "127.0.0.1:0"},
		Out:     &out, In: strings.NewReader("What is the status of S00043?\n/trace\n/quit\n"),
		Script: true, Chat: true, LogOutput: io.MultiWriter(&logs, logSink()),
	})
	text := out.String()
	t.Log("\n" + text)
	if err != nil {
		t.Fatalf("demo failed: %v", err)
	}
	checkLogLines(t, logs.String())
	for _, want := range []string{
		"✓ 1. A question about an order → the AI reads the ERP",
		"✓ 2. A follow-up in the thread → Maria remembers the conversation",
		"✓ 3. A change request → a proposal; the asker's Confirm click → one ERP write",
		"✓ 4. A shared image → stored",
		"exactly one crm.lead created in the Odoo simulator (5 → 6)",
		"The customer is Azure Interior and the total is 1,587.00.", // the transcript, mrkdwn rendered
		"delivered.v1 ← out.stream.stop.v1",                         // the trace
		"The scripted conversation succeeded.",
		"you › What is the status of S00043?", // the chat
		"Customer: Deco Addict",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Each step prints only the transcript lines it added.
	if n := strings.Count(text, "U0ALICE: @maria "+QuestionOrder); n != 1 {
		t.Errorf("the first message is printed %d times, want once", n)
	}
	if m := reRawMarkup.FindString(text); m != "" {
		t.Errorf("raw Slack markup in the output: %s", m)
	}
	if strings.Contains(text, "xoxb-") || strings.Contains(text, "sk-demo-") {
		t.Error("the output shows a secret")
	}
}

// checkLogLines: the services' log (a file: JSON) names each key once on
// every line.
func checkLogLines(t *testing.T, logs string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) < 10 {
		t.Fatalf("only %d log lines: the check would check nothing", len(lines))
	}
	for _, l := range lines {
		dups, err := telemetry.DuplicateKeys(l)
		if err != nil {
			t.Fatal(err)
		}
		if len(dups) > 0 {
			t.Errorf("duplicate keys %v in %s", dups, l)
		}
	}
}

// A model that never uses the ERP: the demo says which steps failed and
// returns an error (`maria demo` exits 1).
func TestScriptReportsFailedSteps(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lazy := openaisim.New(func(*openaisim.Request) openaisim.Response { return openaisim.Text("I'd rather not look that up.") })
	e, err := Start(ctx, Options{DataDir: t.TempDir(), OpenAI: lazy, LogOutput: logSink(), SettleTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var out bytes.Buffer
	results, err := e.Script(ctx, Printer{W: &out})
	t.Log("\n" + out.String())
	if err == nil {
		t.Fatal("the script must fail when the model never reads the ERP")
	}
	if len(results) != 6 || results[0].OK() || results[2].OK() || !results[3].OK() || results[4].OK() || results[5].OK() {
		t.Fatalf("want steps 1, 3, 5 and 6 failed, 4 passed: %+v", results)
	}
	if !strings.Contains(out.String(), "✗ the AI read sale.order from the ERP (0 ERP queries: none)") {
		t.Fatal("the failure is not explained")
	}
}

// OPENAI_BASE_URL and ODOO_URL in the environment replace the simulators:
// the demo talks to those servers (here: a model server and an Odoo
// started outside the demo) and its script still succeeds.
func TestRealModelAndOdooFromEnvironment(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	model := openaisim.New(openaisim.Rules())
	model.APIKey = "sk-outside-0123456789"
	srv, modelURL, err := model.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	erp := odoosim.New(t)
	e, err := Start(ctx, Options{DataDir: t.TempDir(), LogOutput: logSink(), Environ: map[string]string{
		"OPENAI_BASE_URL": modelURL, "OPENAI_API_KEY": model.APIKey, "OPENAI_MODEL": "local-model",
		"ODOO_URL": erp.URL, "ODOO_DB": erp.DB, "ODOO_USERNAME": erp.User, "ODOO_PASSWORD": erp.Password,
		"SLACK_BOT_TOKEN": "xoxb-not-for-the-demo", "NATS_URL": "nats://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !e.RealAI || !e.RealOdoo || e.OpenAI != nil || e.Odoo != nil {
		t.Fatalf("real=%v/%v sims=%v/%v", e.RealAI, e.RealOdoo, e.OpenAI != nil, e.Odoo != nil)
	}
	var out bytes.Buffer
	e.Banner(Printer{W: &out}, "")
	if _, err := e.Script(ctx, Printer{W: &out}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if n := erp.Count("crm.lead"); n != 6 {
		t.Fatalf("the lead was not written to the configured Odoo: %d leads", n)
	}
	if len(model.Requests()) == 0 || model.Requests()[0].Model != "local-model" {
		t.Fatal("the configured model server was not used")
	}
	for _, want := range []string{"REAL model local-model at " + strings.TrimSuffix(modelURL, "/v1"), "REAL Odoo at " + erp.URL} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("banner lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), model.APIKey) || strings.Contains(out.String(), erp.Password) {
		t.Fatal("a secret was printed")
	}
}

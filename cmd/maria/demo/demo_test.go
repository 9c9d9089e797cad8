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
	var out syncBuffer
	err := Run(ctx, RunOptions{
		Environ: map[string]string{"MARIA_DATA_DIR": t.TempDir(), "MARIA_NATS_LISTEN": "127.0.0.1:0", "MARIA_HTTP_ADDR": "127.0.0.1:0"},
		Out:     &out, In: strings.NewReader("What is the status of S00043?\n/trace\n/quit\n"),
		Script: true, Chat: true, LogOutput: logSink(),
	})
	text := out.String()
	t.Log("\n" + text)
	if err != nil {
		t.Fatalf("demo failed: %v", err)
	}
	for _, want := range []string{
		"✓ 1. A question about an order → the AI reads the ERP",
		"✓ 2. A follow-up in the thread → Maria remembers the conversation",
		"✓ 3. A change request → a proposal; the asker's Confirm click → one ERP write",
		"✓ 4. A shared image → stored",
		"exactly one crm.lead created in the Odoo simulator (5 → 6)",
		"The customer is *Azure Interior* and the total is *1,587.00*.", // the transcript
		"delivered.v1 ← out.stream.stop.v1",                             // the trace
		"The scripted conversation succeeded.",
		"you › What is the status of S00043?", // the chat
		"Customer: Deco Addict",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(text, "xoxb-") || strings.Contains(text, "sk-demo-") {
		t.Error("the output shows a secret")
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
	if len(results) != 4 || results[0].OK() || results[2].OK() || !results[3].OK() {
		t.Fatalf("want steps 1 and 3 failed, 4 passed: %+v", results)
	}
	if !strings.Contains(out.String(), "✗ the AI read sale.order from the ERP (0 ERP queries: none)") {
		t.Fatal("the failure is not explained")
	}
}

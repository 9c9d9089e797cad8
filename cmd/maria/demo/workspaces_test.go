package demo

import (
	"context"
	"strings"
	"testing"
	"time"
)

// `maria demo --second-workspace`: Maria runs as an app (no bot token),
// the demo's workspace and then a second one install her through the
// simulator's OAuth flow, and the second one's question is answered with
// its own token. The script runs in between, unchanged.
func TestRunSecondWorkspace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out syncBuffer
	err := Run(ctx, RunOptions{
		Environ: map[string]string{"MARIA_DATA_DIR": t.TempDir(), "MARIA_NATS_LISTEN": "127.0.0.1:0", "MARIA_HTTP_ADDR": "127.0.0.1:0"},
		Out:     &out, In: strings.NewReader(""), Script: true, SecondWorkspace: true, LogOutput: logSink(),
	})
	text := out.String()
	t.Log("\n" + text)
	if err != nil {
		t.Fatalf("demo failed: %v", err)
	}
	for _, want := range []string{
		"✓ the demo's workspace " + Team + " installed Maria",
		"The scripted conversation succeeded.",
		"A second workspace, Globex (T0GLOBEX), installs Maria and asks",
		"✓ Globex installed Maria",
		"S00042",
		"✓ answered in Globex with Globex's own token",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Index(text, "A second workspace, Globex") < strings.Index(text, "✓ 1. A question about an order") {
		t.Error("the second workspace should come after the script")
	}
}

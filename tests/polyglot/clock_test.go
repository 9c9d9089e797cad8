// Package polyglot proves that a processor needs only the bus contract: the
// Node.js processor in examples/node-clock (the JSON Schemas and the nats
// client, nothing of Maria's Go code) runs under its own least-privilege
// NATS user beside the real services, answers in Slack, and its claim keeps
// the AI from answering the same message.
package polyglot

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/natsconn"
	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

const channel = "C0SALES"

func clockDir(t *testing.T) string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "examples", "node-clock")
}

// nodeOrSkip finds node and the processor's packages (installing them from
// the committed lock file when missing).
func nodeOrSkip(t *testing.T, dir string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the Node.js processor cannot run (CI has node)")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "nats", "package.json")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatal("node is installed but npm is not: cannot install examples/node-clock's packages (make deps)")
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	return node
}

// lines collects a process' output and signals when a line contains want.
type lines struct {
	mu   sync.Mutex
	all  []string
	seen chan struct{}
	once sync.Once
}

func watch(r io.Reader, want string) *lines {
	l := &lines{seen: make(chan struct{})}
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			l.mu.Lock()
			l.all = append(l.all, s.Text())
			l.mu.Unlock()
			if strings.Contains(s.Text(), want) || strings.Contains(s.Text(), `"msg":"stopped"`) {
				l.once.Do(func() { close(l.seen) })
			}
		}
	}()
	return l
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all, "\n")
}

// startClock runs the Node processor as NATS user clock until the test ends.
func startClock(t *testing.T, e *demo.Env) *lines {
	dir := clockDir(t)
	node := nodeOrSkip(t, dir)
	cmd := exec.Command(node, "clock.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NATS_URL="+e.NATSURL(), "NATS_CREDS="+natsconn.EmbeddedCreds(e.DataDir, "clock"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := watch(stderr, `"msg":"ready"`)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("clock.mjs output:\n%s", out)
		}
	})
	select {
	case <-out.seen:
		if !strings.Contains(out.String(), `"msg":"ready"`) {
			t.Fatalf("the Node processor stopped:\n%s", out)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the Node processor did not get ready:\n%s", out)
	}
	return out
}

// botReplies are Maria's messages in a thread.
func botReplies(e *demo.Env, thread string) []slacksim.Message {
	var out []slacksim.Message
	for _, m := range e.Slack.Messages(channel) {
		if m.ThreadTS == thread && m.BotID == slacksim.BotID {
			out = append(out, m)
		}
	}
	return out
}

// aiDone waits until the AI's consumer has nothing pending or in flight.
func aiDone(t *testing.T, e *demo.Env) {
	t.Helper()
	bustest.Eventually(t, 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c, err := e.Observer.JetStream().Consumer(ctx, schemas.StreamIn, "ai")
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	}, "the AI handled every message")
}

// TestNodeProcessorAnswersAndClaims: "!time" is answered by the Node
// processor in the thread, and only by it; "thanks" by the Go example;
// an ordinary question still by the AI.
func TestNodeProcessorAnswersAndClaims(t *testing.T) {
	e, err := demo.Start(context.Background(), demo.Options{DataDir: t.TempDir(), LogOutput: io.Discard,
		Services: []string{"ingress", "egress", "ai", "erp", "storage", "example"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	startClock(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	cases := []struct {
		text, want string
	}{
		{"!time please", "It is "},                              // the Node processor
		{"thanks!", "You're welcome, <@U0ALICE>! That makes 1"}, // the Go example
		{"What is the status of S00042?", "S00042"},             // nobody claims it: the AI
	}
	for _, c := range cases {
		turn, err := e.Mention(ctx, channel, "U0ALICE", c.text, "")
		if err != nil {
			t.Fatal(err)
		}
		bustest.Eventually(t, 30*time.Second, func() bool { return len(botReplies(e, turn.ThreadTS)) > 0 }, "a reply to %q", c.text)
		aiDone(t, e)
		replies := botReplies(e, turn.ThreadTS)
		if len(replies) != 1 || !strings.Contains(replies[0].Text, c.want) {
			var texts []string
			for _, r := range replies {
				texts = append(texts, r.Text)
			}
			t.Errorf("%q: replies %q, want exactly one containing %q", c.text, texts, c.want)
		}
	}
	for _, r := range e.OpenAI.Requests() {
		for _, m := range r.Messages {
			if s := string(m.Content); strings.Contains(s, "!time") || strings.Contains(s, "thanks!") {
				t.Errorf("the AI asked the model about a claimed message: %s", m.Content)
			}
		}
	}
}

package ops_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/processors/erp"
	"github.com/mariahq/maria/schemas"
)

// startDemo runs the demo environment (every service, the simulators) for
// one test.
func startDemo(t *testing.T) *demo.Env {
	t.Helper()
	e, err := demo.Start(ctxT(t), demo.Options{DataDir: t.TempDir(), SettleTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// askOrder asks the demo's ERP question and waits for the answer.
func askOrder(t *testing.T, e *demo.Env) *demo.Turn {
	t.Helper()
	q, err := e.Mention(ctxT(t), demo.ScriptChannel, demo.ScriptUser, demo.QuestionOrder, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Settle(ctxT(t), q.ID, demo.Answered); err != nil {
		t.Fatalf("%v\n%s", err, e.Slack.Transcript())
	}
	return q
}

// The operator views of a demo turn tell the truth: the trace lists the
// ERP query the AI made (request/reply, recorded by erp on the audit
// trail) between the question and the answer, and once the turn is over
// `maria streams` shows no consumer lagging.
func TestDemoTurnTraceListsERPQueryAndStreamsRest(t *testing.T) {
	e := startDemo(t)
	q := askOrder(t, e)
	ctx := ctxT(t)
	var hops []ops.Hop
	// The query's audit record is published asynchronously after its reply.
	bustest.Eventually(t, 10*time.Second, func() bool {
		var err error
		hops, err = ops.Trace(ctx, e.Observer.JetStream(), q.ID, time.Now().Add(-time.Hour), ops.TraceStreams())
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hops {
			if h.Subject == schemas.AuditSubject(erp.AuditQueryKind) {
				return true
			}
		}
		return false
	}, "the ERP query in the trace")
	var query, answer int
	for _, h := range hops {
		switch {
		case h.Subject == schemas.AuditSubject(erp.AuditQueryKind):
			query = h.N
			if h.Message.Source != "erp" || !strings.Contains(h.Message.Data, `"op":"search_read"`) || !strings.Contains(h.Message.Data, "sale.order") {
				t.Errorf("ERP query hop %+v", h.Message)
			}
		case h.Message.Type == schemas.TypeOutStreamStop && answer == 0:
			answer = h.N
		}
	}
	if query == 0 || hops[0].Message.Type != schemas.TypeSlackMention || (answer != 0 && query > answer) {
		t.Fatalf("hops: first %s, query #%d, answer #%d", hops[0].Message.Type, query, answer)
	}
	var out bytes.Buffer
	ops.PrintTrace(&out, hops, false)
	if !strings.Contains(out.String(), "erp query search_read sale.order") {
		t.Errorf("trace table:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())

	// At rest: every consumer has handled everything.
	bustest.Eventually(t, 10*time.Second, func() bool {
		st, err := ops.Streams(context.Background(), e.Observer.JetStream(), false)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			for _, c := range s.Consumers {
				if c.Lag != 0 {
					return false
				}
			}
		}
		return true
	}, "no lag at rest")
}

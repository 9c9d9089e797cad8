package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/cmd/maria/demo"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// One Slack mention is one trace: the ingress request's server span, the
// publish to maria.in, the AI's process span with its OpenAI and ERP query
// client spans, the ERP service's query span with its Odoo call, and
// egress' process span with its Slack chat.* call all share the trace id,
// each linked to the span that caused it. No span attribute carries a
// secret. Not parallel: the bus tracer provider is process-wide.
func TestOneMentionIsOneTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	telemetry.SetTracerProvider(tp)
	t.Cleanup(func() {
		telemetry.SetTracerProvider(nil)
		_ = tp.Shutdown(context.Background())
	})

	e := start(t, demo.Options{})
	ctx := context.Background()
	q := ok(e.Mention(ctx, channel, alice, demo.QuestionOrder, "")).get(t)
	settle(t, e, q, demo.Answered)

	// The ingress span of this mention is the trace's root.
	var root tracetest.SpanStub
	var spans tracetest.SpanStubs
	byID := map[trace.SpanID]tracetest.SpanStub{}
	// find returns the trace's spans named name, or starting with it when
	// name ends in "." ("slack chat." for any chat method).
	find := func(name string) []tracetest.SpanStub {
		var out []tracetest.SpanStub
		for _, s := range spans {
			if s.Name == name || strings.HasSuffix(name, ".") && strings.HasPrefix(s.Name, name) {
				out = append(out, s)
			}
		}
		return out
	}
	// The egress span ends after Slack answered, possibly after Settle saw
	// the delivery: poll until the chain is complete.
	want := []string{"slack events", "ai process", "openai chat.completions", "erp query", "erp serve query", "odoo ", "egress process", "slack chat."}
	var missing []string
	bustest.Eventually(t, 10*time.Second, func() bool {
		root, spans, missing = tracetest.SpanStub{}, nil, nil
		for _, s := range exp.GetSpans() {
			if s.Name == "slack events" && !s.Parent.IsValid() {
				for _, kv := range s.Attributes {
					if kv.Key == "maria.slack.event" && kv.Value.AsString() == "event_callback/app_mention" {
						root = s
					}
				}
			}
		}
		if root.Name == "" {
			missing = []string{"slack events"}
			return false
		}
		for _, s := range exp.GetSpans() {
			if s.SpanContext.TraceID() == root.SpanContext.TraceID() {
				spans = append(spans, s)
				byID[s.SpanContext.SpanID()] = s
			}
		}
		for _, n := range want {
			if n == "odoo " {
				if len(findPrefix(spans, "odoo ")) == 0 {
					missing = append(missing, n)
				}
				continue
			}
			if len(find(n)) == 0 {
				missing = append(missing, n)
			}
		}
		return len(missing) == 0
	}, "trace of the mention misses %v", &missing)

	defer func() {
		if t.Failed() {
			for _, s := range spans {
				t.Logf("span %s (%s) parent %s", s.Name, s.SpanContext.SpanID(), s.Parent.SpanID())
			}
		}
	}()
	// ancestor returns the nearest ancestor of s named name.
	ancestor := func(s tracetest.SpanStub, name string) (tracetest.SpanStub, bool) {
		for range 50 {
			p, ok := byID[s.Parent.SpanID()]
			if !ok {
				return tracetest.SpanStub{}, false
			}
			if p.Name == name || strings.HasSuffix(name, " ") && strings.HasPrefix(p.Name, name) {
				return p, true
			}
			s = p
		}
		return tracetest.SpanStub{}, false
	}
	directParent := func(s tracetest.SpanStub) string {
		if p, ok := byID[s.Parent.SpanID()]; ok {
			return p.Name
		}
		return fmt.Sprintf("<%s, not in the trace>", s.Parent.SpanID())
	}

	// ai process ← publish maria.in.mention ← slack events (the root).
	aiSpan := find("ai process")[0]
	if p := directParent(aiSpan); p != "publish maria.in.mention" {
		t.Errorf("ai process: parent %s, want publish maria.in.mention", p)
	}
	if _, ok := ancestor(aiSpan, "slack events"); !ok {
		t.Error("ai process does not descend from the ingress span")
	}
	for _, s := range find("openai chat.completions") {
		if s.SpanKind != trace.SpanKindClient || directParent(s) != "ai process" {
			t.Errorf("openai span: kind %v parent %s, want a client child of ai process", s.SpanKind, directParent(s))
		}
	}
	for _, s := range find("erp query") {
		if directParent(s) != "ai process" {
			t.Errorf("erp query: parent %s, want ai process", directParent(s))
		}
	}
	for _, s := range find("erp serve query") {
		if s.SpanKind != trace.SpanKindServer || directParent(s) != "erp query" {
			t.Errorf("erp serve query: kind %v parent %s, want a server child of erp query", s.SpanKind, directParent(s))
		}
	}
	for _, s := range findPrefix(spans, "odoo ") {
		if directParent(s) != "erp serve query" {
			t.Errorf("%s: parent %s, want erp serve query", s.Name, directParent(s))
		}
	}
	// egress process ← publish maria.out ← ai process.
	for _, s := range find("egress process") {
		if p := directParent(s); p != "publish maria.out" {
			t.Errorf("egress process: parent %s, want publish maria.out", p)
		}
		if _, ok := ancestor(s, "ai process"); !ok {
			t.Error("egress process does not descend from ai process")
		}
	}
	for _, s := range find("slack chat.") {
		if s.SpanKind != trace.SpanKindClient || directParent(s) != "egress process" {
			t.Errorf("%s: kind %v parent %s, want a client child of egress process", s.Name, s.SpanKind, directParent(s))
		}
	}

	// No secret in any span of the run (attributes, events, status).
	secrets := map[string]string{}
	for _, k := range []string{"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "OPENAI_API_KEY", "ODOO_PASSWORD"} {
		if v := e.Vars[k]; v != "" {
			secrets[k] = v
		}
	}
	if len(secrets) < 4 {
		t.Fatalf("the demo did not generate all secrets: %v", keys(secrets))
	}
	for _, s := range exp.GetSpans() {
		text := s.Name + " " + s.Status.Description
		for _, kv := range s.Attributes {
			text += " " + kv.Value.String()
		}
		for _, ev := range s.Events {
			for _, kv := range ev.Attributes {
				text += " " + kv.Value.String()
			}
		}
		for k, v := range secrets {
			if strings.Contains(text, v) {
				t.Errorf("span %s carries %s", s.Name, k)
			}
		}
		if strings.Contains(text, demo.QuestionOrder) {
			t.Errorf("span %s carries the message text", s.Name)
		}
	}
}

func findPrefix(spans tracetest.SpanStubs, prefix string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if strings.HasPrefix(s.Name, prefix) {
			out = append(out, s)
		}
	}
	return out
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

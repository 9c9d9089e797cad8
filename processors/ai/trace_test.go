package ai

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	openai "github.com/sashabaranov/go-openai"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Each OpenAI request (each attempt) is a client span with the model,
// streaming, token usage and outcome; neither the key nor the prompt is
// recorded.
func TestLLMRequestSpans(t *testing.T) {
	exp, tp := bustest.Tracing(t)
	tr := tp.Tracer("test")
	api := &scriptedAPI{resps: []func(http.ResponseWriter){
		apiError(429, "7", "requests", "rate_limit_exceeded"),
		sse(`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}`,
			`{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":12,"total_tokens":62}}`),
	}}
	l, _ := newTestLLM(t, api, 3)
	ctx, parent := tr.Start(context.Background(), "ai process")
	_, err := l.Stream(ctx, openai.ChatCompletionRequest{Model: "gpt-test", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "the secret plan"}}}, func(string) {})
	parent.End()
	if err != nil {
		t.Fatal(err)
	}
	spans := bustest.SpansNamed(exp.GetSpans(), "openai chat.completions")
	if len(spans) != 2 {
		t.Fatalf("%d openai spans, want one per attempt (2)", len(spans))
	}
	limited, ok := spans[0], spans[1]
	for _, s := range spans {
		if s.SpanKind != trace.SpanKindClient || s.Parent.SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("kind %v parent %s: want a client child of the caller", s.SpanKind, s.Parent.SpanID())
		}
		if bustest.Attr(s, "gen_ai.request.model").AsString() != "gpt-test" || !bustest.Attr(s, "maria.openai.streaming").AsBool() {
			t.Errorf("model/streaming attributes: %v", s.Attributes)
		}
	}
	if bustest.Attr(limited, "maria.outcome").AsString() != string(FailRateLimited) || bustest.Attr(limited, "http.response.status_code").AsInt64() != 429 ||
		bustest.Attr(limited, "maria.openai.retry_after_seconds").AsFloat64() != 7 || limited.Status.Code != codes.Error {
		t.Errorf("rate-limited attempt: %v status %v", limited.Attributes, limited.Status)
	}
	if bustest.Attr(ok, "maria.outcome").AsString() != "ok" || bustest.Attr(ok, "gen_ai.usage.input_tokens").AsInt64() != 50 ||
		bustest.Attr(ok, "gen_ai.usage.output_tokens").AsInt64() != 12 || ok.Status.Code == codes.Error {
		t.Errorf("successful attempt: %v status %v", ok.Attributes, ok.Status)
	}
	for _, s := range exp.GetSpans() {
		text := s.Status.Description
		for _, kv := range s.Attributes {
			text += " " + kv.Value.String()
		}
		for _, ev := range s.Events {
			for _, kv := range ev.Attributes {
				text += " " + kv.Value.String()
			}
		}
		if strings.Contains(text, "sk-test") || strings.Contains(text, "secret plan") {
			t.Errorf("span %s records the key or the prompt: %s", s.Name, text)
		}
	}
}

// An ERP query is a client span whose context the query service receives.
func TestERPQuerySpanParentsTheService(t *testing.T) {
	exp, tp := bustest.Tracing(t)
	tr := tp.Tracer("test")
	b := bustest.New(t)
	var served trace.SpanContext
	sub, err := b.Conn().Subscribe(schemas.SubjectERPQuery, func(m *nats.Msg) {
		served = trace.SpanContextFromContext(telemetry.RequestContext(context.Background(), m.Header))
		count := int64(3)
		body, _ := json.Marshal(schemas.ERPReply{Count: &count, Cached: true})
		_ = m.Respond(body)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })

	q := &NATSQuerier{NC: b.Conn(), Timeout: 2 * time.Second}
	ctx, parent := tr.Start(context.Background(), "ai process")
	if r, err := q.Query(ctx, schemas.ERPQuery{Method: "search_count", Model: "sale.order"}); err != nil || r.Error != "" {
		t.Fatalf("query: %+v %v", r, err)
	}
	_ = sub.Unsubscribe()
	if r, err := q.Query(ctx, schemas.ERPQuery{Method: "read", Model: "res.partner"}); err != nil || r.Kind != "unavailable" {
		t.Fatalf("query without service: %+v %v", r, err)
	}
	parent.End()

	spans := bustest.SpansNamed(exp.GetSpans(), "erp query")
	if len(spans) != 2 {
		t.Fatalf("%d erp query spans, want 2", len(spans))
	}
	okSpan, down := spans[0], spans[1]
	if okSpan.Parent.SpanID() != parent.SpanContext().SpanID() || okSpan.SpanKind != trace.SpanKindClient {
		t.Errorf("erp query span parent %s kind %v", okSpan.Parent.SpanID(), okSpan.SpanKind)
	}
	if served.SpanID() != okSpan.SpanContext.SpanID() || served.TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("the service received span %s/%s, want the query span %s", served.TraceID(), served.SpanID(), okSpan.SpanContext.SpanID())
	}
	if bustest.Attr(okSpan, "maria.erp.model").AsString() != "sale.order" || bustest.Attr(okSpan, "maria.erp.method").AsString() != "search_count" ||
		bustest.Attr(okSpan, "maria.erp.kind").AsString() != "ok" || !bustest.Attr(okSpan, "maria.erp.cached").AsBool() {
		t.Errorf("attributes %v", okSpan.Attributes)
	}
	if bustest.Attr(down, "maria.erp.kind").AsString() != "unavailable" || down.Status.Code != codes.Error {
		t.Errorf("unavailable query: %v status %v", down.Attributes, down.Status)
	}
}

package egress

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"

	"github.com/slack-go/slack"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Every Slack call is a client span under the caller's span, with the
// method, channel, outcome, Slack error code and Retry-After of a 429.
func TestSlackCallSpans(t *testing.T) {
	exp, tp := bustest.Tracing(t)

	ctx, parent := tp.Tracer("test").Start(context.Background(), "egress process")
	_ = call(ctx, "chat.postMessage", "C1", false, func(ctx context.Context) error {
		if !trace.SpanContextFromContext(ctx).IsValid() || trace.SpanContextFromContext(ctx).SpanID() == parent.SpanContext().SpanID() {
			t.Error("the call does not run under its own span")
		}
		return nil
	})
	_ = call(ctx, "chat.update", "C1", false, func(context.Context) error {
		return &slack.RateLimitedError{RetryAfter: 7 * time.Second}
	})
	_ = call(ctx, "reactions.add", "C1", false, func(context.Context) error {
		return slack.SlackErrorResponse{Err: "channel_not_found"}
	})
	_ = call(ctx, "files.upload", "C1", false, func(context.Context) error {
		return &url.Error{Op: "Post", URL: "https://files.example/upload/v1/SECRETCAPABILITY", Err: errors.New("connection refused")}
	})
	parent.End()

	byName := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		byName[s.Name] = s
	}
	for _, n := range []string{"slack chat.postMessage", "slack chat.update", "slack reactions.add", "slack files.upload"} {
		s, ok := byName[n]
		if !ok {
			t.Fatalf("no span %q", n)
		}
		if s.SpanKind != trace.SpanKindClient || s.Parent.SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("%s: kind %v parent %s, want a client child of the caller", n, s.SpanKind, s.Parent.SpanID())
		}
		if v, _ := bustest.SpanAttr(s, "maria.slack.channel"); v.AsString() != "C1" {
			t.Errorf("%s: channel %q", n, v.AsString())
		}
	}
	check := func(name, key, want string) {
		t.Helper()
		if v, _ := bustest.SpanAttr(byName[name], key); v.String() != want {
			t.Errorf("%s: %s = %q, want %q", name, key, v.String(), want)
		}
	}
	check("slack chat.postMessage", "maria.outcome", "ok")
	check("slack chat.postMessage", "rpc.method", "chat.postMessage")
	check("slack chat.update", "maria.outcome", "rate_limited")
	check("slack chat.update", "maria.slack.error", "rate_limited")
	check("slack chat.update", "maria.slack.retry_after_seconds", "7")
	check("slack reactions.add", "maria.outcome", "slack_error")
	check("slack reactions.add", "maria.slack.error", "channel_not_found")
	check("slack files.upload", "maria.outcome", "network_error")
	if s := byName["slack chat.postMessage"]; s.Status.Code == codes.Error {
		t.Error("successful call has error status")
	}
	up := byName["slack files.upload"]
	if up.Status.Code != codes.Error {
		t.Error("failed call has no error status")
	}
	for _, s := range exp.GetSpans() {
		text := s.Status.Description
		for _, ev := range s.Events {
			for _, kv := range ev.Attributes {
				text += " " + kv.Value.String()
			}
		}
		if strings.Contains(text, "SECRETCAPABILITY") {
			t.Errorf("span %s records the upload URL: %s", s.Name, text)
		}
	}
}

package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// noopSpan is what StartSpan returns while tracing is off.
var noopSpan = trace.SpanFromContext(context.Background())

// StartSpan starts a client span for an external call (Slack, OpenAI, Odoo,
// S3, DynamoDB), child of whatever span ctx carries — inside a processor's
// handler, of that message's "process" span. Name it "<system> <operation>"
// (e.g. "slack chat.postMessage", "odoo execute_kw"); attributes must not
// carry secrets or message text. End it with EndSpan. With tracing off it
// costs nothing and returns ctx unchanged.
func StartSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	t := Tracer()
	if t == nil {
		// Not the span in ctx: EndSpan must never end a caller's span.
		return ctx, noopSpan
	}
	return t.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// StartServerSpan starts a server span for a request Maria receives from
// outside the bus runtime: a Slack HTTP request or Socket Mode envelope at
// ingress, a request/reply query handled by a service (use RequestContext
// first, so the span is the child of the requester's). What is published or
// called with the returned context belongs to it. Attributes must not carry
// secrets or message text. End it with EndSpan; with tracing off it costs
// nothing and returns ctx unchanged.
func StartServerSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	t := Tracer()
	if t == nil {
		return ctx, noopSpan
	}
	return t.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
}

// EndSpan records err (if any) on span and ends it. Use it for spans from
// StartSpan: with tracing off it does nothing.
func EndSpan(span trace.Span, err error) {
	if !span.IsRecording() {
		return
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

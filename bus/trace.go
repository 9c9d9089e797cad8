package bus

import (
	"context"
	"strings"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// propagator carries W3C Trace Context (traceparent, tracestate) in NATS
// headers. It is fixed, not the OpenTelemetry global (a no-op until
// configured), so trace context crosses every hop even with tracing off.
var propagator propagation.TextMapPropagator = propagation.TraceContext{}

// noopSpan is what StartSpan returns while tracing is off.
var noopSpan = trace.SpanFromContext(context.Background())

// HeaderCarrier adapts NATS headers to OpenTelemetry propagators. NATS
// header names are case-sensitive; Get also accepts other spellings (a
// producer that canonicalised "traceparent" to "Traceparent").
type HeaderCarrier nats.Header

// Get returns the first value of key.
func (c HeaderCarrier) Get(key string) string {
	if v := nats.Header(c).Get(key); v != "" {
		return v
	}
	for k, vs := range c {
		if len(vs) > 0 && strings.EqualFold(k, key) {
			return vs[0]
		}
	}
	return ""
}

// Set replaces key's values.
func (c HeaderCarrier) Set(key, value string) { nats.Header(c).Set(key, value) }

// Keys lists the header names.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// TraceContext is the W3C trace context carried across hops.
type TraceContext struct {
	Traceparent string
	Tracestate  string
}

// WithTrace makes tc (e.g. a traceparent received over HTTP) the parent of
// the spans started from the returned context and of what is published with
// it. An invalid traceparent is ignored.
func WithTrace(ctx context.Context, tc TraceContext) context.Context {
	if tc.Traceparent == "" {
		return ctx
	}
	h := nats.Header{}
	h.Set(schemas.HeaderTraceparent, tc.Traceparent)
	if tc.Tracestate != "" {
		h.Set(schemas.HeaderTracestate, tc.Tracestate)
	}
	return propagator.Extract(ctx, HeaderCarrier(h))
}

// Trace returns the W3C trace context of the span active in ctx (local or
// received), e.g. to hand to a downstream HTTP call.
func Trace(ctx context.Context) (TraceContext, bool) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return TraceContext{}, false
	}
	h := nats.Header{}
	propagator.Inject(ctx, HeaderCarrier(h))
	tc := TraceContext{Traceparent: h.Get(schemas.HeaderTraceparent), Tracestate: h.Get(schemas.HeaderTracestate)}
	return tc, tc.Traceparent != ""
}

// TraceID returns the trace id active in ctx as 32 hex digits, or "".
func TraceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc.TraceID().String()
	}
	return ""
}

// InjectTrace writes ctx's trace context into NATS headers (W3C
// traceparent/tracestate). A variable so a program may swap the propagator.
var InjectTrace = func(ctx context.Context, h nats.Header) {
	propagator.Inject(ctx, HeaderCarrier(h))
}

// ExtractTrace reads the W3C trace context of a received message into ctx;
// spans started from it are children of the sender's span.
var ExtractTrace = func(ctx context.Context, h nats.Header) context.Context {
	return propagator.Extract(ctx, HeaderCarrier(h))
}

// StartSpan starts a client span for an external call (Slack, OpenAI, Odoo,
// S3, DynamoDB), child of whatever span ctx carries — inside a processor's
// handler, of that message's "process" span. Name it "<system> <operation>"
// (e.g. "slack chat.postMessage", "odoo execute_kw"); attributes must not
// carry secrets or message text. End it with EndSpan. With tracing off it
// costs nothing and returns ctx unchanged.
func StartSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	t := currentTracer()
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
	t := currentTracer()
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

// startPublishSpan starts the producer span of one publish.
func startPublishSpan(ctx context.Context, subject string, env *schemas.Envelope) (context.Context, trace.Span) {
	t := currentTracer()
	if t == nil {
		return ctx, nil
	}
	attrs := []attribute.KeyValue{
		attribute.String("messaging.system", "nats"),
		attribute.String("messaging.operation.type", "send"),
		attribute.String("messaging.destination.name", subject),
	}
	if env != nil {
		attrs = append(attrs, attribute.String("messaging.message.id", env.ID),
			attribute.String("maria.type", env.Type),
			attribute.String("maria.correlation_id", env.CorrelationID))
	}
	return t.Start(ctx, "publish "+subjectStage(subject), trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
}

// endPublishSpan ends a producer span; duplicate tells the stream dropped it.
func endPublishSpan(span trace.Span, duplicate bool, err error) {
	if span == nil {
		return
	}
	if duplicate {
		span.SetAttributes(attribute.Bool("maria.duplicate", true))
	}
	EndSpan(span, err)
}

// startProcessSpan starts the consumer span of one delivery to a processor,
// child of the publisher's span carried in the message headers.
func startProcessSpan(ctx context.Context, processor, subject string, delivery uint64) (context.Context, trace.Span) {
	t := currentTracer()
	if t == nil {
		return ctx, nil
	}
	return t.Start(ctx, processor+" process", trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(
		attribute.String("messaging.system", "nats"),
		attribute.String("messaging.operation.type", "process"),
		attribute.String("messaging.destination.name", subject),
		attribute.String("messaging.consumer.group.name", processor),
		attribute.Int64("messaging.nats.delivery_count", int64(delivery)),
	))
}

// annotateProcessSpan adds what is known once the envelope is decoded.
func annotateProcessSpan(span trace.Span, env *schemas.Envelope) {
	if span == nil {
		return
	}
	span.SetAttributes(attribute.String("messaging.message.id", env.ID),
		attribute.String("maria.type", env.Type),
		attribute.String("maria.correlation_id", env.CorrelationID))
}

// endProcessSpan ends a consumer span with the runtime's verdict
// (ack, nak, dead_letter).
func endProcessSpan(span trace.Span, outcome string, err error) {
	if span == nil {
		return
	}
	span.SetAttributes(attribute.String("maria.outcome", outcome))
	EndSpan(span, err)
}

type correlationKey struct{}

// WithCorrelation stores the conversation turn's correlation id in ctx, so
// request/reply calls made while handling a message (ERP queries, history)
// can carry it in their Maria-Correlation-Id header.
func WithCorrelation(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, correlationKey{}, id)
}

// Correlation returns the correlation id carried by ctx, if any.
func Correlation(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}

// RequestHeaders returns the headers a request made from ctx carries: the
// correlation id and the W3C trace context.
func RequestHeaders(ctx context.Context) nats.Header {
	h := nats.Header{}
	if id := Correlation(ctx); id != "" {
		h.Set(schemas.HeaderCorrelationID, id)
	}
	InjectTrace(ctx, h)
	return h
}

// RequestContext is the receiving side of RequestHeaders.
func RequestContext(ctx context.Context, h nats.Header) context.Context {
	return WithCorrelation(ExtractTrace(ctx, h), h.Get(schemas.HeaderCorrelationID))
}

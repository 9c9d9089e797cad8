package telemetry

import (
	"context"
	"strings"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// propagator carries W3C Trace Context (traceparent, tracestate) in NATS
// headers. It is fixed, not the OpenTelemetry global (a no-op until
// configured), so trace context crosses every hop even with tracing off.
var propagator propagation.TextMapPropagator = propagation.TraceContext{}

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

// Inject writes ctx's trace context into NATS headers (W3C
// traceparent/tracestate).
func Inject(ctx context.Context, h nats.Header) {
	propagator.Inject(ctx, HeaderCarrier(h))
}

// Extract reads the W3C trace context of a received message into ctx;
// spans started from it are children of the sender's span.
func Extract(ctx context.Context, h nats.Header) context.Context {
	return propagator.Extract(ctx, HeaderCarrier(h))
}

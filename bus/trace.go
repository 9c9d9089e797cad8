package bus

import (
	"context"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

type traceKey struct{}

// TraceContext is the W3C trace context carried across hops.
type TraceContext struct {
	Traceparent string
	Tracestate  string
}

// WithTrace stores a W3C trace context in ctx; Publish propagates it.
func WithTrace(ctx context.Context, tc TraceContext) context.Context {
	if tc.Traceparent == "" {
		return ctx
	}
	return context.WithValue(ctx, traceKey{}, tc)
}

// Trace returns the trace context carried by ctx.
func Trace(ctx context.Context) (TraceContext, bool) {
	tc, ok := ctx.Value(traceKey{}).(TraceContext)
	return tc, ok
}

// InjectTrace writes ctx's trace context into NATS headers. It is a variable
// so that the tracing integration can replace it with an OpenTelemetry
// propagator without touching publishers.
var InjectTrace = func(ctx context.Context, h nats.Header) {
	if tc, ok := Trace(ctx); ok {
		h.Set(schemas.HeaderTraceparent, tc.Traceparent)
		if tc.Tracestate != "" {
			h.Set(schemas.HeaderTracestate, tc.Tracestate)
		}
	}
}

// ExtractTrace reads the trace context of a received message into ctx.
var ExtractTrace = func(ctx context.Context, h nats.Header) context.Context {
	return WithTrace(ctx, TraceContext{Traceparent: h.Get(schemas.HeaderTraceparent), Tracestate: h.Get(schemas.HeaderTracestate)})
}

package bus

import (
	"context"

	"github.com/mariahq/maria/bus/telemetry"
	"go.opentelemetry.io/otel/trace"
)

// tracing continues the publisher's trace: the W3C context in the headers
// becomes the parent of what the handler starts and publishes. With a
// tracer it also records the consumer span, ended with the verdict; with
// tracing off no span is started at all.
func tracing(processor string) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Msg) error {
			ctx = telemetry.Extract(ctx, m.Header)
			if telemetry.Tracer() == nil {
				m.trace = trace.SpanContextFromContext(ctx)
				return next(ctx, m)
			}
			ctx, span := startProcessSpan(ctx, processor, m.Subject, m.Delivery)
			if m.Env != nil {
				annotateProcessSpan(span, m.Env)
			}
			m.trace = span.SpanContext()
			err := next(ctx, m)
			endProcessSpan(span, m.outcome, err)
			return err
		}
	}
}

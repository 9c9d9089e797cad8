package telemetry

import (
	"context"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

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
	Inject(ctx, h)
	return h
}

// RequestContext is the receiving side of RequestHeaders.
func RequestContext(ctx context.Context, h nats.Header) context.Context {
	return WithCorrelation(Extract(ctx, h), h.Get(schemas.HeaderCorrelationID))
}

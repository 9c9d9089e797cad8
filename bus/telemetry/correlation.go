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
	return withID(ctx, correlationKey{}, id)
}

// Correlation returns the correlation id carried by ctx, if any.
func Correlation(ctx context.Context) string { return idOf(ctx, correlationKey{}) }

type causeKey struct{}

// WithCause stores the id of the message being handled in ctx: a request
// made while handling it names it as its cause (Maria-Causation-Id), so
// what the responder records for the request (erp's audit of a query)
// chains back to the message, as a published child does.
func WithCause(ctx context.Context, id string) context.Context { return withID(ctx, causeKey{}, id) }

// Cause returns the id of the message being handled in ctx, if any.
func Cause(ctx context.Context) string { return idOf(ctx, causeKey{}) }

// withID stores a non-empty id under key.
func withID(ctx context.Context, key any, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, key, id)
}

func idOf(ctx context.Context, key any) string {
	id, _ := ctx.Value(key).(string)
	return id
}

// RequestHeaders returns the headers a request made from ctx carries: the
// correlation id, the causing message's id and the W3C trace context.
func RequestHeaders(ctx context.Context) nats.Header {
	h := nats.Header{}
	if id := Correlation(ctx); id != "" {
		h.Set(schemas.HeaderCorrelationID, id)
	}
	if id := Cause(ctx); id != "" {
		h.Set(schemas.HeaderCausationID, id)
	}
	Inject(ctx, h)
	return h
}

// RequestContext is the receiving side of RequestHeaders.
func RequestContext(ctx context.Context, h nats.Header) context.Context {
	return WithCorrelation(Extract(ctx, h), h.Get(schemas.HeaderCorrelationID))
}

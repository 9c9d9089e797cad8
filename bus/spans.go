package bus

import (
	"context"

	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// The spans of the runtime itself: one producer span per publish, one
// consumer span per delivery to a processor.

// startPublishSpan starts the producer span of one publish.
func startPublishSpan(ctx context.Context, subject string, env *schemas.Envelope) (context.Context, trace.Span) {
	t := telemetry.Tracer()
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
	telemetry.EndSpan(span, err)
}

// startProcessSpan starts the consumer span of one delivery to a processor,
// child of the publisher's span carried in the message headers.
func startProcessSpan(ctx context.Context, processor, subject string, delivery uint64) (context.Context, trace.Span) {
	t := telemetry.Tracer()
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
	telemetry.EndSpan(span, err)
}

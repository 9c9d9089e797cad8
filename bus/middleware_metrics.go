package bus

import (
	"context"
	"time"
)

// metrics counts what the processor does: messages in flight, handler
// latency (the whole stack below, dead-lettering included), verdicts by
// subject stage, redeliveries and dead letters by cause.
func metrics(stream, processor string) Middleware {
	inFlight := metricInFlight.WithLabelValues(processor)
	latency := metricHandlerSeconds.WithLabelValues(processor)
	redelivered := metricRedelivered.WithLabelValues(processor)
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Msg) error {
			if m.Delivery > 1 {
				redelivered.Inc()
			}
			inFlight.Inc()
			start := time.Now()
			err := next(ctx, m)
			latency.Observe(time.Since(start).Seconds())
			inFlight.Dec()
			if m.outcome != "" {
				metricHandled.WithLabelValues(processor, subjectStage(m.Subject), m.outcome).Inc()
			}
			if m.outcome == outcomeDeadLetter {
				metricDeadLetters.WithLabelValues(stream, processor, deadLetterCause(err)).Inc()
			}
			return err
		}
	}
}

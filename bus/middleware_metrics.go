package bus

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts what the processor does: messages in flight, handler
// latency (the whole stack below, dead-lettering included), verdicts by
// subject stage, redeliveries and dead letters by cause.
func metrics(stream, processor string) Middleware {
	inFlight := metricInFlight.WithLabelValues(processor)
	latency := metricHandlerSeconds.WithLabelValues(processor)
	redelivered := metricRedelivered.WithLabelValues(processor)
	handled := &handledCounters{processor: processor, bound: map[handledKey]prometheus.Counter{}}
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
				handled.counter(subjectStage(m.Subject), m.outcome).Inc()
			}
			if m.outcome == outcomeDeadLetter {
				metricDeadLetters.WithLabelValues(stream, processor, deadLetterCause(err)).Inc()
			}
			return err
		}
	}
}

// handledCounters binds a processor's verdict counters once per (stage,
// outcome): WithLabelValues hashes its three labels on every call, which
// was a visible share of the hop's CPU; a processor sees a handful of
// stages, so the map stays tiny.
type handledCounters struct {
	processor string
	mu        sync.RWMutex
	bound     map[handledKey]prometheus.Counter
}

type handledKey struct{ stage, outcome string }

func (h *handledCounters) counter(stage, outcome string) prometheus.Counter {
	k := handledKey{stage, outcome}
	h.mu.RLock()
	c, ok := h.bound[k]
	h.mu.RUnlock()
	if ok {
		return c
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.bound[k]; ok {
		return c
	}
	// The stage is a slice of a message's subject: keep a copy, not the message.
	k.stage = string([]byte(stage))
	c = metricHandled.WithLabelValues(h.processor, k.stage, outcome)
	h.bound[k] = c
	return c
}

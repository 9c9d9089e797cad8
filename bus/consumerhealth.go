package bus

import (
	"context"
	"fmt"
	"github.com/mariahq/maria/bus/health"
	"sort"
	"sync"
)

// consumerHealth is what Run knows about the consumers it drives on one
// bus: nil for a consumer being consumed, the reason for one that is lost.
// Run keeps it; /readyz reads it through Bus.ConsumerChecks.
type consumerHealth struct {
	mu        sync.Mutex
	consumers map[string]error // "stream/durable" → nil when healthy
}

// healthByBus holds the consumer health of every bus with a running
// processor. It is keyed by the bus rather than kept inside it so a
// processor needs nothing but Run(ctx, b, p); entries go when the last
// processor of a bus stops cleanly.
var healthByBus = struct {
	sync.Mutex
	m map[*Bus]*consumerHealth
}{m: map[*Bus]*consumerHealth{}}

func (b *Bus) consumerHealth() *consumerHealth {
	healthByBus.Lock()
	defer healthByBus.Unlock()
	h := healthByBus.m[b]
	if h == nil {
		h = &consumerHealth{consumers: map[string]error{}}
		healthByBus.m[b] = h
	}
	return h
}

func consumerID(stream, durable string) string { return stream + "/" + durable }

// set records a consumer as healthy (err nil) or lost (why).
func (b *Bus) setConsumerHealth(stream, durable string, err error) {
	h := b.consumerHealth()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.consumers[consumerID(stream, durable)] = err
}

// dropConsumerHealth forgets a consumer whose processor stopped cleanly.
// A processor that stopped on an error stays listed, red: its process is
// on its way down and must not look ready meanwhile.
func (b *Bus) dropConsumerHealth(stream, durable string) {
	healthByBus.Lock()
	defer healthByBus.Unlock()
	h := healthByBus.m[b]
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.consumers, consumerID(stream, durable))
	if len(h.consumers) == 0 {
		delete(healthByBus.m, b)
	}
}

// ConsumerChecks returns one readiness check per consumer a processor runs
// on this bus, named "consumer <stream>/<durable>": it fails while the
// consumer is lost (deleted, its stream gone, its pull failing) and being
// re-created, and after Run gave up on it. health.Server.AddCheckSource takes it.
func (b *Bus) ConsumerChecks() map[string]health.Check {
	healthByBus.Lock()
	h := healthByBus.m[b]
	healthByBus.Unlock()
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]string, 0, len(h.consumers))
	for id := range h.consumers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make(map[string]health.Check, len(ids))
	for _, id := range ids {
		err := h.consumers[id]
		out["consumer "+id] = func(context.Context) error {
			if err != nil {
				return fmt.Errorf("lost: %w", err)
			}
			return nil
		}
	}
	return out
}

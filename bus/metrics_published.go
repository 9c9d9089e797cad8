package bus

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// publishedCounters are maria_bus_published_total's children of one
// subject stage, bound once: WithLabelValues hashes its labels on every
// call, and every publish counts one outcome.
type publishedCounters struct {
	ok, duplicate, failed prometheus.Counter
}

var publishedByStage = struct {
	sync.RWMutex
	m map[string]*publishedCounters
}{m: map[string]*publishedCounters{}}

// publishedCountersFor returns stage's counters; a process publishes to a
// handful of stages, so the map stays tiny.
func publishedCountersFor(stage string) *publishedCounters {
	publishedByStage.RLock()
	c, ok := publishedByStage.m[stage]
	publishedByStage.RUnlock()
	if ok {
		return c
	}
	publishedByStage.Lock()
	defer publishedByStage.Unlock()
	if c, ok := publishedByStage.m[stage]; ok {
		return c
	}
	// The stage is a slice of a message's subject: keep a copy, not the message.
	stage = string([]byte(stage))
	c = &publishedCounters{
		ok:        metricPublished.WithLabelValues(stage, "ok"),
		duplicate: metricPublished.WithLabelValues(stage, "duplicate"),
		failed:    metricPublished.WithLabelValues(stage, "error"),
	}
	publishedByStage.m[stage] = c
	return c
}

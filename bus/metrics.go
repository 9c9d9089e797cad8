package bus

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics of the shared runtime. Labels stay low-cardinality: processor
// names and subject stages (maria.in.mention), never team or channel ids.
var (
	metricPublished = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_bus_published_total",
		Help: "Messages published to JetStream by subject stage and outcome (ok, duplicate, error).",
	}, []string{"stage", "outcome"})
	metricHandled = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_processor_messages_total",
		Help: "Messages handled by processor, subject stage and outcome (ack, nak, term, dead_letter).",
	}, []string{"processor", "stage", "outcome"})
	metricRedelivered = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_processor_redelivered_total",
		Help: "Messages received with a delivery count above one.",
	}, []string{"processor"})
	metricHandlerSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "maria_processor_handler_seconds",
		Help:    "Handler latency by processor.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 14),
	}, []string{"processor"})
	metricDeadLetters = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_dead_letters_total",
		Help: "Messages dead-lettered by stream, consumer and cause (permanent, max_deliver, invalid, advisory).",
	}, []string{"stream", "consumer", "cause"})
	metricInFlight = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "maria_processor_in_flight",
		Help: "Messages being handled right now.",
	}, []string{"processor"})
	metricConsumerPending = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "maria_consumer_pending",
		Help: "Messages in the stream not yet delivered to the consumer (lag).",
	}, []string{"stream", "consumer"})
	metricConsumerAckPending = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "maria_consumer_ack_pending",
		Help: "Messages delivered to the consumer and not yet acknowledged.",
	}, []string{"stream", "consumer"})
)

// subjectStage is the low-cardinality part of a subject used as a metric
// label and span name: never a team, channel or record id.
//
//	maria.in.mention.T1.C1     → maria.in.mention
//	maria.out.T1.C1            → maria.out
//	maria.delivered.T1.C1      → maria.delivered
//	maria.stored.file.T1.C1    → maria.stored.file
//	maria.erp.command.sale.order → maria.erp.command
//	maria.dlq.MARIA_IN.ai      → maria.dlq.MARIA_IN
//	maria.audit.confirm        → maria.audit.confirm
//
// Other subjects keep their first two tokens.
func subjectStage(s string) string {
	// Slices of s, not strings.SplitN: this runs for every message
	// handled and published, and must not allocate.
	first := strings.IndexByte(s, '.')
	if first < 0 {
		return s
	}
	second := indexByteFrom(s, '.', first+1)
	if second < 0 {
		return s // two tokens: the whole subject
	}
	third := indexByteFrom(s, '.', second+1)
	end := third
	if end < 0 {
		end = len(s)
	}
	if s[:first] != "maria" {
		return s[:second]
	}
	switch s[first+1 : second] {
	case "out", "delivered":
		return s[:second]
	}
	return s[:end]
}

// indexByteFrom is the index of c in s at or after from, or -1.
func indexByteFrom(s string, c byte, from int) int {
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return -1
}

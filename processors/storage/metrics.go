package storage

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Labels stay low-cardinality: backend names, configured bucket names,
// fixed outcome and op names — never team, channel or file ids.
var (
	metricFiles = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_storage_files_total",
		Help: "Slack files handled by backend, bucket and outcome (stored, duplicate, refused, failed).",
	}, []string{"backend", "bucket", "outcome"})
	metricBytes = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_storage_bytes_total",
		Help: "Bytes of file content written to object storage.",
	}, []string{"backend", "bucket"})
	metricOpSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "maria_storage_op_seconds",
		Help:    "Latency of storage operations (download, put_object, stat_object, get_file, create_file, get_content, create_content, claim, put_entry, history_query).",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 14),
	}, []string{"backend", "op"})
	metricHistory = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_storage_history_entries_total",
		Help: "Thread history entries recorded by role (user, assistant) and op (set, append, delete), or skipped.",
	}, []string{"role", "op"})
	metricHistoryQueries = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_storage_history_queries_total",
		Help: "History queries answered by outcome (ok, bad_request, error).",
	}, []string{"outcome"})
)

// timed observes the duration of one storage operation.
func timed(backend, op string) func() {
	start := time.Now()
	return func() { metricOpSeconds.WithLabelValues(backend, op).Observe(time.Since(start).Seconds()) }
}

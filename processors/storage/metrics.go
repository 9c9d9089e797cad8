package storage

import (
	"context"
	"errors"
	"time"

	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/processors/storage/store"
	"go.opentelemetry.io/otel/attribute"

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

// timed observes one storage operation: its latency, and a client span
// "<system> <op>" (system s3 or dynamodb for the aws backend, nats.objectstore
// or nats.kv for nats) with the backend, op and attrs. Run the operation
// with the returned context and pass its error to done. "Not found" and
// "claimed by another delivery" are answers, not failures.
func timed(ctx context.Context, backend, op string, attrs ...attribute.KeyValue) (context.Context, func(error)) {
	start := time.Now()
	system := storageSystem(backend, op)
	ctx, span := telemetry.StartSpan(ctx, system+" "+op, append(attrs,
		attribute.String("db.system.name", system),
		attribute.String("db.operation.name", op),
		attribute.String("maria.storage.backend", backend))...)
	return ctx, func(err error) {
		metricOpSeconds.WithLabelValues(backend, op).Observe(time.Since(start).Seconds())
		if !span.IsRecording() {
			return
		}
		outcome := "ok"
		switch {
		case errors.Is(err, store.ErrNotFound):
			outcome, err = "not_found", nil
		case errors.Is(err, store.ErrInFlight):
			outcome, err = "in_flight", nil
		case err != nil:
			outcome = "error"
		}
		span.SetAttributes(attribute.String("maria.outcome", outcome))
		telemetry.EndSpan(span, err)
	}
}

// observe records the latency of an operation that traces itself.
func observe(backend, op string) func() {
	start := time.Now()
	return func() { metricOpSeconds.WithLabelValues(backend, op).Observe(time.Since(start).Seconds()) }
}

// storageSystem names the service an operation talks to.
func storageSystem(backend, op string) string {
	blob := op == "put_object" || op == "stat_object" || op == "get_object"
	switch {
	case backend == store.BackendAWS && blob:
		return "s3"
	case backend == store.BackendAWS:
		return "dynamodb"
	case backend == store.BackendNATS && blob:
		return "nats.objectstore"
	case backend == store.BackendNATS:
		return "nats.kv"
	}
	return backend
}

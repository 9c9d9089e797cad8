package erp

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	metricOdooCalls = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_erp_odoo_calls_total",
		Help: "Odoo calls by method and outcome (ok, unavailable, access_denied, access, validation, server, protocol, breaker_open, cancelled).",
	}, []string{"method", "outcome"})
	metricOdooSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "maria_erp_odoo_seconds",
		Help:    "Odoo call latency by method.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
	}, []string{"method"})
	metricCache = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_erp_cache_total",
		Help: "ERP read cache lookups by result (hit, miss).",
	}, []string{"result"})
	metricBreakerState = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "maria_erp_breaker_state",
		Help: "Odoo circuit breaker: 0 closed, 1 half-open, 2 open.",
	})
	metricBreakerTransitions = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_erp_breaker_transitions_total",
		Help: "Circuit breaker state changes by new state.",
	}, []string{"state"})
	metricQueries = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_erp_queries_total",
		Help: "ERP queries served by method and outcome (ok, refused, access, validation, unavailable, internal).",
	}, []string{"method", "outcome"})
	metricCommands = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_erp_commands_total",
		Help: "ERP write commands by op and outcome (ok, refused, rejected, access, validation, internal, duplicate, reconciled).",
	}, []string{"op", "outcome"})
)

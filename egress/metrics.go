package egress

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics. Labels are low-cardinality: Slack method names, command types,
// fixed outcomes — never channel ids.
var (
	metricSlackCalls = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_egress_slack_calls_total",
		Help: "Slack Web API calls by method and outcome (ok, rate_limited, slack_error, server_error, network_error, dry_run).",
	}, []string{"method", "outcome"})
	metricSlackSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "maria_egress_slack_seconds",
		Help:    "Slack Web API call latency by method.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	}, []string{"method"})
	metricRateLimited = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_egress_rate_limited_total",
		Help: "Slack 429 answers by method; the channel's work is delayed by Retry-After.",
	}, []string{"method"})
	metricCommands = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_egress_commands_total",
		Help: "Commands by type and outcome (delivered, duplicate, reconciled, retry, gated, failed).",
	}, []string{"type", "outcome"})
	metricStreamFallback = promauto.NewCounter(prometheus.CounterOpts{
		Name: "maria_egress_stream_fallback_total",
		Help: "Streams started as post-then-update because chat.startStream was unavailable.",
	})
	metricReconciled = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_egress_reconciliations_total",
		Help: "Reconciliations of uncertain deliveries against Slack history by outcome (found, not_found, error).",
	}, []string{"outcome"})
)

package ingress

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Endpoint label values.
const (
	EndpointEvents       = "events"
	EndpointCommands     = "commands"
	EndpointInteractions = "interactions"
	EndpointSocket       = "socket"
)

// Outcome label values of maria_ingress_requests_total.
const (
	OutcomeOK           = "ok"           // published (or a duplicate of something stored)
	OutcomeChallenge    = "challenge"    // url_verification answered
	OutcomeIgnored      = "ignored"      // acknowledged, nothing to publish (own message, unsupported)
	OutcomeRateLimited  = "rate_limited" // acknowledged, dead-lettered
	OutcomeBadSignature = "bad_signature"
	OutcomeStale        = "stale_timestamp"
	OutcomeTooLarge     = "too_large"
	OutcomeBadRequest   = "bad_request" // malformed payload
	OutcomeBadMedia     = "unsupported_media_type"
	OutcomeUnavailable  = "unavailable" // the bus did not store it: 503 / no ack
)

var (
	metricRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ingress_requests_total",
		Help: "Slack deliveries by endpoint (events, commands, interactions, socket) and outcome.",
	}, []string{"endpoint", "outcome"})
	metricEvents = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ingress_events_total",
		Help: "Normalized events by kind and outcome (published, duplicate, rate_limited).",
	}, []string{"kind", "outcome"})
	metricIgnored = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ingress_ignored_total",
		Help: "Deliveries acknowledged without publishing, by reason (own_message, unsupported_event, unsupported_interaction, app_rate_limited).",
	}, []string{"reason"})
	metricRateLimited = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ingress_rate_limited_total",
		Help: "Deliveries refused by the door's rate limits, by scope (user, team); they are dead-lettered.",
	}, []string{"scope"})
	metricSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "maria_ingress_request_seconds",
		Help:    "Time from receiving a Slack delivery to answering it (after the PubAck), by endpoint.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
	}, []string{"endpoint"})
	metricSocket = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ingress_socket_connections_total",
		Help: "Socket Mode connection events (connecting, connected, connection_error, disconnect, invalid_auth).",
	}, []string{"event"})
)

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
	OutcomeRefused      = "refused"     // team, enterprise or app not allowed: 403 / acked, nothing published
	OutcomeOverloaded   = "overloaded"  // too many unverified bodies in flight: 503, body not read
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
		Help: "Deliveries acknowledged without publishing, by reason (own_message, unsupported_event, unsupported_interaction, app_rate_limited, file_in_message).",
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
	metricRefused = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ingress_refused_total",
		Help: "Deliveries refused by the allow-lists (MARIA_ALLOWED_TEAMS, _ENTERPRISES, _APP_IDS), by reason (team, enterprise, app); nothing of them is published.",
	}, []string{"reason"})
	metricOverloaded = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ingress_overloaded_total",
		Help: "Requests answered 503 before their body was read, by the limit hit (bodies: MARIA_INGRESS_MAX_INFLIGHT_BODIES, bytes: MARIA_INGRESS_MAX_BUFFERED_BYTES).",
	}, []string{"limit"})
	metricUserLookups = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ingress_user_lookups_total",
		Help: "users.info lookups for user classification, by outcome (ok, error, cached, disabled: no SLACK_BOT_TOKEN).",
	}, []string{"outcome"})
	metricUserKinds = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ingress_user_kinds_total",
		Help: "Deliveries by how their user was classified (member, guest, external, bot, unknown).",
	}, []string{"kind"})
	metricSocket = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ingress_socket_connections_total",
		Help: "Socket Mode connection events (connecting, connected, connection_error, disconnect, invalid_auth).",
	}, []string{"event"})
)

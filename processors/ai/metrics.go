package ai

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics of the AI processor; labels are low-cardinality (no team, user or
// channel ids).
var (
	metricEvents = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ai_events_total",
		Help: "Inbound events seen by the AI processor by type and outcome (answered, ignored_*, proposal_*, ...).",
	}, []string{"type", "outcome"})
	metricTokens = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ai_tokens_total",
		Help: "Tokens used as reported by the API, by model and kind (prompt, completion).",
	}, []string{"model", "kind"})
	metricRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ai_requests_total",
		Help: "Chat completion attempts by outcome (ok, rate_limited, server_error, timeout, quota, auth, context_length, bad_request, network).",
	}, []string{"outcome"})
	metricRequestSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "maria_ai_request_seconds",
		Help:    "Duration of one chat completion attempt (streamed to the end).",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
	}, []string{"outcome"})
	metricRetries = promauto.NewCounter(prometheus.CounterOpts{
		Name: "maria_ai_retries_total",
		Help: "Chat completion attempts retried after a rate limit, 5xx, timeout or network error.",
	})
	metricToolCalls = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ai_tool_calls_total",
		Help: "Tool calls by tool and outcome (ok, cached, error, proposal, invalid, refused).",
	}, []string{"tool", "outcome"})
	metricBudgetRefusals = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ai_budget_refusals_total",
		Help: "Questions refused because a daily token budget was spent, by scope (user, team).",
	}, []string{"scope"})
	metricERPRefusals = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ai_erp_refusals_total",
		Help: "ERP access refused, by access (read: a turn without ERP access or a read tool call; write: a change proposal) and reason (guest, external, bot, unknown, channel).",
	}, []string{"access", "reason"})
	metricFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ai_failed_answers_total",
		Help: "Turns answered with an apology because the AI service failed, by reason.",
	}, []string{"reason"})
	metricDependencyWaits = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ai_dependency_waits_total",
		Help: "Waits before retrying a dependency that failed transiently (model: 429, 5xx, timeout, network; erp: unavailable), by dependency.",
	}, []string{"dependency"})
	metricDependencyGaveUp = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "maria_ai_dependency_gave_up_total",
		Help: "Transient failures answered as such because the turn's patience (MARIA_AI_DEPENDENCY_PATIENCE) was spent, by dependency.",
	}, []string{"dependency"})
	metricFinishRetries = promauto.NewCounter(prometheus.CounterOpts{
		Name: "maria_ai_turn_record_retries_total",
		Help: "Retries of recording a finished turn (the turn-record KV write failed).",
	})
	metricMemoryTrims = promauto.NewCounter(prometheus.CounterOpts{
		Name: "maria_ai_memory_trimmed_turns_total",
		Help: "Memory entries folded into a thread's running summary to stay within the token budget.",
	})
)

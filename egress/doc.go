// Package egress delivers Maria's commands to Slack: it consumes
// maria.out.> (stream MARIA_OUT, durable "egress") and posts, updates,
// streams, sets assistant status / prompts / title, reacts, uploads files,
// posts ephemeral messages and answers response_urls — in order per thread,
// within Slack's rate limits, exactly once — and records every delivery on
// maria.delivered.<team>.<channel>.
//
// Ordering: the processor's Key is (team, channel, thread), so one worker
// handles a thread's commands in delivery order; a per-thread gate keeps a
// later command from overtaking an earlier one that is waiting for a retry
// (rate limit, 5xx, unresolved ref). A 429 closes a per-channel gate until
// Retry-After; nothing sleeps in a worker.
//
// Exactly once: every effect is claimed in an idempotency record keyed by
// the command id before the Slack call and finished (with the Slack ts)
// after it. Posts carry Slack message metadata naming the command id, so a
// claim left by a crashed replica is reconciled against the channel history
// before anything is posted again.
package egress

package chaos

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mariahq/maria/tests/sim/openaisim"
)

// slackWrites are the Web API calls that change what a thread shows.
var slackWrites = []string{"chat.postMessage", "chat.update", "chat.startStream", "chat.appendStream", "chat.stopStream"}

// killService kills name with SIGKILL at each fraction of the window and
// starts it again at once (a supervisor's restart).
func killService(name string, at ...float64) []event {
	var out []event
	for _, a := range at {
		out = append(out, event{at: a, what: "kill -9 " + name, do: func(ctx context.Context, e *env) error {
			return e.restartService(ctx, name)
		}})
	}
	return out
}

// restartNATS stops the single node with sig and starts it again on the
// same store.
func restartNATS(sig syscall.Signal) event {
	return event{at: 0.4, what: fmt.Sprintf("nats-server %s", sig), do: func(ctx context.Context, e *env) error {
		n := e.nats.nodes[0]
		if err := n.proc.signal(sig, 30*time.Second); err != nil {
			return err
		}
		if sig == syscall.SIGKILL {
			if err := sleepCtx(ctx, time.Second); err != nil {
				return err
			}
		}
		return e.nats.restart(ctx, n)
	}}
}

// killLeader kills the cluster node leading stream, and restarts it after
// down (the raft groups elect other leaders meanwhile). A stream still
// electing a leader (an earlier kill took it down too) is waited for. How
// long every raft group the node led — streams, KV buckets, consumers —
// had no leader is measured: nats-server's raft elects 4–9 s after the
// last heartbeat of a dead leader (compiled in, not configurable), so the
// row can tell the servers' part of a stall from the clients'.
func killLeader(at float64, stream string, down time.Duration) event {
	return event{at: at, what: "kill -9 leader of " + stream, do: func(ctx context.Context, e *env) error {
		leader, err := e.waitLeader(ctx, stream, 30*time.Second)
		if err != nil {
			return err
		}
		groups, err := e.ledBy(ctx, leader)
		if err != nil {
			return fmt.Errorf("groups led by %s: %w", leader, err)
		}
		n := e.nats.node(leader)
		killed := time.Now()
		if err := n.proc.kill9(); err != nil {
			return err
		}
		var restarted atomic.Bool
		measured := make(chan struct{})
		go func() {
			defer close(measured)
			// A measurement, not the fault: what it cannot tell is said,
			// and the scenario goes on.
			took, err := e.waitReelected(ctx, groups, leader, restarted.Load, killed, 60*time.Second)
			var longest time.Duration
			for _, d := range took {
				longest = max(longest, d)
			}
			e.faults.add(stream+"'s node: raft groups leaderless", killed, killed.Add(longest))
			fact := fmt.Sprintf("killing %s's leader left %d raft groups without a leader: %s; %s after %s",
				stream, len(groups), elections(took), stream, round(took[group{stream: stream}]))
			if err != nil {
				fact += " (" + err.Error() + ")"
			}
			e.observe(fact)
		}()
		if err := sleepCtx(ctx, down); err != nil {
			return err
		}
		if err := e.nats.restart(ctx, n); err != nil {
			return err
		}
		restarted.Store(true)
		<-measured
		return nil
	}}
}

// elections summarises how long raft groups took to elect a new leader.
func elections(took map[group]time.Duration) string {
	if len(took) == 0 {
		return "none re-elected"
	}
	var ds []time.Duration
	for _, d := range took {
		ds = append(ds, d)
	}
	sortDurations(ds)
	return fmt.Sprintf("new leaders after %s (first) to %s (last), median %s", round(ds[0]), round(ds[len(ds)-1]), round(percentile(ds, 0.5)))
}

// slackFails makes every nth write call fail with a 500, before or after
// Slack acted.
func slackFails(n int, afterActing bool) func(e *env) {
	return func(e *env) {
		for _, m := range slackWrites {
			e.sims.slack.FailEvery(m, n, 500, afterActing)
		}
	}
}

// slackRateLimits answers the next calls of one channel (in turn) with
// 429 and Retry-After: 1, every 2 s of the window.
func slackRateLimits() event {
	k := 0
	return event{at: 0, every: 2 * time.Second, what: "Slack 429", do: func(_ context.Context, e *env) error {
		e.sims.slack.RateLimit(channels[k%len(channels)], 3, time.Second)
		k++
		return nil
	}}
}

// outage runs down at a fraction of the window and up d later.
func outage(at float64, what string, d time.Duration, down func(e *env), up func(e *env) error) event {
	return event{at: at, what: what, do: func(ctx context.Context, e *env) error {
		down(e)
		if err := sleepCtx(ctx, d); err != nil {
			return err
		}
		return up(e)
	}}
}

func openAIFaults(f openAIFault) func(e *env) { return func(e *env) { e.sims.openai.setFault(f) } }

// shortScenarios run inside `make test`: what today's code survives.
func shortScenarios() []scenario {
	return []scenario{
		{name: "baseline (single node)"},
		{name: "kill -9 ai ×1", events: killService("ai", 0.4)},
		{name: "Slack 429 (native streams)", events: []event{slackRateLimits()}},
	}
}

// fullScenarios are `make chaos`: every fault of issue 16.
func fullScenarios() []scenario {
	kills := func(name string) scenario {
		return scenario{name: "kill -9 " + name + " ×3", events: killService(name, 0.2, 0.45, 0.7)}
	}
	var slack []scenario
	for _, fallback := range []bool{false, true} {
		mode := "native streams"
		if fallback {
			mode = "post-then-update"
		}
		slack = append(slack,
			scenario{name: "Slack 429 (" + mode + ")", fallback: fallback, events: []event{slackRateLimits()}},
			scenario{name: "Slack 500 before acting, 10% (" + mode + ")", fallback: fallback, setup: slackFails(10, false)},
			scenario{name: "Slack 500 after acting, 10% (" + mode + ")", fallback: fallback, setup: slackFails(10, true)})
	}
	out := []scenario{
		{name: "baseline (single node)"},
		kills("ingress"), kills("ai"), kills("erp"), kills("storage"), kills("egress"),
		{name: "nats-server SIGTERM + restart", events: []event{restartNATS(syscall.SIGTERM)}},
		{name: "nats-server kill -9 + restart", events: []event{restartNATS(syscall.SIGKILL)}},
		{name: "baseline (3-node cluster, R3)", cluster: true},
		{name: "cluster: kill -9 stream leaders", cluster: true,
			events: []event{killLeader(0.25, "MARIA_IN", 5*time.Second), killLeader(0.6, "MARIA_OUT", 5*time.Second)}},
	}
	out = append(out, slack...)
	return append(out,
		scenario{name: "OpenAI 429, 20%", setup: openAIFaults(everyNth(5, openaisim.RateLimited("1")))},
		scenario{name: "OpenAI 500, 20%", setup: openAIFaults(everyNth(5, openaisim.ServerError(500)))},
		scenario{name: "OpenAI slow (1 s per call)", setup: openAIFaults(slowAll(time.Second))},
		scenario{name: "OpenAI down 10 s", events: []event{outage(0.3, "OpenAI down", 10*time.Second,
			func(e *env) { e.sims.openai.down() }, func(e *env) error { return e.sims.openai.up() })}},
		scenario{name: "Odoo down 10 s", events: []event{outage(0.3, "Odoo down", 10*time.Second,
			func(e *env) { e.sims.odoo.Down(true) }, func(e *env) error { e.sims.odoo.Down(false); return nil })}},
	)
}

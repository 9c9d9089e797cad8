package ops

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// settlePoll is how often a sandbox's streams and consumers are looked at
// while waiting for it to settle: the wait ends at most this long after
// the quiet period did. One look is a few requests to the sandbox's own
// in-process server.
const settlePoll = 25 * time.Millisecond

// settledConsumers lists the durable consumers of stream once the set has
// not changed for stable (processors declare theirs as they start), within
// limit.
func (sb *Sandbox) settledConsumers(ctx context.Context, stream string, stable, limit time.Duration) ([]string, error) {
	deadline := time.Now().Add(limit)
	var last string
	start := time.Now()
	since := start
	for {
		names, err := sb.Consumers(ctx, stream)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		if key := strings.Join(names, ","); key != last {
			last, since = key, now
		}
		// An empty set may just mean "not started yet": give it longer.
		if (now.Sub(since) >= stable && (len(names) > 0 || now.Sub(start) >= 2*time.Second)) || now.After(deadline) {
			return names, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitQuiet waits until the sandbox has settled: no consumer has pending or
// unacknowledged messages (a message nak'd with a delay, waiting for a
// retry, counts as unacknowledged) and no stream grew, for the whole quiet
// period. It gives up after timeout with an error saying what is still busy.
func (sb *Sandbox) WaitQuiet(ctx context.Context, quiet, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var calmSince time.Time
	lastTotal := uint64(0)
	busy := ""
	for {
		total, b, err := sandboxActivity(ctx, sb.Bus.JetStream())
		if err != nil {
			return err
		}
		now := time.Now()
		if b == "" && total == lastTotal {
			if calmSince.IsZero() {
				calmSince = now
			}
			if now.Sub(calmSince) >= quiet {
				return nil
			}
		} else {
			calmSince = time.Time{}
		}
		lastTotal, busy = total, b
		if now.After(deadline) {
			if busy == "" {
				busy = "streams still growing"
			}
			return fmt.Errorf("sandbox not quiet after %s: %s", timeout, busy)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(settlePoll):
		}
	}
}

// sandboxActivity sums the streams' last sequences and names a busy
// consumer. The KV_ and OBJ_ streams do not count: services keep state
// there on their own schedule (heartbeats, claims), so they never stop
// "growing" and would keep the sandbox from ever settling.
func sandboxActivity(ctx context.Context, js jetstream.JetStream) (uint64, string, error) {
	var total uint64
	busy := ""
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		if IsInternalStream(name) {
			continue
		}
		st, err := js.Stream(ctx, name)
		if err != nil {
			return 0, "", fmt.Errorf("sandbox stream %s: %w", name, err)
		}
		total += st.CachedInfo().State.LastSeq
		cl := st.ListConsumers(ctx)
		for ci := range cl.Info() {
			if busy == "" && (ci.NumPending > 0 || ci.NumAckPending > 0) {
				busy = fmt.Sprintf("consumer %s/%s has %d pending, %d unacknowledged", name, ci.Name, ci.NumPending, ci.NumAckPending)
			}
		}
		if err := cl.Err(); err != nil {
			return 0, "", fmt.Errorf("sandbox consumers of %s: %w", name, err)
		}
	}
	return total, busy, names.Err()
}

package egress

import (
	"context"
	"sync"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// A partition taken over from another replica may still have that
// replica's messages outstanding: those it was handling or held queued
// behind their thread. A dead owner's come back when their AckWait runs
// out; a stopping owner's when its naks reach the server — in an order the
// server does not promise, and the threads' later commands may be handed
// to the new owner first. Neither may overtake the other.
//
// So when the consumer still had messages outstanding once the old owner
// let go, the new owner handles nothing of the partition until each of
// them came back (as many redeliveries as there were outstanding
// messages), or AckWait and a margin passed: every command arriving
// meanwhile is recorded as pending in its thread's lane and nak'd, so the
// order gate then lets the lanes go in stream order. A partition acquired
// with nothing outstanding starts at once.

// takeoverMargin is added to AckWait to bound a hold.
const takeoverMargin = time.Second

// hold is one partition's takeover hold.
type hold struct {
	until time.Time
	want  int                 // messages outstanding when the old owner let go
	back  map[uint64]struct{} // of which redelivered here
	mine  map[uint64]struct{} // first delivered here, held
}

type holds struct {
	mu sync.Mutex
	by map[int]*hold
}

// acquired waits until partition i's previous owner let go of it — it
// unpinned after its drain, or, dead, its pin ran out (PinnedTTL) — and
// then notes whether it left messages outstanding (pending acks count the
// ones it gave back too, until they are redelivered).
func (e *Egress) acquired(ctx context.Context, i int) {
	cons, err := e.b.JetStream().Consumer(ctx, schemas.StreamOut, partitionName(i, e.cfg.Partitions))
	if err != nil {
		return // a new consumer (or unknown now): nothing was in flight
	}
	info := cons.CachedInfo()
	deadline := time.Now().Add(e.spec.PinnedTTL + takeoverMargin)
	for pinned(info) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(takeoverPoll):
		}
		if info, err = cons.Info(ctx); err != nil {
			return
		}
	}
	if info.NumAckPending == 0 {
		return
	}
	h := &hold{until: time.Now().Add(e.spec.AckWait + takeoverMargin), want: info.NumAckPending,
		back: map[uint64]struct{}{}, mine: map[uint64]struct{}{}}
	e.holds.mu.Lock()
	if e.holds.by == nil {
		e.holds.by = map[int]*hold{}
	}
	e.holds.by[i] = h
	e.holds.mu.Unlock()
	e.log.Info().Int("partition", i).Int("in_flight", info.NumAckPending).
		Msg("partition taken over with messages in flight; new commands wait for them")
}

// takeoverPoll is how often a new owner checks whether the old one let go.
const takeoverPoll = 100 * time.Millisecond

// pinned tells whether some replica still holds the consumer's pin.
func pinned(info *jetstream.ConsumerInfo) bool {
	for _, g := range info.PriorityGroups {
		if g.PinnedClientID != "" {
			return true
		}
	}
	return false
}

// held tells how long a command of partition i (stream sequence seq,
// delivered for the delivery-th time) must wait; 0: go on (to the order
// gate, which knows every command held meanwhile).
func (e *Egress) held(i int, seq, delivery uint64) time.Duration {
	e.holds.mu.Lock()
	defer e.holds.mu.Unlock()
	h := e.holds.by[i]
	if h == nil {
		return 0
	}
	if _, ours := h.mine[seq]; delivery > 1 && !ours {
		h.back[seq] = struct{}{}
	} else {
		h.mine[seq] = struct{}{}
	}
	left := time.Until(h.until)
	if left <= 0 || len(h.back) >= h.want {
		delete(e.holds.by, i)
		return 0
	}
	return min(left, holdRecheck) + minGateDelay
}

// holdRecheck is how soon a held command comes back to see whether the
// hold ended.
const holdRecheck = 200 * time.Millisecond

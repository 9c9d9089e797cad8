package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// restoreBackoff paces the attempts to re-create a lost consumer: the first
// at once, the last about 25 s after the loss. Then Run gives up and
// returns an error, so the process exits for its supervisor rather than
// idling with nothing consumed.
var restoreBackoff = []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond, time.Second,
	2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}

// restoreStreakReset is how long a restored consumer must stay healthy for
// a later loss to start a fresh series of attempts; a consumer lost again
// sooner (a pull the server keeps refusing) continues the series, so the
// attempts stay bounded.
const restoreStreakReset = time.Minute

// puller feeds a processor's deliveries from its durable consumer. The
// processor owns the consumer (Run declared it), so when the consumer is
// lost — deleted, its stream gone, its pull refused — the puller marks it
// red for /readyz and re-creates it with the same configuration, or fails
// loudly when it cannot: never a silent idle.
type puller struct {
	b    *Bus
	p    *Processor
	log  zerolog.Logger
	opts []jetstream.PullMessagesOpt
	// heartbeat is the pulls' idle heartbeat (see pullHeartbeat).
	heartbeat time.Duration

	mu      sync.Mutex
	iter    jetstream.MessagesContext
	drained bool // stopping: any iterator made from now on is drained at once

	attempt    int       // restore attempts in the current series
	restoredAt time.Time // when the last restore succeeded
	delivered  bool      // a message arrived since then
}

// pullHeartbeat is how often the server confirms a waiting pull. Two
// missed heartbeats end the pull and a new one is issued: that is how a
// pull parked on a consumer leader that was killed (no "leadership
// change" status ever comes from a dead server) moves to the newly
// elected leader, so it bounds that stall to 2 × pullHeartbeat after the
// election. It was 5 s: a 10-s stall on top of the election.
const pullHeartbeat = time.Second

func newPuller(b *Bus, p *Processor, log zerolog.Logger) *puller {
	// Missing heartbeats are reported so a consumer deleted without a word
	// is noticed.
	hb := pullHeartbeat
	opts := []jetstream.PullMessagesOpt{jetstream.PullMaxMessages(pullBatch(p)), jetstream.WithMessagesErrOnMissingHeartbeat(true)}
	if p.Pinned {
		// The server keeps a replica's pin while it pulls again within
		// PinnedTTL, and an idle replica pulls again only when its pull
		// expires: so pulls expire well within the TTL, else the pin would
		// wander between live replicas whenever traffic pauses.
		expiry := max(time.Second, p.PinnedTTL/2)
		hb = min(hb, expiry/2)
		opts = append(opts, jetstream.PullPriorityGroup(pinnedGroup), jetstream.PullExpiry(expiry))
	}
	opts = append(opts, jetstream.PullHeartbeat(hb))
	return &puller{b: b, p: p, log: log, opts: opts, heartbeat: hb}
}

// maxPullBatch caps one pull: messages waiting in the client's buffer
// burn their AckWait unheeded until the scheduler takes them (it holds and
// heartbeats up to MaxAckPending), so the buffer stays a fraction of that.
const maxPullBatch = 64

// pullBatch sizes a pull for throughput: enough to keep every worker and
// the keys queued behind a slow one fed, never above MaxAckPending (the
// server would not deliver more) nor maxPullBatch.
func pullBatch(p *Processor) int {
	return min(p.MaxAckPending, max(maxPullBatch, 2*p.Concurrency))
}

// start begins pulling from cons.
func (pl *puller) start(cons jetstream.Consumer) error {
	iter, err := cons.Messages(pl.opts...)
	if err != nil {
		return err
	}
	pl.setIter(iter)
	return nil
}

func (pl *puller) setIter(iter jetstream.MessagesContext) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.iter = iter
	if pl.drained {
		iter.Drain()
	}
}

func (pl *puller) current() jetstream.MessagesContext {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.iter
}

// drain stops pulling; buffered messages are still returned by Next.
func (pl *puller) drain() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.drained = true
	pl.iter.Drain()
}

// stop abandons the pull at once.
func (pl *puller) stop() { pl.current().Stop() }

// run hands each delivery to deliver, on this goroutine, until ctx ends
// and the iterator is drained (nil), deliver refuses one (nil: the
// processor abandoned the pull), or the consumer is lost for good (the
// error Run returns).
func (pl *puller) run(ctx context.Context, deliver func(jetstream.Msg) bool) error {
	for {
		raw, err := pl.current().Next()
		if err == nil {
			pl.delivered = true
			if !deliver(raw) {
				return nil
			}
			continue
		}
		if ctx.Err() != nil {
			return nil // stopping: Drain ended the iterator
		}
		if errors.Is(err, jetstream.ErrNoHeartbeat) {
			// Silence is not proof: a pinned standby or a busy server may
			// skip heartbeats. Ask whether the consumer is still there.
			if err = pl.lost(ctx); err == nil {
				continue
			}
		}
		if err := pl.restore(ctx, err); err != nil {
			return err
		}
	}
}

// lost tells whether the consumer is gone (its error) after missing
// heartbeats; nil when it exists or the server cannot say right now (the
// nats readiness check reports an unreachable server). It waits one
// heartbeat interval at most: while the consumer's raft group elects a
// leader nobody answers, and the new pull must not wait on the question;
// a consumer really deleted is asked about again at the next missed
// heartbeats.
func (pl *puller) lost(ctx context.Context) error {
	ictx, cancel := context.WithTimeout(ctx, pl.heartbeat)
	defer cancel()
	_, err := pl.b.js.Consumer(ictx, pl.p.Stream, pl.p.Name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		return err
	}
	if err != nil {
		pl.log.Debug().Err(err).Msg("no heartbeats and consumer info failed; pulling on")
	}
	return nil
}

// restore re-creates the lost consumer and pulls from it again, with
// bounded attempts; it returns an error when the consumer cannot be
// restored (stream gone, connection closed, attempts exhausted), nil when
// restored or when ctx ended meanwhile.
func (pl *puller) restore(ctx context.Context, cause error) error {
	p := pl.p
	pl.b.setConsumerHealth(p.Stream, p.Name, cause)
	if pl.delivered || time.Since(pl.restoredAt) > restoreStreakReset {
		pl.attempt = 0
	}
	pl.log.Error().Err(cause).Msg("consumer lost; re-creating it")
	last := cause
	for pl.attempt < len(restoreBackoff) {
		if !sleep(ctx, restoreBackoff[pl.attempt]) {
			return nil
		}
		if pl.b.nc.IsClosed() {
			return fmt.Errorf("processor %s: consumer lost (%v) and the connection is closed", p.Name, cause)
		}
		if !pl.b.nc.IsConnected() {
			// Reconnecting: an attempt now would only time out, so it does
			// not count; the nats check reports the outage meanwhile.
			if !sleep(ctx, 250*time.Millisecond) {
				return nil
			}
			continue
		}
		pl.attempt++
		err := pl.recreate(ctx)
		if err == nil {
			pl.b.setConsumerHealth(p.Stream, p.Name, nil)
			pl.restoredAt, pl.delivered = time.Now(), false
			pl.log.Warn().Int("attempt", pl.attempt).Msg("consumer re-created; consuming again")
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		last = err
		pl.b.setConsumerHealth(p.Stream, p.Name, fmt.Errorf("%w; re-creating it failed (attempt %d of %d): %w", cause, pl.attempt, len(restoreBackoff), err))
		if unrecoverable(err) {
			return fmt.Errorf("processor %s: consumer lost (%v) and cannot be re-created: %w", p.Name, cause, err)
		}
		pl.log.Warn().Err(err).Int("attempt", pl.attempt).Msg("re-creating the consumer failed")
	}
	return fmt.Errorf("processor %s: consumer lost (%v), not re-created after %d attempts: %w", p.Name, cause, len(restoreBackoff), last)
}

// recreate declares the consumer again with the processor's configuration
// and starts a new pull on it.
func (pl *puller) recreate(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cons, err := pl.b.js.CreateOrUpdateConsumer(cctx, pl.p.Stream, pl.p.ConsumerConfig())
	if err != nil {
		return fmt.Errorf("declare consumer on %s: %w", pl.p.Stream, err)
	}
	if err := pl.start(cons); err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	return nil
}

// unrecoverable errors end the attempts at once: retrying cannot help and
// the supervisor (or an operator) must act. "JetStream not enabled" is not
// among them: a server that is shutting down or restarting answers so for
// a moment, and that outage is the nats check's to report, not a reason to
// stop the process.
func unrecoverable(err error) bool {
	return errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, nats.ErrConnectionClosed) ||
		errors.Is(err, jetstream.ErrConnectionClosed) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount)
}

// sleep waits d unless ctx ends first (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

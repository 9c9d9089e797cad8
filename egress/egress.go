package egress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/schemas"
	"github.com/rs/zerolog"
)

// Name is the service, the durable consumer and the Source of what egress publishes.
const Name = "egress"

// idemBucket holds egress' delivery records.
const idemBucket = "maria_egress"

// Hooks let tests stop a delivery at the points where a crash hurts. A
// non-nil error returned by a hook ends the handling there (the message is
// nak'd) exactly as if the process had died at that point.
type Hooks struct {
	// AfterEffect runs after Slack acted, before the delivery is recorded.
	AfterEffect func(env *schemas.Envelope) error
	// AfterRecord runs after the delivery is recorded, before the ack.
	AfterRecord func(env *schemas.Envelope) error
}

// Options configure New.
type Options struct {
	Config Config
	// API replaces the Slack client (default: slack-go, or DryRun when Config.DryRun).
	API API
	// DryRunOut receives one line per call in dry-run mode (the replay sandbox prints it).
	DryRunOut io.Writer
	Hooks     Hooks
	Log       *zerolog.Logger
	// Tokens, in multi-workspace mode, gives each workspace's bot token
	// (teamapi.go); nil: Config.Token for every command.
	Tokens TokenSource
}

// Egress is the bus → Slack service.
type Egress struct {
	b      *bus.Bus
	cfg    Config
	api    API
	idem   *kv.Idempotency
	st     *store
	gate   *gate
	hooks  Hooks
	log    zerolog.Logger
	spec   schemas.ConsumerSpec
	tokens TokenSource // multi-workspace mode (teamapi.go)
	// botID is this app's bot id (from auth.test, when verified): an
	// uncertain stream start is looked for among its messages only.
	botID string

	mu       sync.Mutex
	noStream map[string]time.Time // channel → streaming known unavailable until

	owned ownedSet // partitions this replica runs
	holds holds    // partitions taken over with messages in flight
	lanes lanes    // bounds Slack calls at once (MARIA_EGRESS_CONCURRENCY)
}

// New validates the configuration, opens egress' KV buckets and, unless in
// dry-run mode, checks the bot token with auth.test.
func New(ctx context.Context, b *bus.Bus, o Options) (*Egress, error) {
	cfg := o.Config
	if err := cfg.normalize(); err != nil {
		return nil, fmt.Errorf("egress: %w", err)
	}
	// A logger handed in is already named by its owner (app adds
	// "component"); adding the key again would write it twice.
	log := b.Log.With().Str("component", Name).Logger()
	if o.Log != nil {
		log = *o.Log
	}
	api := o.API
	if api == nil {
		if cfg.DryRun {
			api = &DryRun{Log: log, Out: o.DryRunOut}
		} else if o.Tokens != nil {
			api = newTeamAPI(cfg)
		} else {
			api = NewSlackClient(cfg)
		}
	}
	spec, ok := schemas.ConsumerByName(Name)
	if !ok {
		return nil, errors.New("egress: consumer spec \"egress\" not declared in schemas")
	}
	idem, err := b.Idempotency(ctx, idemBucket, cfg.IdempotencyTTL, cfg.IdempotencyStale)
	if err != nil {
		return nil, fmt.Errorf("egress: %w", err)
	}
	st, err := openStore(ctx, b.JetStream(), cfg.RefTTL, b.Config().Replicas)
	if err != nil {
		return nil, err
	}
	e := &Egress{b: b, cfg: cfg, api: api, tokens: o.Tokens, idem: idem, st: st, hooks: o.Hooks, log: log, spec: spec,
		gate: newGate(2*spec.AckWait + cfg.IdempotencyStale), noStream: map[string]time.Time{},
		lanes: make(lanes, cfg.Concurrency)}
	if cfg.VerifyAuth && !cfg.DryRun && o.Tokens == nil {
		if err := e.verifyAuth(ctx); err != nil {
			return nil, err
		}
	}
	if cfg.DryRun {
		log.Warn().Msg("egress in dry-run mode: nothing is sent to Slack")
	}
	return e, nil
}

func (e *Egress) verifyAuth(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.CallTimeout)
	defer cancel()
	var resp struct{ team, user string }
	err := call(ctx, "auth.test", "", false, func(ctx context.Context) error {
		r, err := e.api.AuthTestContext(ctx)
		if err == nil {
			resp.team, resp.user, e.botID = r.TeamID, r.UserID, r.BotID
		}
		return err
	})
	if err == nil {
		e.log.Info().Str("team", resp.team).Str("bot_user", resp.user).Msg("slack token verified")
		return nil
	}
	if se := classify("auth.test", err); se.Kind == kindPermanent {
		return fmt.Errorf("egress: SLACK_BOT_TOKEN rejected by Slack (%s)", se.Code)
	}
	// Slack unreachable right now: start anyway, deliveries retry.
	e.log.Warn().Err(err).Msg("cannot verify the Slack token now; continuing")
	return nil
}

// OrderKey is the unit of ordering: commands with equal keys are executed
// in the order they were published. It is the conversation's thread (the
// envelope's team, channel and thread_ts; the payload's thread_ts when the
// envelope has none).
func OrderKey(m *bus.Msg) string { return orderKey(m.Env) }

func orderKey(env *schemas.Envelope) string {
	th := env.ThreadTS
	if th == "" {
		var p struct {
			ThreadTS string `json:"thread_ts"`
		}
		_ = json.Unmarshal(env.Data, &p)
		th = p.ThreadTS
	}
	return env.Team + "/" + env.Channel + "/" + th
}

// errWaiting: an earlier command of the same thread, or the channel's rate
// limit, holds this one back.
var errWaiting = errors.New("waiting behind an earlier command of the thread or the channel's rate limit")

// refPendingError: the ref a command addresses has no ts yet (its post is
// still being retried); the command waits, it never goes elsewhere.
type refPendingError struct{ ref string }

func (e *refPendingError) Error() string {
	return fmt.Sprintf("ref %q not resolved yet (its post or stream start has not succeeded)", e.ref)
}

// inFlightError: another delivery holds a fresh claim on this command.
type inFlightError struct{ after time.Duration }

func (e *inFlightError) Error() string { return "delivery in flight elsewhere; checking again later" }

// handle is the processor's handler: gate, execute, map the outcome to
// ack / nak-with-delay / dead letter.
func (e *Egress) handle(ctx context.Context, m *bus.Msg) error {
	env := m.Env
	key := e.laneKey(m)
	if d := e.held(partitionOf(m.Subject, e.cfg.Partitions), m.Sequence, m.Delivery); d > 0 {
		e.gate.retry(key, m.Sequence, d, false)
		metricCommands.WithLabelValues(env.Type, "gated").Inc()
		return bus.RetryAfter(errWaiting, d)
	}
	if d, ok := e.gate.admit(key, env.Channel, m.Sequence); !ok {
		metricCommands.WithLabelValues(env.Type, "gated").Inc()
		return bus.RetryAfter(errWaiting, d)
	}
	if err := e.lanes.acquire(ctx); err != nil {
		return err // stopping: redelivered
	}
	err := e.execute(ctx, m)
	e.lanes.release()
	if err == nil {
		e.gate.done(key, m.Sequence)
		return nil
	}
	var se *slackErr
	var inflight *inFlightError
	switch {
	case bus.IsPermanent(err):
		e.gate.done(key, m.Sequence)
		metricCommands.WithLabelValues(env.Type, "failed").Inc()
		return err
	case errors.As(err, &se) && se.Kind == kindPermanent:
		e.gate.done(key, m.Sequence)
		metricCommands.WithLabelValues(env.Type, "failed").Inc()
		return bus.Permanent(err)
	case errors.As(err, &se) && se.Kind == kindRateLimited:
		e.gate.rateLimited(env.Channel, se.RetryAfter)
		e.gate.retry(key, m.Sequence, se.RetryAfter, false)
		metricCommands.WithLabelValues(env.Type, "retry").Inc()
		m.Log.Info().Str("channel", env.Channel).Dur("retry_after", se.RetryAfter).Msg("rate limited by Slack; channel delayed")
		return e.lastChance(key, m, bus.RetryAfter(err, se.RetryAfter))
	case errors.As(err, &inflight):
		e.gate.retry(key, m.Sequence, inflight.after, false)
		return e.lastChance(key, m, bus.RetryAfter(err, inflight.after))
	}
	n := e.gate.retry(key, m.Sequence, 0, true)
	if n >= e.cfg.MaxAttempts {
		e.gate.done(key, m.Sequence)
		metricCommands.WithLabelValues(env.Type, "failed").Inc()
		return bus.Permanent(fmt.Errorf("giving up after %d failed attempts: %w", n, err))
	}
	d := backoffDelay(n)
	e.gate.retry(key, m.Sequence, d, false)
	metricCommands.WithLabelValues(env.Type, "retry").Inc()
	return e.lastChance(key, m, bus.RetryAfter(err, d))
}

// lastChance forgets the gate entry when the runtime will dead-letter the
// message anyway (server-side MaxDeliver reached).
func (e *Egress) lastChance(key string, m *bus.Msg, err error) error {
	if e.spec.MaxDeliver > 0 && int(m.Delivery) >= e.spec.MaxDeliver {
		e.gate.done(key, m.Sequence)
	}
	return err
}

// backoffDelay is the n-th (1-based) delay of an exponential backoff with
// jitter: ≈0.5s, 1s, 2s, … capped at 1 minute.
func backoffDelay(n int) time.Duration {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 500 * time.Millisecond
	b.MaxInterval = time.Minute
	b.MaxElapsedTime = 0
	b.Reset()
	d := b.NextBackOff()
	for i := 1; i < n; i++ {
		d = b.NextBackOff()
	}
	return d
}

// outcome is what a delivery record keeps.
type outcome struct {
	TS     string `json:"ts,omitempty"`
	Ref    string `json:"ref,omitempty"`
	Mode   string `json:"mode,omitempty"`
	Text   string `json:"text,omitempty"`
	FileID string `json:"file_id,omitempty"`
}

// effect is one command's Slack side effect.
type effect struct {
	// do performs it.
	do func(ctx context.Context) (*outcome, error)
	// reconcile looks for evidence in Slack that an earlier, uncertain
	// attempt (begun at since) already performed it; nil outcome = not
	// found. Nil reconcile means the effect is simply redone.
	reconcile func(ctx context.Context, since time.Time) (*outcome, error)
	// after runs once the delivery is recorded, and again for duplicates
	// (it must be idempotent): e.g. storing the ref → ts mapping.
	after func(ctx context.Context, o *outcome) error
}

const markerAmbiguous = "amb"

// once performs ef at most once per command id (see README "Exactly once").
func (e *Egress) once(ctx context.Context, m *bus.Msg, ef effect) error {
	id := m.Env.ID
	rec, done, err := e.idem.Begin(ctx, id)
	if errors.Is(err, kv.ErrInFlight) {
		wait := 500 * time.Millisecond
		if rec != nil {
			wait = max(e.cfg.IdempotencyStale-time.Since(rec.Claimed)+50*time.Millisecond, 200*time.Millisecond)
		}
		return &inFlightError{after: wait}
	}
	if err != nil {
		return err
	}
	if done {
		var o outcome
		if len(rec.Result) > 0 {
			if err := json.Unmarshal(rec.Result, &o); err != nil {
				return bus.Permanent(fmt.Errorf("corrupt delivery record: %w", err))
			}
		}
		metricCommands.WithLabelValues(m.Env.Type, "duplicate").Inc()
		m.Log.Info().Str("ts", o.TS).Msg("already delivered; not sending again")
		return e.complete(ctx, m, ef, &o)
	}

	// Was an earlier attempt uncertain? A stale claim (a replica died
	// mid-call) or an ambiguous failure (5xx, timeout) leaves a mark.
	var since time.Time
	if rec != nil {
		since = rec.Claimed
	}
	mk, err := e.st.getMarker(ctx, markerAmbiguous, id)
	if err != nil {
		_ = e.idem.Release(ctx, id)
		return err
	}
	if mk != nil && (since.IsZero() || mk.Since.Before(since)) {
		since = mk.Since
	}
	var o *outcome
	if !since.IsZero() && ef.reconcile != nil {
		found, err := ef.reconcile(ctx, since)
		if err != nil {
			metricReconciled.WithLabelValues("error").Inc()
			_ = e.idem.Release(ctx, id)
			return fmt.Errorf("reconcile: %w", err)
		}
		if found != nil {
			metricReconciled.WithLabelValues("found").Inc()
			metricCommands.WithLabelValues(m.Env.Type, "reconciled").Inc()
			m.Log.Warn().Str("ts", found.TS).Msg("an earlier uncertain attempt did deliver; recording it instead of sending again")
			o = found
		} else {
			metricReconciled.WithLabelValues("not_found").Inc()
		}
	}
	if o == nil {
		start := time.Now()
		o, err = e.holding(ctx, id, ef.do)
		if err != nil {
			if se := classify("", err); se.Kind == kindAmbiguous && ef.reconcile != nil {
				if merr := e.st.putMarker(ctx, markerAmbiguous, id, marker{Since: start}); merr != nil {
					// Keep the claim: it goes stale and is reconciled then.
					return errors.Join(err, merr)
				}
			}
			if rerr := e.idem.Release(ctx, id); rerr != nil {
				m.Log.Warn().Err(rerr).Msg("release claim failed; it will go stale")
			}
			return err
		}
		if h := e.hooks.AfterEffect; h != nil {
			if err := h(m.Env); err != nil {
				return err
			}
		}
	}
	if err := e.finish(ctx, id, o); err != nil {
		// The effect happened; the claim stays pending and will be
		// reconciled once stale.
		return err
	}
	if mk != nil {
		if err := e.st.deleteMarker(ctx, markerAmbiguous, id); err != nil {
			m.Log.Warn().Err(err).Msg("delete marker failed (expires by TTL)")
		}
	}
	if h := e.hooks.AfterRecord; h != nil {
		if err := h(m.Env); err != nil {
			return err
		}
	}
	metricCommands.WithLabelValues(m.Env.Type, "delivered").Inc()
	return e.complete(ctx, m, ef, o)
}

// complete runs the idempotent after-steps and announces the delivery.
func (e *Egress) complete(ctx context.Context, m *bus.Msg, ef effect, o *outcome) error {
	if ef.after != nil {
		if err := ef.after(ctx, o); err != nil {
			return err
		}
	}
	d := schemas.Delivered{CommandID: m.Env.ID, CommandType: m.Env.Type, TS: o.TS, Ref: o.Ref, Text: o.Text}
	if _, err := m.Publish(ctx, schemas.DeliveredSubject(m.Env.Team, m.Env.Channel), "delivered", schemas.TypeDelivered, d); err != nil {
		return err
	}
	return nil
}

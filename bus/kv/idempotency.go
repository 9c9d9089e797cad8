package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// Idempotency records make effects (a Slack post, an Odoo write) happen once
// even though JetStream delivers at least once. They live in a JetStream KV
// bucket, so they survive restarts and are shared by every replica.
//
// Protocol: Begin claims the key atomically (KV create); a second claimer
// sees ErrInFlight (someone else is doing it, retry later) or the finished
// Record. After the effect, Finish stores the outcome. A claim older than
// the stale timeout is presumed abandoned by a crashed replica and can be
// taken over — the caller must then reconcile (check whether the effect
// happened) before repeating it: that is the remaining crash window.
//
// Claims carry their KV revision: Finish and Release are compare-and-set
// on the revision Begin wrote, so a replica whose stale claim was taken
// over gets ErrClaimLost and changes nothing. Staleness is judged on the
// server's clock (see serverAge), never on a replica's.
type Idempotency struct {
	kv    jetstream.KeyValue
	recs  Store[Record]
	ttl   time.Duration
	stale time.Duration
	// now stamps Record.Claimed, which is informative only; tests skew it.
	now func() time.Time

	mu sync.Mutex
	// claims maps a key this instance holds to the revision its claim
	// wrote. Two deliveries of one key in one process cannot both hold it
	// (create and takeover are themselves compare-and-set), except when a
	// delivery here takes over a claim still held here by a stuck handler:
	// then the first Finish wins and the other sees ErrClaimLost.
	claims map[string]claim
}

// claim is a claim this instance wrote: its revision, and when (locally)
// it was written, to forget claims nobody finished once the bucket's TTL
// has expired them anyway.
type claim struct {
	rev uint64
	at  time.Time
}

// sweepAbove is the number of held claims above which hold forgets expired ones.
const sweepAbove = 1024

// Record is the stored state of one effect.
type Record struct {
	State  string          `json:"state"` // "pending" or "done"
	Result json.RawMessage `json:"result,omitempty"`
	// Claimed is when the claim was made. On a pending record returned by
	// Begin it is derived from the server's timestamps and mapped onto this
	// replica's clock, so time.Since(Claimed) is the claim's true age even
	// when the claimer's clock was skewed.
	Claimed time.Time `json:"claimed"`
	// KeptFor is, on a claim renewed by Keep, how long the claim had been
	// held when it was last renewed (the owner's monotonic clock): the
	// server's timestamp then dates the renewal, and Begin subtracts
	// KeptFor to date the claim itself — what a taker must reconcile from.
	KeptFor time.Duration `json:"kept_for,omitempty"`
	// Revision is the KV revision, used for compare-and-set.
	Revision uint64 `json:"-"`
	// Stored is when the server wrote this revision (its own clock).
	Stored time.Time `json:"-"`
}

// ErrInFlight means another delivery holds a fresh claim on the key.
var ErrInFlight = errors.New("effect in flight elsewhere")

// ErrClaimLost means the caller's claim is no longer the current one (it
// went stale and another delivery took it over, or it expired): Finish or
// Release changed nothing, and the new owner decides the outcome.
var ErrClaimLost = errors.New("idempotency claim lost to another owner")

// OpenIdempotency opens (or creates) the bucket c declares for records
// kept for c.TTL; stale is how old a pending claim must be before it may be
// taken over.
func OpenIdempotency(ctx context.Context, js jetstream.JetStream, c Config, stale time.Duration) (*Idempotency, error) {
	if c.Description == "" {
		c.Description = "maria idempotency records"
	}
	b, err := Open(ctx, js, c)
	if err != nil {
		return nil, fmt.Errorf("idempotency: %w", err)
	}
	return &Idempotency{kv: b, recs: Typed[Record](b), ttl: c.TTL, stale: stale, now: time.Now, claims: map[string]claim{}}, nil
}

// Key turns any id into a valid KV key.
func (i *Idempotency) Key(id string) string {
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return schemas.StableID(id)
		}
	}
	if id == "" {
		return schemas.StableID(id)
	}
	return id
}

// Get returns the record for key, if any.
func (i *Idempotency) Get(ctx context.Context, key string) (*Record, bool, error) {
	e, found, err := i.recs.Get(ctx, i.Key(key))
	if err != nil || !found {
		return nil, false, wrapIf("idempotency", err)
	}
	r := e.Value
	r.Revision, r.Stored = e.Revision, e.Created
	return &r, true, nil
}

// Begin claims key. It returns (nil, false, nil) when the claim is fresh and
// the caller must perform the effect; (rec, true, nil) when the effect is
// already done; (rec, false, nil) when a stale claim was taken over and the
// caller must reconcile first; ErrInFlight (with the holder's record, when
// known) when another delivery holds it.
func (i *Idempotency) Begin(ctx context.Context, key string) (*Record, bool, error) {
	k := i.Key(key)
	pending := Record{State: "pending", Claimed: i.now().UTC()}
	if rev, err := i.recs.Create(ctx, k, pending); err == nil {
		i.hold(k, rev)
		return nil, false, nil
	} else if !errors.Is(err, ErrConflict) {
		return nil, false, fmt.Errorf("idempotency claim: %w", err)
	}
	rec, found, err := i.Get(ctx, key)
	if err != nil {
		return nil, false, err
	}
	if !found { // expired or released between the two calls
		return i.Begin(ctx, key)
	}
	if rec.State == "done" {
		return rec, true, nil
	}
	age, err := i.serverAge(ctx, rec.Stored)
	if err != nil {
		return nil, false, err
	}
	rec.Claimed = time.Now().Add(-age - rec.KeptFor)
	if age < i.stale {
		return rec, false, ErrInFlight
	}
	rev, err := i.recs.Put(ctx, k, pending, rec.Revision)
	if errors.Is(err, ErrConflict) {
		return nil, false, ErrInFlight // someone else took it over first
	}
	if err != nil {
		return nil, false, fmt.Errorf("idempotency takeover: %w", err)
	}
	i.hold(k, rev)
	return rec, false, nil
}

// serverAge is how long ago the server stored a revision, by the server's
// own clock: the entry's Created is stamped by the stream leader when it
// stores the write, and a stream info's TimeStamp is stamped by the same
// leader when it answers, so a replica's skewed clock plays no part. (Across
// a leader change the two stamps may come from different servers, whose
// clocks an operator keeps in sync; replicas' clocks nobody vouches for.)
// It costs one request, paid only when a claim is contended.
func (i *Idempotency) serverAge(ctx context.Context, stored time.Time) (time.Duration, error) {
	st, err := i.kv.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("idempotency server time: %w", err)
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok || bs.StreamInfo() == nil || bs.StreamInfo().TimeStamp.IsZero() {
		return 0, errors.New("idempotency server time: the server reports no timestamp")
	}
	return max(bs.StreamInfo().TimeStamp.Sub(stored), 0), nil
}

// Keep renews the caller's pending claim on key (from Begin on this
// Idempotency) so it does not go stale while the effect is still under way:
// a compare-and-set of the claim onto itself, which gives it a fresh server
// timestamp — staleness is judged on that — and a new revision, which
// Finish and Release then use. So the stale timeout only has to outlast the
// owner's silence, not its longest effect. ErrClaimLost when the claim was
// taken over (or released) meanwhile. Not to be called concurrently with
// Finish or Release of the same key.
func (i *Idempotency) Keep(ctx context.Context, key string) error {
	k := i.Key(key)
	i.mu.Lock()
	c, ok := i.claims[k]
	i.mu.Unlock()
	if !ok {
		return fmt.Errorf("idempotency keep %s: %w", key, ErrClaimLost)
	}
	rec := Record{State: "pending", Claimed: i.now().UTC().Add(-time.Since(c.at)), KeptFor: time.Since(c.at)}
	rev, err := i.recs.Put(ctx, k, rec, c.rev)
	if errors.Is(err, ErrConflict) {
		i.drop(k, c.rev)
		return fmt.Errorf("idempotency keep %s: %w", key, ErrClaimLost)
	}
	if err != nil {
		return fmt.Errorf("idempotency keep: %w", err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if cur, ok := i.claims[k]; ok && cur.rev == c.rev {
		i.claims[k] = claim{rev: rev, at: c.at}
	}
	return nil
}

// Finish stores the outcome of the effect. It succeeds only while the
// caller's claim (from Begin on this Idempotency) is the current one;
// otherwise it returns ErrClaimLost and leaves the record alone. Any other
// error leaves the claim held, so Finish may be retried. Without a claim
// (Begin returned a done record) it may revise a done record, never a
// pending one.
func (i *Idempotency) Finish(ctx context.Context, key string, result any) error {
	raw, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("idempotency result: %w", err)
	}
	rec := Record{State: "done", Result: raw, Claimed: i.now().UTC()}
	k := i.Key(key)
	rev, ok := i.held(k)
	if !ok {
		return i.finishUnclaimed(ctx, key, k, rec)
	}
	if _, err := i.recs.Put(ctx, k, rec, rev); err != nil {
		if errors.Is(err, ErrConflict) {
			i.drop(k, rev)
			return fmt.Errorf("idempotency finish %s: %w", key, ErrClaimLost)
		}
		return fmt.Errorf("idempotency finish: %w", err)
	}
	i.drop(k, rev)
	return nil
}

// finishUnclaimed records an outcome this instance holds no claim for —
// typically a revised outcome after Begin returned a done record (an
// uncertain result, then reconciled). It replaces a done record or fills an
// empty key, by compare-and-set, but never a pending claim: that one has an
// owner.
func (i *Idempotency) finishUnclaimed(ctx context.Context, key, k string, rec Record) error {
	cur, found, err := i.Get(ctx, key)
	switch {
	case err != nil:
		return err
	case !found:
		_, err = i.recs.Create(ctx, k, rec)
	case cur.State == "done":
		_, err = i.recs.Put(ctx, k, rec, cur.Revision)
	default:
		return fmt.Errorf("idempotency finish %s: %w", key, ErrClaimLost)
	}
	if errors.Is(err, ErrConflict) {
		return fmt.Errorf("idempotency finish %s: %w", key, ErrClaimLost)
	}
	if err != nil {
		return fmt.Errorf("idempotency finish: %w", err)
	}
	return nil
}

// Release drops a pending claim after a failed effect so a retry may claim
// it. Like Finish it only acts on the caller's current claim: a claim taken
// over (or already gone) yields ErrClaimLost and is left as it is.
func (i *Idempotency) Release(ctx context.Context, key string) error {
	k := i.Key(key)
	rev, ok := i.held(k)
	if !ok {
		return fmt.Errorf("idempotency release %s: %w", key, ErrClaimLost)
	}
	if err := i.kv.Delete(ctx, k, jetstream.LastRevision(rev)); err != nil {
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			i.drop(k, rev)
			return fmt.Errorf("idempotency release %s: %w", key, ErrClaimLost)
		}
		return fmt.Errorf("idempotency release: %w", err)
	}
	i.drop(k, rev)
	return nil
}

// hold remembers the claim this instance wrote on k. Callers that keep a
// claim on purpose (to have it reconciled once stale) never finish it, so
// past sweepAbove claims those older than the bucket's TTL are forgotten:
// the server has expired them.
func (i *Idempotency) hold(k string, rev uint64) {
	i.mu.Lock()
	defer i.mu.Unlock()
	now := time.Now()
	if len(i.claims) >= sweepAbove && i.ttl > 0 {
		for key, c := range i.claims {
			if now.Sub(c.at) > i.ttl {
				delete(i.claims, key)
			}
		}
	}
	i.claims[k] = claim{rev: rev, at: now}
}

func (i *Idempotency) held(k string) (uint64, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	c, ok := i.claims[k]
	return c.rev, ok
}

// drop forgets the claim at rev, unless a later claim replaced it.
func (i *Idempotency) drop(k string, rev uint64) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.claims[k].rev == rev {
		delete(i.claims, k)
	}
}

// wrapIf prefixes err with what failed, and passes nil through.
func wrapIf(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

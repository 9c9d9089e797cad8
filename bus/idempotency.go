package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
type Idempotency struct {
	kv    jetstream.KeyValue
	stale time.Duration
}

// Record is the stored state of one effect.
type Record struct {
	State   string          `json:"state"` // "pending" or "done"
	Result  json.RawMessage `json:"result,omitempty"`
	Claimed time.Time       `json:"claimed"`
	// Revision is the KV revision, used for compare-and-set.
	Revision uint64 `json:"-"`
}

// ErrInFlight means another delivery holds a fresh claim on the key.
var ErrInFlight = errors.New("effect in flight elsewhere")

// Idempotency opens (or creates) a KV bucket of records kept for ttl.
// stale is how old a pending claim must be before it may be taken over.
func (b *Bus) Idempotency(ctx context.Context, bucket string, ttl, stale time.Duration) (*Idempotency, error) {
	kv, err := b.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "maria idempotency records",
		TTL:         ttl,
		Storage:     jetstream.FileStorage,
		Replicas:    max(1, b.cfg.Replicas),
		History:     1,
	})
	if err != nil {
		return nil, fmt.Errorf("idempotency bucket %s: %w", bucket, err)
	}
	return &Idempotency{kv: kv, stale: stale}, nil
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
	e, err := i.kv.Get(ctx, i.Key(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("idempotency get: %w", err)
	}
	var r Record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, false, fmt.Errorf("idempotency record %s: %w", key, err)
	}
	r.Revision = e.Revision()
	return &r, true, nil
}

// Begin claims key. It returns (nil, false, nil) when the claim is fresh and
// the caller must perform the effect; (rec, true, nil) when the effect is
// already done; (rec, false, nil) when a stale claim was taken over and the
// caller must reconcile first; ErrInFlight when another delivery holds it.
func (i *Idempotency) Begin(ctx context.Context, key string) (*Record, bool, error) {
	k := i.Key(key)
	claim, _ := json.Marshal(Record{State: "pending", Claimed: time.Now().UTC()})
	if _, err := i.kv.Create(ctx, k, claim); err == nil {
		return nil, false, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, false, fmt.Errorf("idempotency claim: %w", err)
	}
	rec, found, err := i.Get(ctx, key)
	if err != nil {
		return nil, false, err
	}
	if !found { // expired between the two calls
		return i.Begin(ctx, key)
	}
	if rec.State == "done" {
		return rec, true, nil
	}
	if time.Since(rec.Claimed) < i.stale {
		return rec, false, ErrInFlight
	}
	if _, err := i.kv.Update(ctx, k, claim, rec.Revision); err != nil {
		return nil, false, ErrInFlight // someone else took it over first
	}
	return rec, false, nil
}

// Finish stores the outcome of the effect.
func (i *Idempotency) Finish(ctx context.Context, key string, result any) error {
	raw, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("idempotency result: %w", err)
	}
	rec, _ := json.Marshal(Record{State: "done", Result: raw, Claimed: time.Now().UTC()})
	if _, err := i.kv.Put(ctx, i.Key(key), rec); err != nil {
		return fmt.Errorf("idempotency finish: %w", err)
	}
	return nil
}

// Release drops a pending claim after a failed effect so a retry may claim it.
func (i *Idempotency) Release(ctx context.Context, key string) error {
	if err := i.kv.Delete(ctx, i.Key(key)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("idempotency release: %w", err)
	}
	return nil
}

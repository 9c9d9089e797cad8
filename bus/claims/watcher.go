package claims

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Watcher keeps every announced claim in memory, so asking whether a
// message is claimed costs a map walk, not a request.
type Watcher struct {
	mu     sync.RWMutex
	claims map[string]seen
	now    func() time.Time
}

// seen is a claim and when the server stored it.
type seen struct {
	claim schemas.Claim
	at    time.Time
}

// NewWatcher returns an empty watcher; Run fills it.
func NewWatcher() *Watcher { return &Watcher{claims: map[string]seen{}, now: time.Now} }

// Owner returns the processor whose live claim matches ev. A claim is live
// while its last refresh is younger than ClaimTTL: a dead owner's claim
// lapses even though nobody deleted it.
func (w *Watcher) Owner(ev schemas.ClaimEvent) (string, bool) {
	now := w.now()
	w.mu.RLock()
	defer w.mu.RUnlock()
	for _, s := range w.claims {
		if now.Sub(s.at) < schemas.ClaimTTL && s.claim.Matches(ev) {
			return s.claim.Processor, true
		}
	}
	return "", false
}

// Run declares the claims bucket (its owner is the AI), then follows it
// until ctx ends. ready is closed once the claims present at start are
// loaded (or could not be), so the first message is judged on them.
func (w *Watcher) Run(ctx context.Context, js jetstream.JetStream, replicas int, log zerolog.Logger, ready chan<- struct{}) {
	readyOnce := sync.OnceFunc(func() { close(ready) })
	defer readyOnce()
	for attempt := 0; ctx.Err() == nil; attempt++ {
		err := w.follow(ctx, js, replicas, readyOnce)
		if ctx.Err() != nil {
			return
		}
		log.Warn().Err(err).Msg("claims: watch interrupted; claims of other processors are not honoured until it resumes")
		if attempt == 0 {
			readyOnce() // do not hold the first turns hostage
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// follow watches the bucket until ctx ends or the watch breaks.
func (w *Watcher) follow(ctx context.Context, js jetstream.JetStream, replicas int, initialDone func()) error {
	b, err := kv.Open(ctx, js, kv.Config{Bucket: schemas.ClaimsBucket, Description: "claims of processors: messages the AI leaves to them",
		TTL: schemas.ClaimTTL, History: 1, Replicas: replicas})
	if err != nil {
		return err
	}
	watch, err := b.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = watch.Stop() }()
	fresh := map[string]seen{}
	initial := true
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-watch.Updates():
			if !ok {
				return errors.New("claims: watch closed")
			}
			if e == nil { // the claims present at start are all in
				w.mu.Lock()
				w.claims, initial = fresh, false
				w.mu.Unlock()
				initialDone()
				continue
			}
			w.apply(fresh, initial, e)
		}
	}
}

// apply records one update; during the initial load it goes to fresh,
// which replaces the view at once when the load is complete.
func (w *Watcher) apply(fresh map[string]seen, initial bool, e jetstream.KeyValueEntry) {
	if !initial {
		w.mu.Lock()
		defer w.mu.Unlock()
		fresh = w.claims
	}
	if e.Operation() != jetstream.KeyValuePut {
		delete(fresh, e.Key())
		return
	}
	var c schemas.Claim
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		delete(fresh, e.Key())
		return
	}
	fresh[e.Key()] = seen{claim: c, at: e.Created()}
}

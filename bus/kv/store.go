package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrConflict means a compare-and-set lost: the key was created or changed
// since it was read. It wraps JetStream's own errors, so errors.Is with
// jetstream.ErrKeyExists or jetstream.ErrKeyRevisionMismatch holds too.
var ErrConflict = errors.New("kv: key changed concurrently")

// ErrNoChange, returned by an Update's change function, ends the loop
// without writing: the current value already says what the caller wants.
// Update then returns the current entry and no error.
var ErrNoChange = errors.New("kv: no change")

// maxUpdateAttempts bounds Update's compare-and-set loop: contention on one
// key beyond that is a bug to report, not something to spin on. Writers
// that lost a round pause a little (jittered, growing) before the next, so
// many replicas writing one key at once spread out instead of colliding
// again.
const maxUpdateAttempts = 32

// Entry is a decoded value with its revision.
type Entry[T any] struct {
	Value T
	// Revision is what a compare-and-set Put is conditioned on.
	Revision uint64
	// Created is when the server stored this revision (its own clock); Get
	// fills it, Update does not (the write returns only the revision).
	Created time.Time
}

// Store is a typed view of a bucket whose values are JSON-encoded T.
type Store[T any] struct {
	kv jetstream.KeyValue
	// zeroCorrupt reads an undecodable value as the zero T (see ResetCorrupt).
	zeroCorrupt bool
}

// Typed returns the typed view of b.
func Typed[T any](b jetstream.KeyValue) Store[T] { return Store[T]{kv: b} }

// ResetCorrupt returns a view that reads an undecodable value as the zero T
// (found, with its revision) instead of failing, so the next Update
// overwrites it: for state that may start over (a thread's memory, a
// counter) rather than wedge its key forever.
func (s Store[T]) ResetCorrupt() Store[T] {
	s.zeroCorrupt = true
	return s
}

// Get returns the entry under key; found is false when there is none.
func (s Store[T]) Get(ctx context.Context, key string) (e Entry[T], found bool, err error) {
	raw, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("kv get %s: %w", key, err)
	}
	e.Revision, e.Created = raw.Revision(), raw.Created()
	if err := json.Unmarshal(raw.Value(), &e.Value); err != nil {
		if s.zeroCorrupt {
			var zero T
			e.Value = zero
			return e, true, nil
		}
		return Entry[T]{}, false, fmt.Errorf("kv get %s: decode: %w", key, err)
	}
	return e, true, nil
}

// Set stores v under key whatever is there (no compare-and-set): for
// values every writer computes alike, where the last write may win.
func (s Store[T]) Set(ctx context.Context, key string, v T) (uint64, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("kv set %s: encode: %w", key, err)
	}
	rev, err := s.kv.Put(ctx, key, raw)
	if err != nil {
		return 0, fmt.Errorf("kv set %s: %w", key, err)
	}
	return rev, nil
}

// Delete removes key; a missing key is not an error.
func (s Store[T]) Delete(ctx context.Context, key string) error {
	if err := s.kv.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("kv delete %s: %w", key, err)
	}
	return nil
}

// Create stores v under key unless the key exists (ErrConflict), and
// returns the new revision.
func (s Store[T]) Create(ctx context.Context, key string, v T) (uint64, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("kv create %s: encode: %w", key, err)
	}
	rev, err := s.kv.Create(ctx, key, raw)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("kv create %s: %w: %w", key, ErrConflict, err)
	}
	if err != nil {
		return 0, fmt.Errorf("kv create %s: %w", key, err)
	}
	return rev, nil
}

// Put replaces key's value with v only while its revision is still rev
// (ErrConflict otherwise), and returns the new revision.
func (s Store[T]) Put(ctx context.Context, key string, v T, rev uint64) (uint64, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("kv put %s: encode: %w", key, err)
	}
	next, err := s.kv.Update(ctx, key, raw, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, fmt.Errorf("kv put %s: %w: %w", key, ErrConflict, err)
	}
	if err != nil {
		return 0, fmt.Errorf("kv put %s: %w", key, err)
	}
	return next, nil
}

// Update is the compare-and-set loop: it reads key, lets change compute the
// new value from the current one (found false: none yet), and writes it
// conditioned on what it read — retrying from the read when another writer
// got there first. change may run several times and must not have effects;
// ErrNoChange from it ends the loop without a write (Update returns the
// current entry), any other error ends it and is returned as is.
func (s Store[T]) Update(ctx context.Context, key string, change func(cur T, found bool) (T, error)) (Entry[T], error) {
	for attempt := range maxUpdateAttempts {
		if attempt > 0 {
			if err := conflictPause(ctx, attempt); err != nil {
				return Entry[T]{}, fmt.Errorf("kv update %s: %w", key, err)
			}
		}
		cur, found, err := s.Get(ctx, key)
		if err != nil {
			return Entry[T]{}, err
		}
		next, err := change(cur.Value, found)
		if errors.Is(err, ErrNoChange) {
			return cur, nil
		}
		if err != nil {
			return Entry[T]{}, err
		}
		var rev uint64
		if found {
			rev, err = s.Put(ctx, key, next, cur.Revision)
		} else {
			rev, err = s.Create(ctx, key, next)
		}
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Entry[T]{}, err
		}
		return Entry[T]{Value: next, Revision: rev}, nil
	}
	return Entry[T]{}, fmt.Errorf("kv update %s: %w %d times in a row", key, ErrConflict, maxUpdateAttempts)
}

// conflictPause spreads out writers that lost a compare-and-set round:
// a random 1..5·attempt ms (capped at 50 ms), or ctx's error.
func conflictPause(ctx context.Context, attempt int) error {
	t := time.NewTimer(time.Duration(1+rand.IntN(5*min(attempt, 10))) * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrConflict means a compare-and-set lost: the key was created or changed
// since it was read. It wraps JetStream's own errors, so errors.Is with
// jetstream.ErrKeyExists or jetstream.ErrKeyRevisionMismatch holds too.
var ErrConflict = errors.New("kv: key changed concurrently")

// maxUpdateAttempts bounds Update's compare-and-set loop: contention on one
// key beyond that is a bug to report, not something to spin on.
const maxUpdateAttempts = 16

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
type Store[T any] struct{ kv jetstream.KeyValue }

// Typed returns the typed view of b.
func Typed[T any](b jetstream.KeyValue) Store[T] { return Store[T]{kv: b} }

// Get returns the entry under key; found is false when there is none.
func (s Store[T]) Get(ctx context.Context, key string) (e Entry[T], found bool, err error) {
	raw, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("kv get %s: %w", key, err)
	}
	if err := json.Unmarshal(raw.Value(), &e.Value); err != nil {
		return e, false, fmt.Errorf("kv get %s: decode: %w", key, err)
	}
	e.Revision, e.Created = raw.Revision(), raw.Created()
	return e, true, nil
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
// an error from it ends the loop and is returned as is.
func (s Store[T]) Update(ctx context.Context, key string, change func(cur T, found bool) (T, error)) (Entry[T], error) {
	for range maxUpdateAttempts {
		cur, found, err := s.Get(ctx, key)
		if err != nil {
			return Entry[T]{}, err
		}
		next, err := change(cur.Value, found)
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

package kv

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrWatchClosed is a watch the server or the client ended while it was
// still wanted.
var ErrWatchClosed = errors.New("kv watch closed")

// Follow hands every entry of w to apply until ctx ends (nil) or the watch
// closes under it (ErrWatchClosed); the nil that marks the end of the
// initial values is skipped. It stops w when it returns.
func Follow(ctx context.Context, w jetstream.KeyWatcher, apply func(jetstream.KeyValueEntry)) error {
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return ErrWatchClosed
			}
			if e != nil {
				apply(e)
			}
		}
	}
}

// Initial hands each of w's initial values to each, stops at the marker
// that ends them, and stops w; the first error of each ends it early.
func Initial(ctx context.Context, w jetstream.KeyWatcher, each func(jetstream.KeyValueEntry) error) error {
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return ErrWatchClosed
			}
			if e == nil {
				return nil
			}
			if err := each(e); err != nil {
				return err
			}
		}
	}
}

package kv_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/kv"
	"github.com/nats-io/nats.go/jetstream"
)

func TestInitialAndFollow(t *testing.T) {
	b := bustest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bucket, err := kv.Open(ctx, b.JetStream(), kv.Config{Bucket: "watch_test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if _, err := bucket.PutString(ctx, k, k); err != nil {
			t.Fatal(err)
		}
	}

	w, err := bucket.WatchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := kv.Initial(ctx, w, func(e jetstream.KeyValueEntry) error { keys = append(keys, e.Key()); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != "a" || keys[1] != "b" {
		t.Fatalf("initial values %v, want [a b]", keys)
	}
	stop := errors.New("stop")
	w, _ = bucket.WatchAll(ctx)
	if err := kv.Initial(ctx, w, func(jetstream.KeyValueEntry) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("Initial returned %v, want each's error", err)
	}

	w, err = bucket.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		t.Fatal(err)
	}
	fctx, fcancel := context.WithCancel(ctx)
	seen := make(chan string, 4)
	done := make(chan error, 1)
	go func() { done <- kv.Follow(fctx, w, func(e jetstream.KeyValueEntry) { seen <- e.Key() }) }()
	if _, err := bucket.PutString(ctx, "c", "c"); err != nil {
		t.Fatal(err)
	}
	select {
	case k := <-seen:
		if k != "c" {
			t.Fatalf("followed %q, want c", k)
		}
	case <-ctx.Done():
		t.Fatal("Follow handed over nothing")
	}
	fcancel()
	if err := <-done; err != nil {
		t.Fatalf("Follow after its context ended: %v, want nil", err)
	}
}

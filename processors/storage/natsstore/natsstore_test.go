package natsstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/processors/storage/natsstore"
	"github.com/mariahq/maria/processors/storage/store"
	"github.com/mariahq/maria/processors/storage/storetest"
	"github.com/nats-io/nats.go/jetstream"
)

func TestConformance(t *testing.T) {
	b := bustest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := natsstore.Open(ctx, b.JetStream(), natsstore.Config{Buckets: []string{"maria_docs", "maria_images"}, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, s, s, "maria_docs")
	storetest.LegacyFiles(t, s, func(ctx context.Context, r store.FileRecord) error {
		kv, err := b.JetStream().KeyValue(ctx, natsstore.RecordsBucket)
		if err != nil {
			return err
		}
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = kv.Put(ctx, "file."+r.FileID, raw) // the key before records were per workspace
		return err
	})
}

// Replicas claiming one piece of work at once: exactly one holds it, and a
// stale claim is taken over by exactly one of them.
func TestClaimConcurrentExactlyOneHolder(t *testing.T) {
	b := bustest.New(t)
	other := bustest.Client(t, b, nil)
	ctx := context.Background()
	var reps [2]*natsstore.Store
	for i, js := range []jetstream.JetStream{b.JetStream(), other.JetStream()} {
		s, err := natsstore.Open(ctx, js, natsstore.Config{Retention: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		reps[i] = s
	}
	claimAll := func(key string, stale time.Duration) int32 {
		var held atomic.Int32
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				err := reps[i%2].Claim(ctx, key, stale)
				switch {
				case err == nil:
					held.Add(1)
				case !errors.Is(err, store.ErrInFlight):
					t.Error(err)
				}
			})
		}
		wg.Wait()
		return held.Load()
	}
	if n := claimAll("file:F1", time.Hour); n != 1 {
		t.Fatalf("%d fresh claims held, want 1", n)
	}
	// Once the claim is older than the stale timeout it is taken over; the
	// takeover's own claim is then fresh for the other claimers.
	time.Sleep(1100 * time.Millisecond)
	if n := claimAll("file:F1", time.Second); n != 1 {
		t.Fatalf("%d takeovers of a stale claim, want 1", n)
	}
}

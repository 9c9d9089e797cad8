package kv_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/kv"
)

func TestIdempotencyClaimFinishAndTakeover(t *testing.T) {
	b := bustest.New(t)
	ctx := context.Background()
	idem, err := b.Idempotency(ctx, "test_idem", time.Hour, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	rec, done, err := idem.Begin(ctx, "cmd-1")
	if err != nil || done || rec != nil {
		t.Fatalf("fresh claim: rec=%v done=%v err=%v", rec, done, err)
	}
	if _, _, err := idem.Begin(ctx, "cmd-1"); !errors.Is(err, kv.ErrInFlight) {
		t.Fatalf("second claim while fresh: %v, want ErrInFlight", err)
	}
	if err := idem.Finish(ctx, "cmd-1", map[string]string{"ts": "123.456"}); err != nil {
		t.Fatal(err)
	}
	rec, done, err = idem.Begin(ctx, "cmd-1")
	if err != nil || !done || string(rec.Result) != `{"ts":"123.456"}` {
		t.Fatalf("after finish: rec=%+v done=%v err=%v", rec, done, err)
	}

	// A claim abandoned by a crashed replica is taken over once stale.
	if _, _, err := idem.Begin(ctx, "cmd-2"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(350 * time.Millisecond)
	rec, done, err = idem.Begin(ctx, "cmd-2")
	if err != nil || done || rec == nil || rec.State != "pending" {
		t.Fatalf("stale takeover: rec=%+v done=%v err=%v", rec, done, err)
	}

	// Release lets a retry claim again.
	if err := idem.Release(ctx, "cmd-2"); err != nil {
		t.Fatal(err)
	}
	if rec, done, err := idem.Begin(ctx, "cmd-2"); err != nil || done || rec != nil {
		t.Fatalf("after release: rec=%v done=%v err=%v", rec, done, err)
	}
	// Keys that are not valid KV keys are hashed, not rejected.
	if _, _, err := idem.Begin(ctx, "odd key/with:chars"); err != nil {
		t.Fatal(err)
	}
}

// replicas opens the same bucket twice, as two replicas of one service do.
func replicas(t *testing.T, b *bus.Bus, stale time.Duration) (a, c *kv.Idempotency) {
	t.Helper()
	ctx := context.Background()
	a, err := b.Idempotency(ctx, "test_idem_owner", time.Hour, stale)
	if err != nil {
		t.Fatal(err)
	}
	c, err = bustest.Client(t, b, nil).Idempotency(ctx, "test_idem_owner", time.Hour, stale)
	if err != nil {
		t.Fatal(err)
	}
	return a, c
}

func TestStaleOwnerCannotFinishOrReleaseATakenOverClaim(t *testing.T) {
	b := bustest.New(t)
	ctx := context.Background()
	old, taker := replicas(t, b, 300*time.Millisecond)
	if _, _, err := old.Begin(ctx, "cmd-1"); err != nil {
		t.Fatal(err)
	}
	// The old owner stalls; once its claim is stale the other replica takes it over.
	var rec *kv.Record
	bustest.Eventually(t, 10*time.Second, func() bool {
		r, done, err := taker.Begin(ctx, "cmd-1")
		if errors.Is(err, kv.ErrInFlight) {
			return false
		}
		if err != nil || done || r == nil {
			t.Fatalf("takeover: rec=%+v done=%v err=%v", r, done, err)
		}
		rec = r
		return true
	}, "stale claim taken over")
	if age := time.Since(rec.Claimed); age < 300*time.Millisecond {
		t.Errorf("taken-over claim is %s old, younger than the stale timeout", age)
	}
	current, _, err := taker.Get(ctx, "cmd-1")
	if err != nil {
		t.Fatal(err)
	}

	if err := old.Finish(ctx, "cmd-1", "stale result"); !errors.Is(err, kv.ErrClaimLost) {
		t.Fatalf("stale owner's Finish: %v, want ErrClaimLost", err)
	}
	if err := old.Release(ctx, "cmd-1"); !errors.Is(err, kv.ErrClaimLost) {
		t.Fatalf("stale owner's Release: %v, want ErrClaimLost", err)
	}
	after, found, err := taker.Get(ctx, "cmd-1")
	if err != nil || !found || after.Revision != current.Revision || after.State != "pending" {
		t.Fatalf("the stale owner changed the new owner's claim: %+v found=%v err=%v (was revision %d)", after, found, err, current.Revision)
	}

	if err := taker.Finish(ctx, "cmd-1", "new result"); err != nil {
		t.Fatalf("new owner's Finish: %v", err)
	}
	rec, done, err := old.Begin(ctx, "cmd-1")
	if err != nil || !done || string(rec.Result) != `"new result"` {
		t.Fatalf("after the new owner finished: rec=%+v done=%v err=%v", rec, done, err)
	}

	// The same for Release: the new owner can release, the stale one cannot.
	if _, _, err := old.Begin(ctx, "cmd-2"); err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, 10*time.Second, func() bool {
		_, _, err := taker.Begin(ctx, "cmd-2")
		return err == nil
	}, "stale claim taken over")
	if err := old.Release(ctx, "cmd-2"); !errors.Is(err, kv.ErrClaimLost) {
		t.Fatalf("stale owner's Release: %v, want ErrClaimLost", err)
	}
	if err := taker.Release(ctx, "cmd-2"); err != nil {
		t.Fatalf("new owner's Release: %v", err)
	}
	if _, found, _ := taker.Get(ctx, "cmd-2"); found {
		t.Fatal("released claim still present")
	}
	if err := old.Finish(ctx, "cmd-2", "late"); err != nil {
		// Nobody holds the key any more: a late outcome is recorded, not lost.
		t.Fatalf("late Finish on a free key: %v", err)
	}
}

// A replica's clock stamps the records it writes, but staleness is judged
// on the server's timestamps: a claimer whose clock is far behind (its
// claims look ancient) or far ahead does not get its fresh claim taken over.
func TestSkewedClockDoesNotCauseEarlyTakeover(t *testing.T) {
	for _, skew := range []time.Duration{-time.Hour, time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			b := bustest.New(t)
			ctx := context.Background()
			skewed, other := replicas(t, b, 30*time.Second)
			kv.SetIdempotencyClock(skewed, func() time.Time { return time.Now().Add(skew) })
			kv.SetIdempotencyClock(other, func() time.Time { return time.Now().Add(-skew) })
			if _, _, err := skewed.Begin(ctx, "cmd-1"); err != nil {
				t.Fatal(err)
			}
			rec, _, err := other.Begin(ctx, "cmd-1")
			if !errors.Is(err, kv.ErrInFlight) {
				t.Fatalf("fresh claim of a skewed replica: err=%v, want ErrInFlight", err)
			}
			if age := time.Since(rec.Claimed); age < 0 || age > 10*time.Second {
				t.Errorf("in-flight claim reported %s old; want its age on the server (well under a second)", age)
			}
			if err := skewed.Finish(ctx, "cmd-1", "ok"); err != nil {
				t.Fatalf("owner's Finish: %v", err)
			}
		})
	}
}

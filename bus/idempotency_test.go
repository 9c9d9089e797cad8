package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
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
	if _, _, err := idem.Begin(ctx, "cmd-1"); !errors.Is(err, bus.ErrInFlight) {
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

package kv_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/kv"
)

// A claim its owner keeps renewing never goes stale, however long the
// effect takes; once the owner falls silent (a kill -9) it goes stale after
// the stale timeout, the taker is told when the claim was first made (to
// reconcile from there, not from the last renewal), and the silent owner
// can neither renew nor finish it any more.
func TestKeptClaimStaysFreshAndGoesStaleWhenTheOwnerFallsSilent(t *testing.T) {
	b := bustest.New(t)
	ctx := context.Background()
	const stale = 400 * time.Millisecond
	owner, taker := replicas(t, b, stale)
	claimed := time.Now()
	if _, _, err := owner.Begin(ctx, "cmd-1"); err != nil {
		t.Fatal(err)
	}
	// Three stale timeouts of work, renewed every quarter of one.
	for time.Since(claimed) < 3*stale {
		time.Sleep(stale / 4)
		if err := owner.Keep(ctx, "cmd-1"); err != nil {
			t.Fatalf("Keep: %v", err)
		}
		if _, _, err := taker.Begin(ctx, "cmd-1"); !errors.Is(err, kv.ErrInFlight) {
			t.Fatalf("kept claim after %s: Begin = %v, want ErrInFlight", time.Since(claimed).Round(time.Millisecond), err)
		}
	}
	silent := time.Now()
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
	}, "silent owner's claim taken over")
	if waited := time.Since(silent); waited < stale-50*time.Millisecond {
		t.Errorf("taken over %s after the last renewal, before the stale timeout %s", waited, stale)
	}
	if since := time.Since(rec.Claimed); since < time.Since(claimed)-100*time.Millisecond {
		t.Errorf("taker told the claim is %s old; it was made %s ago (reconcile would start too late)", since, time.Since(claimed))
	}
	if err := owner.Keep(ctx, "cmd-1"); !errors.Is(err, kv.ErrClaimLost) {
		t.Fatalf("silent owner's Keep after takeover: %v, want ErrClaimLost", err)
	}
	if err := owner.Finish(ctx, "cmd-1", "late"); !errors.Is(err, kv.ErrClaimLost) {
		t.Fatalf("silent owner's Finish after takeover: %v, want ErrClaimLost", err)
	}
	if err := taker.Finish(ctx, "cmd-1", "ok"); err != nil {
		t.Fatalf("new owner's Finish: %v", err)
	}

	// Renewals move the revision Finish compares against: the owner still
	// finishes its kept claim.
	if _, _, err := owner.Begin(ctx, "cmd-2"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := owner.Keep(ctx, "cmd-2"); err != nil {
			t.Fatal(err)
		}
	}
	if err := owner.Finish(ctx, "cmd-2", "ok"); err != nil {
		t.Fatalf("Finish after Keep: %v", err)
	}
	if err := owner.Keep(ctx, "cmd-2"); !errors.Is(err, kv.ErrClaimLost) {
		t.Fatalf("Keep of a finished claim: %v, want ErrClaimLost", err)
	}
}

package claims

import (
	"context"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
)

// TestAnnouncedClaimIsSeenAndLapses: a served processor's claim reaches a
// watcher, stops matching once the processor stops (deleted), and a claim
// nobody refreshes lapses after ClaimTTL.
func TestAnnouncedClaimIsSeenAndLapses(t *testing.T) {
	b := bustest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewWatcher()
	ready := make(chan struct{})
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); w.Run(ctx, b.JetStream(), 1, b.Log, ready) }()
	t.Cleanup(func() { cancel(); <-watchDone })
	<-ready

	timeEv := schemas.ClaimEvent{Kind: schemas.KindMention, Channel: "C1", Text: "<@U0MARIA> !time"}
	other := schemas.ClaimEvent{Kind: schemas.KindMention, Channel: "C1", Text: "<@U0MARIA> what is S00042?"}
	svc, err := Serve(b, "clock", []schemas.ClaimRule{{Prefix: "!time"}},
		bus.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }))
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- svc.Run(sctx) }()
	bustest.Eventually(t, 10*time.Second, func() bool { o, ok := w.Owner(timeEv); return ok && o == "clock" }, "the claim is seen")
	if o, ok := w.Owner(other); ok {
		t.Fatalf("an unclaimed question is owned by %s", o)
	}
	// Seen as dead by a watcher whose clock is past the TTL: lapsed.
	w.now = func() time.Time { return time.Now().Add(schemas.ClaimTTL + time.Second) }
	if _, ok := w.Owner(timeEv); ok {
		t.Fatal("a claim older than ClaimTTL still counts")
	}
	w.now = time.Now
	stop()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, 10*time.Second, func() bool { _, ok := w.Owner(timeEv); return !ok }, "a stopped processor's claim is withdrawn")
}

func TestServeRefusesAClaimOnEverything(t *testing.T) {
	inner := bus.ServiceFunc(func(context.Context) error { return nil })
	if _, err := Serve(nil, "greedy", []schemas.ClaimRule{{Kinds: []string{schemas.KindMessage}}}, inner); err == nil {
		t.Fatal("a rule that claims every message was accepted")
	}
	if _, err := Serve(nil, "none", nil, inner); err == nil {
		t.Fatal("no rules accepted")
	}
}

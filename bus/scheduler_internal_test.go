package bus

import (
	"testing"
	"time"
)

func closedChan() chan struct{} { c := make(chan struct{}); close(c); return c }

// takeNext returns what next hands out, failing when it would block.
func takeNext(t *testing.T, s *scheduler) (*delivery, *keyQueue, bool) {
	t.Helper()
	s.mu.Lock()
	empty := len(s.runnable) == 0
	s.mu.Unlock()
	if empty {
		t.Fatal("nothing runnable")
	}
	d, q, drop, ok := s.next()
	if !ok {
		t.Fatal("scheduler closed")
	}
	return d, q, drop
}

func runnable(s *scheduler) int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.runnable) }

func TestSchedulerKeepsKeyOrderAndSkipsBusyKeys(t *testing.T) {
	s := newScheduler(true, 10)
	a1, a2, b1 := &delivery{key: "a"}, &delivery{key: "a"}, &delivery{key: "b"}
	for _, d := range []*delivery{a1, a2, b1} {
		if !s.acquire(nil) {
			t.Fatal("no room")
		}
		s.add(d)
	}
	d, qa, _ := takeNext(t, s)
	if d != a1 {
		t.Fatal("first is not a's first")
	}
	// a is busy: its second message waits, b goes ahead.
	if d, _, _ := takeNext(t, s); d != b1 {
		t.Fatal("b did not go ahead of busy a")
	}
	if runnable(s) != 0 {
		t.Fatal("a's second message runnable while a is busy")
	}
	if held, inFlight := s.load(); held != 3 || inFlight != 2 {
		t.Fatalf("held %d in flight %d", held, inFlight)
	}
	s.done(a1, qa, false)
	if d, _, _ := takeNext(t, s); d != a2 {
		t.Fatal("a's second message not runnable after its first")
	}
}

func TestSchedulerForgetsEmptyKeys(t *testing.T) {
	s := newScheduler(true, 10)
	d := &delivery{key: "a"}
	s.acquire(nil)
	s.add(d)
	_, q, _ := takeNext(t, s)
	s.done(d, q, false)
	if len(s.queues) != 0 || len(s.held) != 0 {
		t.Fatalf("queues %v held %v left after the last message", s.queues, s.held)
	}
}

// The scheduler holds at most its capacity: the pull loop waits for room.
func TestSchedulerBoundsHeldMessages(t *testing.T) {
	s := newScheduler(false, 3)
	ds := []*delivery{{}, {}, {}}
	for _, d := range ds {
		if !s.acquire(nil) {
			t.Fatal("no room below capacity")
		}
		s.add(d)
	}
	if s.acquire(closedChan()) {
		t.Fatal("room beyond capacity")
	}
	d, q, _ := takeNext(t, s)
	s.done(d, q, false)
	if !s.acquire(nil) {
		t.Fatal("no room after one was done")
	}
}

// Unkeyed messages are all runnable at once.
func TestSchedulerUnkeyedRunsInParallel(t *testing.T) {
	s := newScheduler(false, 10)
	for range 4 {
		s.acquire(nil)
		s.add(&delivery{})
	}
	for range 4 {
		takeNext(t, s)
	}
	if _, inFlight := s.load(); inFlight != 4 {
		t.Fatalf("in flight %d", inFlight)
	}
}

// Stopping, queued messages are handed out to be given back, not handled,
// and a closed scheduler with nothing left ends its workers.
func TestSchedulerStopDropsQueuedAndCloseEndsWorkers(t *testing.T) {
	s := newScheduler(true, 10)
	d := &delivery{key: "a"}
	s.acquire(nil)
	s.add(d)
	s.stop()
	_, q, drop := takeNext(t, s)
	if !drop {
		t.Fatal("queued message handled while stopping")
	}
	s.done(d, q, true)
	s.close()
	if _, _, _, ok := s.next(); ok {
		t.Fatal("next after close with nothing left")
	}
}

func TestSchedulerHeartbeatsOnlyOldMessages(t *testing.T) {
	s := newScheduler(true, 10)
	now := time.Now()
	old, fresh := &delivery{key: "a", beat: now.Add(-time.Second)}, &delivery{key: "b", beat: now}
	for _, d := range []*delivery{old, fresh} {
		s.acquire(nil)
		s.add(d)
	}
	due := s.due(now, 500*time.Millisecond)
	if len(due) != 1 || due[0] != old || !old.beat.Equal(now) {
		t.Fatalf("due %v", due)
	}
	if len(s.due(now, 500*time.Millisecond)) != 0 {
		t.Fatal("beaten again at once")
	}
}

package ai

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// statusLine is one turn's thread status ("is thinking…", "is looking up
// sale.order…"). A status is worth a Slack call only if the user gets to
// see it: set publishes one only after it has stayed current for delay —
// a newer status, the answer's first text or the turn's end cancels it
// first. A quick turn so publishes no status at all (no set and no clear:
// two messages, two egress deliveries and two Slack calls fewer per
// status); a slow model or a slow tool shows it as before, delay late.
// Waits for a failing dependency are long by definition and are shown at
// once (setNow).
//
// Keys stay fixed per status (the same on every delivery), so a status
// published twice is deduplicated like every other command of the turn.
type statusLine struct {
	publish func(ctx context.Context, key, status string) error
	ctx     context.Context
	delay   time.Duration
	log     zerolog.Logger

	mu      sync.Mutex
	timer   *time.Timer
	gen     int  // bumped by each set/cancel: a timer of an older one is void
	shown   bool // a status was published: the end of the turn clears it
	stopped bool
}

// set makes status the pending status, published after delay unless
// superseded first; a delay of 0 publishes at once.
func (s *statusLine) set(key, status string) error {
	if s.delay <= 0 {
		return s.setNow(key, status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.cancelLocked()
	gen := s.gen
	s.timer = time.AfterFunc(s.delay, func() { s.fire(gen, key, status) })
	return nil
}

// setNow publishes status at once (replacing any pending one).
func (s *statusLine) setNow(key, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.cancelLocked()
	s.shown = true
	return s.publish(s.ctx, key, status)
}

// fire publishes a pending status still current after the delay. It holds
// the lock while publishing, so a cancel (the answer's first text) waits
// for it and the status never lands after the text that replaced it.
func (s *statusLine) fire(gen int, key, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || gen != s.gen {
		return
	}
	s.shown = true
	if err := s.publish(s.ctx, key, status); err != nil {
		// Cosmetic: the answer still comes, and the turn's end clears it.
		s.log.Warn().Err(err).Str("status", status).Msg("ai: publish thread status")
	}
}

// cancel drops the pending status (the answer's text replaces it).
func (s *statusLine) cancel() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancelLocked()
}

func (s *statusLine) cancelLocked() {
	s.gen++
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// stop ends the status line: nothing pending is published any more. It
// reports whether a status was shown (and so needs clearing).
func (s *statusLine) stop() (shown bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancelLocked()
	s.stopped = true
	return s.shown
}

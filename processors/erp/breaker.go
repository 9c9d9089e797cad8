package erp

import (
	"fmt"
	"sync"
	"time"

	"github.com/mariahq/maria/processors/erp/odoo"
)

// BreakerState is closed (calls flow), open (calls fail fast) or half-open
// (one probe call decides).
type BreakerState int

// Breaker states; the values are what maria_erp_breaker_state reports.
const (
	BreakerClosed   BreakerState = 0
	BreakerHalfOpen BreakerState = 1
	BreakerOpen     BreakerState = 2
)

func (s BreakerState) String() string {
	switch s {
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return "closed"
}

// DefaultBreakerCooldown is how long the circuit stays open before a probe.
// Short on purpose: the breaker's job is to fail queries fast while Odoo is
// down (so the AI's own patience, not a timeout here, decides how long a
// question waits) and to spare a struggling Odoo the load — one probe every
// two seconds does both, and a short outage ends for Maria at most this long
// after Odoo is back, instead of a long cool-down later.
const DefaultBreakerCooldown = 2 * time.Second

// Breaker is a circuit breaker on Odoo's availability. It opens after
// Threshold consecutive availability failures (transport errors, 5xx,
// timeouts — not Odoo saying "no"), fails calls fast while open, lets one
// probe through after Cooldown (half-open), and closes on the probe's
// success or re-opens on its failure.
type Breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time
	onChange  func(BreakerState)

	mu       sync.Mutex
	state    BreakerState
	failures int
	openedAt time.Time
	probing  bool
	lastErr  string
}

// NewBreaker builds a closed breaker.
func NewBreaker(threshold int, cooldown time.Duration) *Breaker {
	if threshold < 1 {
		threshold = 1
	}
	if cooldown <= 0 {
		cooldown = DefaultBreakerCooldown
	}
	b := &Breaker{threshold: threshold, cooldown: cooldown, now: time.Now}
	metricBreakerState.Set(float64(BreakerClosed))
	return b
}

// State returns the current state (open turns half-open once the cool-down passed).
func (b *Breaker) State() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerOpen && b.now().Sub(b.openedAt) >= b.cooldown {
		return BreakerHalfOpen
	}
	return b.state
}

// Allow asks to make a call. It returns a typed unavailable error while
// the breaker is open, or while a half-open probe is already in flight.
// After an allowed call, report its outcome with Done.
func (b *Breaker) Allow() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return nil
	case BreakerOpen:
		wait := b.cooldown - b.now().Sub(b.openedAt)
		if wait > 0 {
			return b.openErr(wait)
		}
		b.set(BreakerHalfOpen)
	}
	if b.probing {
		return b.openErr(0)
	}
	b.probing = true
	return nil
}

func (b *Breaker) openErr(wait time.Duration) error {
	msg := fmt.Sprintf("Odoo is unavailable (circuit open after %d consecutive failures; last: %s)", b.threshold, b.lastErr)
	if wait > 0 {
		msg += fmt.Sprintf("; next attempt in %s", wait.Round(time.Second))
	} else {
		msg += "; a probe call is checking whether it is back"
	}
	return &odoo.Error{Kind: odoo.KindUnavailable, Op: "breaker", Message: msg, Retry: true}
}

// Done records the outcome of an allowed call. Odoo answering with a
// fault counts as success: it is up. A call abandoned by its caller
// (cancelled context) counts as neither.
func (b *Breaker) Done(err error, abandoned bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasProbe := b.state == BreakerHalfOpen && b.probing
	if wasProbe {
		b.probing = false
	}
	switch {
	case abandoned:
		return
	case err == nil || !odoo.IsUnavailable(err):
		b.failures = 0
		if b.state != BreakerClosed {
			b.set(BreakerClosed)
		}
	default:
		b.lastErr = errText(err)
		b.failures++
		if wasProbe || (b.state == BreakerClosed && b.failures >= b.threshold) {
			b.openedAt = b.now()
			b.set(BreakerOpen)
		}
	}
}

func errText(err error) string {
	if e, ok := odoo.AsError(err); ok && e.Message != "" {
		return e.Message
	}
	return err.Error()
}

func (b *Breaker) set(s BreakerState) {
	if b.state == s {
		return
	}
	b.state = s
	metricBreakerState.Set(float64(s))
	metricBreakerTransitions.WithLabelValues(s.String()).Inc()
	if b.onChange != nil {
		b.onChange(s)
	}
}

// Ready is a readiness check: an error while the breaker is open.
func (b *Breaker) Ready() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerOpen && b.now().Sub(b.openedAt) < b.cooldown {
		return fmt.Errorf("odoo circuit open after %d consecutive failures (last: %s)", b.threshold, b.lastErr)
	}
	return nil
}

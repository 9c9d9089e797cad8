package egress

import (
	"sync"
	"time"
)

// gate keeps a thread's commands in order while some of them wait for a
// retry, and delays a rate-limited channel's work, without holding a worker.
//
// JetStream redelivers a nak'd message after its delay, and meanwhile hands
// out the next messages. So when command S of thread K must be retried, S is
// recorded as pending in K's lane; a later command S' > S of K that arrives
// before S completed is nak'd too (with a delay just past S's retry time,
// staggered by its rank so the lane's redeliveries come back in order) and
// also recorded as pending. A command runs only when no command of its lane
// with a lower stream sequence is pending. Entries a replica will never see
// again (redelivered elsewhere, dead-lettered by the server) expire.
type gate struct {
	mu       sync.Mutex
	lanes    map[string]map[uint64]*pending
	channels map[string]time.Time // rate-limited until
	expiry   time.Duration
	now      func() time.Time
}

type pending struct {
	retryAt  time.Time
	failures int
}

const (
	minGateDelay = 100 * time.Millisecond
	gateStagger  = 25 * time.Millisecond
)

func newGate(expiry time.Duration) *gate {
	return &gate{lanes: map[string]map[uint64]*pending{}, channels: map[string]time.Time{}, expiry: expiry, now: time.Now}
}

// admit decides whether command seq of lane key (in channel) may run now.
// If not, it returns the delay to nak with and records seq as pending.
func (g *gate) admit(key, channel string, seq uint64) (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	lane := g.lanes[key]
	var latest time.Time
	rank := 0
	for s, p := range lane {
		if now.Sub(p.retryAt) > g.expiry {
			delete(lane, s)
			continue
		}
		if s < seq {
			rank++
			if p.retryAt.After(latest) {
				latest = p.retryAt
			}
		}
	}
	until, limited := g.channels[channel]
	if limited && !until.After(now) {
		delete(g.channels, channel)
		limited = false
	}
	if rank == 0 && !limited {
		return 0, true
	}
	if limited && until.After(latest) {
		latest = until
	}
	delay := max(latest.Sub(now), 0) + minGateDelay + time.Duration(rank)*gateStagger
	if lane == nil {
		lane = map[uint64]*pending{}
		g.lanes[key] = lane
	}
	p := lane[seq]
	if p == nil {
		p = &pending{}
		lane[seq] = p
	}
	p.retryAt = now.Add(delay)
	return delay, false
}

// retry records that seq failed and will be redelivered after delay;
// counted failures are returned (rate limits are not counted).
func (g *gate) retry(key string, seq uint64, delay time.Duration, count bool) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	lane := g.lanes[key]
	if lane == nil {
		lane = map[uint64]*pending{}
		g.lanes[key] = lane
	}
	p := lane[seq]
	if p == nil {
		p = &pending{}
		lane[seq] = p
	}
	p.retryAt = g.now().Add(delay)
	if count {
		p.failures++
	}
	return p.failures
}

// rateLimited closes channel until now+d.
func (g *gate) rateLimited(channel string, d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	until := g.now().Add(d)
	if until.After(g.channels[channel]) {
		g.channels[channel] = until
	}
}

// done forgets seq: it was delivered or dead-lettered.
func (g *gate) done(key string, seq uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if lane := g.lanes[key]; lane != nil {
		delete(lane, seq)
		if len(lane) == 0 {
			delete(g.lanes, key)
		}
	}
}

// forget drops the lanes drop selects (their partition moved elsewhere).
func (g *gate) forget(drop func(lane string) bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k := range g.lanes {
		if drop(k) {
			delete(g.lanes, k)
		}
	}
}

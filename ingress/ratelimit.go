package ingress

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// keyedLimiter is a token bucket per key (a user, a workspace). Idle
// buckets are forgotten so the map stays bounded by the active keys.
type keyedLimiter struct {
	mu      sync.Mutex
	perMin  int
	burst   int
	buckets map[string]*bucket
	lastGC  time.Time
	now     func() time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

func newKeyedLimiter(perMinute, burst int) *keyedLimiter {
	if perMinute <= 0 {
		return nil // disabled
	}
	if burst < 1 {
		burst = 1
	}
	return &keyedLimiter{perMin: perMinute, burst: burst, buckets: map[string]*bucket{}, now: time.Now}
}

// allow takes one token from key's bucket. A nil limiter allows everything.
func (k *keyedLimiter) allow(key string) bool {
	if k == nil {
		return true
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	// A bucket idle for longer than it takes to refill is full again: drop it.
	idle := time.Duration(float64(k.burst)/float64(k.perMin)*float64(time.Minute)) + time.Minute
	if now.Sub(k.lastGC) > idle {
		for key, b := range k.buckets {
			if now.Sub(b.seen) > idle {
				delete(k.buckets, key)
			}
		}
		k.lastGC = now
	}
	b := k.buckets[key]
	if b == nil {
		b = &bucket{l: rate.NewLimiter(rate.Limit(float64(k.perMin)/60), k.burst)}
		k.buckets[key] = b
	}
	b.seen = now
	return b.l.AllowN(now, 1)
}

// limits holds the door's per-user and per-workspace limits.
type limits struct {
	user, team *keyedLimiter
}

func newLimits(c Config) *limits {
	return &limits{user: newKeyedLimiter(c.UserRate, c.UserBurst), team: newKeyedLimiter(c.TeamRate, c.TeamBurst)}
}

// check returns "" when allowed, else the scope that refused (user, team).
func (l *limits) check(team, user string) string {
	if user != "" && !l.user.allow(team+"/"+user) {
		return "user"
	}
	if !l.team.allow(team) {
		return "team"
	}
	return ""
}

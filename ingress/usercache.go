package ingress

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// userCache remembers users.info answers for a while, bounded in size
// (least recently used evicted first), and coalesces concurrent lookups
// of one user: a burst of events from one user costs one Slack call.
type userCache struct {
	mu      sync.Mutex
	ttl     time.Duration // a successful answer
	errTTL  time.Duration // a failed lookup: a short pause, so a Slack outage does not cost every event a timeout
	size    int
	entries map[string]*list.Element // of *cacheEntry
	lru     *list.List               // front = most recently used
	flight  map[string]*lookupCall
	now     func() time.Time
}

type cacheEntry struct {
	key     string
	facts   userFacts
	err     error
	expires time.Time
}

type lookupCall struct {
	done  chan struct{}
	facts userFacts
	err   error
}

func newUserCache(ttl time.Duration, size int) *userCache {
	errTTL := 10 * time.Second
	if ttl < errTTL {
		errTTL = ttl
	}
	return &userCache{ttl: ttl, errTTL: errTTL, size: size, entries: map[string]*list.Element{}, lru: list.New(),
		flight: map[string]*lookupCall{}, now: time.Now}
}

// get returns key's cached answer, or runs fetch once for every concurrent
// caller. fetch gets a context that outlives any one caller (its own
// deadline bounds it); each caller stops waiting when its ctx ends.
// cached reports an answer served without calling fetch.
func (c *userCache) get(ctx context.Context, key string, fetch func(context.Context) (userFacts, error)) (facts userFacts, cached bool, err error) {
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cacheEntry)
		if c.now().Before(e.expires) {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return e.facts, true, e.err
		}
		c.lru.Remove(el)
		delete(c.entries, key)
	}
	call, joined := c.flight[key]
	if !joined {
		call = &lookupCall{done: make(chan struct{})}
		c.flight[key] = call
		go c.run(context.WithoutCancel(ctx), key, call, fetch)
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.facts, joined, call.err
	case <-ctx.Done():
		return userFacts{}, false, ctx.Err()
	}
}

func (c *userCache) run(ctx context.Context, key string, call *lookupCall, fetch func(context.Context) (userFacts, error)) {
	call.facts, call.err = fetch(ctx)
	c.mu.Lock()
	delete(c.flight, key)
	ttl := c.ttl
	if call.err != nil {
		ttl = c.errTTL
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry{key: key, facts: call.facts, err: call.err, expires: c.now().Add(ttl)})
	for c.lru.Len() > c.size {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry).key)
	}
	c.mu.Unlock()
	close(call.done)
}

// len is the number of cached users (tests).
func (c *userCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

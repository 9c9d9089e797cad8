package settings

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// DefaultCacheTTL bounds how long a replica serves settings it read: with
// a Watcher store a change reaches every replica at once and the TTL is
// only a backstop; without one (DynamoDB) it is how long a change takes.
const DefaultCacheTTL = 30 * time.Second

// Cache serves a team's effective settings (stored, completed by the
// defaults; the defaults alone before any save) from memory.
type Cache struct {
	store    Store
	defaults Defaults
	ttl      time.Duration
	now      func() time.Time
	log      zerolog.Logger

	mu      sync.Mutex
	entries map[string]cached
}

type cached struct {
	s       Settings
	expires time.Time
}

// NewCache caches store's settings for ttl (0: DefaultCacheTTL).
func NewCache(store Store, defaults Defaults, ttl time.Duration, log zerolog.Logger) *Cache {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	return &Cache{store: store, defaults: defaults, ttl: ttl, now: time.Now, log: log, entries: map[string]cached{}}
}

// Defaults are the settings of a workspace nobody configured.
func (c *Cache) Defaults() Defaults { return c.defaults }

// Store is the store behind the cache.
func (c *Cache) Store() Store { return c.store }

// Effective returns team's settings. A store failure is returned: callers
// decide (the AI fails the turn for a retry rather than guess at who may
// read the ERP).
func (c *Cache) Effective(ctx context.Context, team string) (Settings, error) {
	c.mu.Lock()
	e, ok := c.entries[team]
	c.mu.Unlock()
	if ok && c.now().Before(e.expires) {
		return e.s, nil
	}
	s, _, found, err := c.store.Get(ctx, team)
	if err != nil {
		return Settings{}, err
	}
	if found {
		s = c.defaults.Fill(s)
	} else {
		s = c.defaults.For(team)
	}
	c.mu.Lock()
	c.entries[team] = cached{s: s, expires: c.now().Add(c.ttl)}
	c.mu.Unlock()
	return s, nil
}

// Forget drops team's entry: the next read asks the store.
func (c *Cache) Forget(team string) {
	c.mu.Lock()
	delete(c.entries, team)
	c.mu.Unlock()
}

// Run follows the store's changes until ctx ends when it is a Watcher
// (restarting a watch that broke), else waits for ctx.
func (c *Cache) Run(ctx context.Context) error {
	w, ok := c.store.(Watcher)
	if !ok {
		<-ctx.Done()
		return nil
	}
	for ctx.Err() == nil {
		err := w.Watch(ctx, c.Forget)
		if ctx.Err() != nil {
			return nil
		}
		// Changes missed meanwhile: forget everything, then watch again.
		c.mu.Lock()
		clear(c.entries)
		c.mu.Unlock()
		c.log.Warn().Err(err).Msg("settings watch broke; cache cleared, watching again")
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

package erp

import (
	"container/list"
	"sync"
	"time"
)

// cache is an LRU of query replies with a TTL, invalidated per model.
//
// A read that started before a write to its model must not store its
// (possibly stale) answer after the invalidation: callers take a
// generation with gen() before asking Odoo and put() drops the answer when
// the model's generation moved meanwhile.
type cache struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	ll    *list.List // front = most recent
	items map[string]*list.Element
	gens  map[string]uint64
	now   func() time.Time
}

type cacheEntry struct {
	key     string
	model   string
	value   any
	expires time.Time
}

func newCache(max int, ttl time.Duration) *cache {
	return &cache{ttl: ttl, max: max, ll: list.New(), items: map[string]*list.Element{}, gens: map[string]uint64{}, now: time.Now}
}

func (c *cache) enabled() bool { return c != nil && c.max > 0 && c.ttl > 0 }

// get returns a fresh entry.
func (c *cache) get(key string) (any, bool) {
	if !c.enabled() {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if c.now().After(e.expires) {
		c.remove(el)
		return nil, false
	}
	c.ll.MoveToFront(el)
	return e.value, true
}

// gen returns the model's current generation.
func (c *cache) gen(model string) uint64 {
	if !c.enabled() {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gens[model]
}

// put stores value unless the model was invalidated since gen.
func (c *cache) put(key, model string, gen uint64, value any) {
	if !c.enabled() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[model] != gen {
		return
	}
	if el, ok := c.items[key]; ok {
		e := el.Value.(*cacheEntry)
		e.value, e.expires = value, c.now().Add(c.ttl)
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(&cacheEntry{key: key, model: model, value: value, expires: c.now().Add(c.ttl)})
	for c.ll.Len() > c.max {
		c.remove(c.ll.Back())
	}
}

// invalidate drops every entry of model and bumps its generation.
func (c *cache) invalidate(model string) int {
	if !c.enabled() {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[model]++
	n := 0
	for el := c.ll.Front(); el != nil; {
		next := el.Next()
		if el.Value.(*cacheEntry).model == model {
			c.remove(el)
			n++
		}
		el = next
	}
	return n
}

func (c *cache) len() int {
	if !c.enabled() {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

func (c *cache) remove(el *list.Element) {
	c.ll.Remove(el)
	delete(c.items, el.Value.(*cacheEntry).key)
}

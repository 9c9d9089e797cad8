package partition

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/mariahq/maria/bus/kv"
	"github.com/nats-io/nats.go/jetstream"
)

// members tracks the live replicas of a partitioned group through a KV
// bucket: each replica puts its key every heartbeat and watches the
// others'. Liveness is judged by the server's clock — an entry's Created is
// stamped by the server, and the newest stamp seen (this replica's own beat
// at most one heartbeat ago) stands for "now" — so a replica's skewed clock
// cannot declare anyone dead.
type members struct {
	kv      jetstream.KeyValue
	prefix  string // "<group>.members."
	self    string
	timeout time.Duration

	mu      sync.Mutex
	seen    map[string]time.Time // member → server time of its last beat
	now     time.Time            // newest server time seen
	changed chan struct{}        // signalled (non-blocking) when the view may have changed
}

func newMembers(kv jetstream.KeyValue, group string, timeout time.Duration) *members {
	return &members{kv: kv, prefix: group + ".members.", self: rand.Text(), timeout: timeout,
		seen: map[string]time.Time{}, changed: make(chan struct{}, 1)}
}

// beat announces this replica.
func (m *members) beat(ctx context.Context) error {
	if _, err := m.kv.Put(ctx, m.prefix+m.self, nil); err != nil {
		return fmt.Errorf("partition membership heartbeat: %w", err)
	}
	return nil
}

// leave withdraws this replica at once, so the others take over its
// partitions without waiting for the timeout.
func (m *members) leave(ctx context.Context) error {
	return m.kv.Delete(ctx, m.prefix+m.self)
}

// watch follows every member's beats until ctx ends.
func (m *members) watch(ctx context.Context) error {
	w, err := m.kv.Watch(ctx, m.prefix+"*")
	if err != nil {
		return fmt.Errorf("partition membership watch: %w", err)
	}
	if err := kv.Follow(ctx, w, func(e jetstream.KeyValueEntry) {
		m.record(e.Key()[len(m.prefix):], e.Operation() == jetstream.KeyValuePut, e.Created())
	}); err != nil {
		return fmt.Errorf("partition membership: %w", err)
	}
	return nil
}

func (m *members) record(id string, alive bool, at time.Time) {
	m.mu.Lock()
	if alive {
		m.seen[id] = at
	} else {
		delete(m.seen, id)
	}
	if at.After(m.now) {
		m.now = at
	}
	m.mu.Unlock()
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// live lists the members heard from within timeout of the newest beat,
// this replica always among them, sorted.
func (m *members) live() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []string{m.self}
	for id, at := range m.seen {
		if id != m.self && m.now.Sub(at) <= m.timeout {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

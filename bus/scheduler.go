package bus

import (
	"sync"
	"time"
)

// scheduler hands a processor's deliveries to its workers without
// head-of-line blocking. Each key has its own FIFO queue, created when its
// first message arrives and dropped when it empties; a key is runnable
// while it has queued messages and none being handled, and a free worker
// takes the runnable key that waited longest. So messages of one key are
// handled one at a time in delivery order, while a slow or stuck key only
// holds its own queue: other keys keep every other worker busy. Without a
// key function every message is its own queue, handled fully in parallel.
//
// The scheduler holds at most capacity messages (queued or being handled):
// the pull loop waits for room (acquire) instead of blocking on one key, so
// the replica never holds more unacknowledged messages than the consumer's
// MaxAckPending. Everything it holds is kept alive by the heartbeat.
type scheduler struct {
	keyed bool
	room  chan struct{} // one token per held message

	mu       sync.Mutex
	ready    sync.Cond
	queues   map[string]*keyQueue // keyed only: keys with queued or in-flight messages
	runnable []*keyQueue          // FIFO of queues with work and no handler running
	held     map[*delivery]struct{}
	inFlight int
	closed   bool // no more deliveries: workers exit when nothing is runnable
	stopping bool // stopping: queued messages are returned to the server, not handled
}

// keyQueue is the pending messages of one key.
type keyQueue struct {
	key  string
	msgs []*delivery
	busy bool // a worker is handling its head
}

// delivery is one message the scheduler holds.
type delivery struct {
	m    *Msg
	key  string
	beat time.Time // when it arrived or last got an InProgress
	// own is the one-message queue of an unkeyed delivery, kept inside it
	// so that scheduling a message allocates nothing more.
	own  keyQueue
	ownq [1]*delivery
}

func newScheduler(keyed bool, capacity int) *scheduler {
	s := &scheduler{keyed: keyed, room: make(chan struct{}, capacity), held: map[*delivery]struct{}{}}
	if keyed {
		s.queues = map[string]*keyQueue{}
	}
	s.ready.L = &s.mu
	return s
}

// acquire waits for room for one more message; false when abandon closed first.
func (s *scheduler) acquire(abandon <-chan struct{}) bool {
	select {
	case s.room <- struct{}{}:
		return true
	case <-abandon:
		return false
	}
}

// add queues d behind the messages of its key; the caller acquired room.
func (s *scheduler) add(d *delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held[d] = struct{}{}
	if !s.keyed {
		d.ownq[0] = d
		d.own.msgs = d.ownq[:]
		s.runnable = append(s.runnable, &d.own)
		s.ready.Signal()
		return
	}
	q := s.queues[d.key]
	if q == nil {
		q = &keyQueue{key: d.key}
		s.queues[d.key] = q
	}
	q.msgs = append(q.msgs, d)
	if !q.busy && len(q.msgs) == 1 {
		s.runnable = append(s.runnable, q)
		s.ready.Signal()
	}
}

// next blocks until a message is runnable and returns it with its queue,
// now busy; ok is false when the scheduler is closed and nothing is left.
// While stopping, drop is true: the caller returns the message to the
// server instead of handling it.
func (s *scheduler) next() (d *delivery, q *keyQueue, drop, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.runnable) == 0 {
		if s.closed {
			return nil, nil, false, false
		}
		s.ready.Wait()
	}
	q = s.runnable[0]
	s.runnable[0] = nil
	s.runnable = s.runnable[1:]
	d = q.msgs[0]
	q.msgs[0] = nil
	q.msgs = q.msgs[1:]
	q.busy = true
	if !s.stopping {
		s.inFlight++
	}
	return d, q, s.stopping, true
}

// done releases d after it was handled (or dropped): its key becomes
// runnable again if more messages wait, or is forgotten.
func (s *scheduler) done(d *delivery, q *keyQueue, dropped bool) {
	s.mu.Lock()
	delete(s.held, d)
	if !dropped {
		s.inFlight--
	}
	q.busy = false
	switch {
	case len(q.msgs) > 0:
		s.runnable = append(s.runnable, q)
		s.ready.Signal()
	case s.keyed:
		delete(s.queues, q.key)
	}
	s.mu.Unlock()
	<-s.room
}

// stop makes the workers return queued messages instead of handling them;
// the messages being handled finish.
func (s *scheduler) stop() {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
}

// close tells the workers no more messages come: they exit once nothing
// they could take is left.
func (s *scheduler) close() {
	s.mu.Lock()
	s.closed = true
	s.ready.Broadcast()
	s.mu.Unlock()
}

// due returns the held messages whose last heartbeat is older than age,
// marking them beaten now.
func (s *scheduler) due(now time.Time, age time.Duration) []*delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*delivery
	for d := range s.held {
		if now.Sub(d.beat) >= age {
			d.beat = now
			out = append(out, d)
		}
	}
	return out
}

// load reports the messages held and being handled, for tests and gauges.
func (s *scheduler) load() (held, inFlight int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held), s.inFlight
}

package failover

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
)

// failoverBound is the promise: a fault stalls work for at most this long.
const failoverBound = 5 * time.Second

// spec returns Maria's declared consumer durable, renamed for the test
// and reading every inbound message, so the timings under test are the
// production ones.
func spec(t *testing.T, durable, name string) schemas.ConsumerSpec {
	t.Helper()
	s, ok := schemas.ConsumerByName(durable)
	if !ok {
		t.Fatalf("consumer %s not declared", durable)
	}
	s.Durable, s.Stream, s.FilterSubjects = name, schemas.StreamIn, []string{schemas.SubjectInAll}
	return s
}

func publish(t *testing.T, b *bus.Bus, id string) {
	t.Helper()
	env, err := schemas.New(id, schemas.TypeSlackMessage, "test", schemas.SlackMessage{TS: "1.0", Text: id})
	if err != nil {
		t.Fatal(err)
	}
	env.Team, env.Channel = "T1", "C1"
	if _, err := b.Publish(context.Background(), schemas.InSubject(schemas.KindMessage, "T1", "C1"), env); err != nil {
		t.Fatal(err)
	}
}

// run starts p on b until the test ends.
func run(t *testing.T, b *bus.Bus, p bus.Processor) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = bus.Run(ctx, b, p) }()
	t.Cleanup(func() { cancel(); <-done })
}

// handover is what the replicas of one test saw: which replica got the
// message first, when it was killed, and when another one handled it.
type handover struct {
	mu      sync.Mutex
	first   int // replica that got the first delivery, -1 before
	started chan struct{}
	handled chan int // replica that handled a later delivery
}

func newHandover() *handover {
	return &handover{first: -1, started: make(chan struct{}), handled: make(chan int, 16)}
}

// handler of replica i: the first delivery hangs (the replica is about to
// be killed mid-handler, so it never acks); any later one is handled.
func (h *handover) handler(i int) bus.Handler {
	return func(ctx context.Context, m *bus.Msg) error {
		h.mu.Lock()
		if h.first == -1 {
			h.first = i
			h.mu.Unlock()
			close(h.started)
			<-ctx.Done()
			return ctx.Err()
		}
		h.mu.Unlock()
		h.handled <- i
		return nil
	}
}

// awaitHandover kills the replica that holds the message (its connection
// closed abruptly, no ack, no unpin) and returns how long until another
// replica handled it.
func awaitHandover(t *testing.T, h *handover, replicas []*bus.Bus) time.Duration {
	t.Helper()
	select {
	case <-h.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no replica received the message")
	}
	h.mu.Lock()
	victim := h.first
	h.mu.Unlock()
	// Let a heartbeat or two pass, so the handover is measured from a
	// handler that was kept alive, not from a fresh delivery.
	time.Sleep(1500 * time.Millisecond)
	killed := time.Now()
	replicas[victim].Conn().Close()
	select {
	case i := <-h.handled:
		took := time.Since(killed)
		if i == victim {
			t.Fatalf("the killed replica %d handled the message", i)
		}
		return took
	case <-time.After(3 * failoverBound):
		t.Fatalf("the message was not handed over within %s of the kill", 3*failoverBound)
		return 0
	}
}

// A processor replica killed mid-handler (no ack, connection gone): its
// message is handled by the other replica within the bound — the ack wait
// is short because live handlers send in-progress heartbeats.
func TestKilledReplicaMessageResumesElsewhere(t *testing.T) {
	for _, durable := range []string{"ai", "erp", "storage-files", "storage-history-in"} {
		t.Run(durable, func(t *testing.T) {
			b := bustest.New(t)
			h := newHandover()
			replicas := []*bus.Bus{bustest.Client(t, b, nil), bustest.Client(t, b, nil)}
			for i, r := range replicas {
				p := bus.FromSpec(spec(t, durable, "failover-"+durable), h.handler(i))
				p.Concurrency = 2
				run(t, r, p)
			}
			publish(t, b, "Ev-"+durable)
			took := awaitHandover(t, h, replicas)
			t.Logf("%s: handled by the other replica %s after the kill", durable, took.Round(time.Millisecond))
			if took > failoverBound {
				t.Fatalf("handover took %s, want at most %s", took, failoverBound)
			}
		})
	}
}

// Egress-style pinned consumer: the pinned replica vanishes without
// unpinning (kill -9), and the standby gets the next messages within the
// bound; the message the killed one held is redelivered to it too.
func TestPinnedStandbyTakesOverWithinBound(t *testing.T) {
	b := bustest.New(t)
	h := newHandover()
	replicas := []*bus.Bus{bustest.Client(t, b, nil), bustest.Client(t, b, nil)}
	var received [2]atomic.Int64
	for i, r := range replicas {
		inner := h.handler(i)
		p := bus.FromSpec(spec(t, "egress", "failover-egress"), func(ctx context.Context, m *bus.Msg) error {
			received[i].Add(1)
			return inner(ctx, m)
		})
		p.Concurrency = 2
		p.Pinned = true
		p.PinnedTTL = schemas.EgressPinnedTTL
		p.Key = func(m *bus.Msg) string { return m.Env.ID }
		run(t, r, p)
	}
	// Idle for longer than the pin's TTL first: an idle pinned replica
	// keeps its pin (it pulls again before the TTL runs out), so the pin
	// does not wander between live replicas.
	publish(t, b, "Ev-warm")
	<-h.started
	h.mu.Lock()
	holder := h.first
	h.mu.Unlock()
	time.Sleep(schemas.EgressPinnedTTL + time.Second)
	publish(t, b, "Ev-idle")
	select {
	case i := <-h.handled:
		if i != holder {
			t.Fatalf("after an idle pause replica %d got the message, but %d holds the pin", i, holder)
		}
	case <-time.After(failoverBound):
		t.Fatal("the pinned replica did not get a message after an idle pause")
	}

	killed := time.Now()
	replicas[holder].Conn().Close()
	publish(t, b, "Ev-after-kill")
	deadline := time.After(3 * failoverBound)
	seen := 0
	for seen < 2 { // the new message and the one the killed replica held
		select {
		case i := <-h.handled:
			if i == holder {
				t.Fatalf("the killed replica %d handled a message", i)
			}
			seen++
		case <-deadline:
			t.Fatalf("the standby handled %d of 2 messages within %s of the kill", seen, 3*failoverBound)
		}
	}
	took := time.Since(killed)
	t.Logf("pinned standby handled both messages %s after the kill", took.Round(time.Millisecond))
	if took > failoverBound {
		t.Fatalf("standby took over after %s, want at most %s", took, failoverBound)
	}
	if n := received[holder].Load(); n != 2 {
		t.Errorf("the killed pinned replica received %d messages, want 2 (it held the pin)", n)
	}
}

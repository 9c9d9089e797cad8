package bus_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
)

// publishKeyed publishes one message of thread key whose text is "key i".
func publishKeyed(t *testing.T, b *bus.Bus, key string, i int) {
	t.Helper()
	env := envelope(t, fmt.Sprintf("Ev-%s-%d", key, i), fmt.Sprintf("%s %d", key, i))
	env.ThreadTS = key
	if _, err := b.Publish(context.Background(), schemas.InSubject(schemas.KindMessage, "T1", "C1"), env); err != nil {
		t.Fatal(err)
	}
}

// keyAndIndex reads back what publishKeyed sent.
func keyAndIndex(t *testing.T, m *bus.Msg) (string, int) {
	msg, err := schemas.DecodeData[schemas.SlackMessage](m.Env)
	if err != nil {
		t.Error(err)
	}
	var key string
	var i int
	fmt.Sscanf(msg.Text, "%s %d", &key, &i)
	return key, i
}

func byThread(m *bus.Msg) string { return m.Env.ThreadTS }

// A handler stuck on one thread (a 15 s ERP timeout) must not delay any
// other thread of the replica, even with more messages of the stuck thread
// queued behind it. The old dispatcher blocked on the stuck worker's
// one-slot queue, and with it every thread after.
func TestStuckKeyDoesNotDelayOtherKeys(t *testing.T) {
	b := bustest.New(t)
	release := make(chan struct{})
	var releaseOnce sync.Once
	var mu sync.Mutex
	handled := map[string]int{}
	p := proc("stuck", func(ctx context.Context, m *bus.Msg) error {
		key, _ := keyAndIndex(t, m)
		if key == "stuck" {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		mu.Lock()
		handled[key]++
		mu.Unlock()
		return nil
	})
	p.Concurrency, p.Key, p.AckWait = 4, byThread, 30*time.Second
	run(t, b, p)
	// Registered after run's stop, so it runs first: a failed test does not
	// leave the handler stuck through the drain.
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	for i := range 3 {
		publishKeyed(t, b, "stuck", i)
	}
	for i := range 40 {
		publishKeyed(t, b, fmt.Sprintf("other%d", i), 0)
	}
	bustest.Eventually(t, 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled) == 40 && handled["stuck"] == 0
	}, "all 40 other threads handled while one thread is stuck")
	releaseOnce.Do(func() { close(release) })
	bustest.Eventually(t, 10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return handled["stuck"] == 3 }, "the stuck thread finishes")
}

// Per-key order holds with many keys handled concurrently, whatever each
// message's handling time.
func TestPerKeyOrderManyKeys(t *testing.T) {
	b := bustest.New(t)
	const keys, perKey = 50, 20
	var mu sync.Mutex
	got := map[string][]int{}
	total := 0
	p := proc("manykeys", func(ctx context.Context, m *bus.Msg) error {
		key, i := keyAndIndex(t, m)
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		mu.Lock()
		got[key] = append(got[key], i)
		total++
		mu.Unlock()
		return nil
	})
	p.Concurrency, p.Key, p.AckWait = 8, byThread, 30*time.Second
	run(t, b, p)
	for i := range perKey {
		for k := range keys {
			publishKeyed(t, b, fmt.Sprintf("k%d", k), i)
		}
	}
	bustest.Eventually(t, 30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return total == keys*perKey }, "all handled")
	mu.Lock()
	defer mu.Unlock()
	for k, seq := range got {
		for i, v := range seq {
			if v != i {
				t.Fatalf("key %s out of order: %v", k, seq)
			}
		}
	}
}

// Two threads whose keys the old dispatcher hashed to the same worker
// (fnv32a % Concurrency) no longer wait for each other: the first one's
// handler only returns once the second's was handled.
func TestKeysOfOneOldWorkerDoNotSerialize(t *testing.T) {
	const concurrency = 4
	worker := func(k string) uint32 { h := fnv.New32a(); h.Write([]byte(k)); return h.Sum32() % concurrency }
	first, second := "thread-0", ""
	for i := 1; second == ""; i++ {
		if k := fmt.Sprintf("thread-%d", i); worker(k) == worker(first) {
			second = k
		}
	}
	b := bustest.New(t)
	secondDone := make(chan struct{})
	var sawSecond atomic.Bool
	p := proc("sameworker", func(ctx context.Context, m *bus.Msg) error {
		switch key, _ := keyAndIndex(t, m); key {
		case first:
			select {
			case <-secondDone:
				sawSecond.Store(true)
			case <-time.After(5 * time.Second):
			}
		case second:
			close(secondDone)
		}
		return nil
	})
	p.Concurrency, p.Key, p.AckWait = concurrency, byThread, 30*time.Second
	run(t, b, p)
	publishKeyed(t, b, first, 0)
	publishKeyed(t, b, second, 0)
	bustest.Eventually(t, 10*time.Second, func() bool {
		select {
		case <-secondDone:
			return true
		default:
			return false
		}
	}, "second thread handled")
	bustest.Eventually(t, 10*time.Second, sawSecond.Load, "second thread handled while the first was still being handled")
}

// Unkeyed, the replica handles exactly Concurrency messages at once: never
// more, and all of them in parallel when there is work.
func TestInFlightReachesButNeverExceedsConcurrency(t *testing.T) {
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			b := bustest.New(t)
			const concurrency, n = 3, 60
			var cur, peak, done atomic.Int32
			p := proc("bounded", func(ctx context.Context, m *bus.Msg) error {
				c := cur.Add(1)
				for {
					old := peak.Load()
					if c <= old || peak.CompareAndSwap(old, c) {
						break
					}
				}
				time.Sleep(5 * time.Millisecond)
				cur.Add(-1)
				done.Add(1)
				return nil
			})
			p.Concurrency, p.MaxAckPending, p.AckWait = concurrency, 10, 30*time.Second
			if keyed {
				p.Key = byThread
			}
			for i := range n {
				publishKeyed(t, b, fmt.Sprintf("k%d", i), 0)
			}
			run(t, b, p)
			bustest.Eventually(t, 20*time.Second, func() bool { return done.Load() == n }, "all handled")
			if got := peak.Load(); got != concurrency {
				t.Errorf("peak in flight %d, want exactly Concurrency %d", got, concurrency)
			}
		})
	}
}

// The runtime heartbeats every message it holds: a handler running for
// several AckWaits keeps its message, and the message queued behind it on
// the same thread is not redelivered either.
func TestHeartbeatsKeepLongHandlersFromRedelivery(t *testing.T) {
	b := bustest.New(t)
	var mu sync.Mutex
	deliveries := map[int]int{}
	handled := map[int]int{}
	p := proc("longhandler", func(ctx context.Context, m *bus.Msg) error {
		_, i := keyAndIndex(t, m)
		mu.Lock()
		deliveries[i]++
		mu.Unlock()
		if i == 0 {
			select {
			case <-time.After(3500 * time.Millisecond): // three and a half AckWaits
			case <-ctx.Done():
			}
		}
		mu.Lock()
		handled[i]++
		mu.Unlock()
		return nil
	})
	p.Concurrency, p.Key, p.AckWait, p.MaxDeliver = 2, byThread, time.Second, 10
	run(t, b, p)
	publishKeyed(t, b, "long", 0)
	publishKeyed(t, b, "long", 1)
	bustest.Eventually(t, 15*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return handled[0] >= 1 && handled[1] >= 1 }, "both handled")
	// Anything redelivered before the acks would have been handled by now
	// (it is the only work): wait for the consumer to be idle, then count.
	bustest.Eventually(t, 10*time.Second, func() bool { return ackPending(t, b, "longhandler") == 0 }, "nothing pending")
	mu.Lock()
	defer mu.Unlock()
	if deliveries[0] != 1 || deliveries[1] != 1 {
		t.Errorf("deliveries %v, want each message delivered once", deliveries)
	}
}

func ackPending(t *testing.T, b *bus.Bus, consumer string) int {
	t.Helper()
	c, err := b.JetStream().Consumer(context.Background(), schemas.StreamIn, consumer)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.NumAckPending + int(info.NumRedelivered)
}

// TestGracefulStopLetsLongHandlersFinish: a stop waits DrainGrace, not the
// (short) AckWait, before cancelling running handlers, so a rolling restart
// does not cut a long AI turn short; the message is acked once.
func TestGracefulStopLetsLongHandlersFinish(t *testing.T) {
	b := bustest.New(t)
	started := make(chan struct{})
	var mu sync.Mutex
	var cancelled, finished, deliveries int
	p := proc("graceful", func(ctx context.Context, m *bus.Msg) error {
		mu.Lock()
		deliveries++
		first := deliveries == 1
		mu.Unlock()
		if first {
			close(started)
		}
		select {
		case <-time.After(2500 * time.Millisecond): // two and a half AckWaits
			mu.Lock()
			finished++
			mu.Unlock()
		case <-ctx.Done():
			mu.Lock()
			cancelled++
			mu.Unlock()
			return ctx.Err()
		}
		return nil
	})
	p.AckWait, p.DrainGrace = time.Second, 10*time.Second
	stop := run(t, b, p)
	publishKeyed(t, b, "slow", 0)
	<-started
	stop() // returns once the handler finished
	mu.Lock()
	defer mu.Unlock()
	if cancelled != 0 || finished != 1 || deliveries != 1 {
		t.Fatalf("cancelled %d, finished %d, deliveries %d: want the running handler to finish once", cancelled, finished, deliveries)
	}
	if n := ackPending(t, b, "graceful"); n != 0 {
		t.Fatalf("%d messages still pending after a graceful stop", n)
	}
}

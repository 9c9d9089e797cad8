package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/egress"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/slacksim"
	"github.com/nats-io/nats.go"
)

// slackLatency is how long the Slack simulator takes to answer a post:
// a real workspace answers chat.postMessage in tens of milliseconds, so an
// egress replica is bound by its lanes times that latency, not by CPU.
const slackLatency = 50 * time.Millisecond

// egressLanes is MARIA_EGRESS_CONCURRENCY for the benchmark: small enough
// that two replicas stay latency-bound on this 2-core machine.
const egressLanes = 8

// BenchmarkEgressReplicas measures egress' throughput (posts delivered per
// second) with 1 and 2 replicas sharing the partitions, Slack answering
// after 50 ms, on one embedded nats-server: each b.N is one post, spread
// over 64 channels with one thread each. Issue 17's goal: 2 replicas
// deliver ≥ 1.8× what one does.
func BenchmarkEgressReplicas(b *testing.B) {
	for _, replicas := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) { benchEgress(b, replicas) })
	}
}

func benchEgress(b *testing.B, replicas int) {
	const token = "xoxb-bench-egress"
	sim := slacksim.New(token)
	defer sim.Close()
	sim.Slow("chat.postMessage", slackLatency)
	srv := bustest.New(b)
	var delivered atomic.Int64
	sub, err := srv.Conn().Subscribe(schemas.SubjectDeliveredAll, func(*nats.Msg) { delivered.Add(1) })
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()

	ctx, cancel := context.WithCancel(context.Background())
	var es []*egress.Egress
	done := make(chan error, replicas)
	for range replicas {
		cfg := egress.DefaultConfig(token, sim.URL())
		cfg.Concurrency = egressLanes
		cfg.VerifyAuth = false
		e, err := egress.New(ctx, bustest.Client(b, srv, nil), egress.Options{Config: cfg})
		if err != nil {
			b.Fatal(err)
		}
		es = append(es, e)
		go func() { done <- e.Run(ctx) }()
	}
	defer func() {
		cancel()
		for range replicas {
			<-done
		}
	}()
	bustest.Eventually(b, 20*time.Second, func() bool { return ownAll(es) }, "the replicas do not own every partition")

	const channels = 64
	threads := make([]string, channels)
	for i := range threads {
		threads[i] = sim.AddUserMessage(channel(i), "U1", "question", "")
	}
	b.ResetTimer()
	start := time.Now()
	go func() {
		for n := range b.N {
			i := n % channels
			publishPost(b, srv, channel(i), threads[i], fmt.Sprintf("reply %d", n))
		}
	}()
	for delivered.Load() < int64(b.N) {
		if time.Since(start) > time.Duration(b.N)*slackLatency+time.Minute {
			b.Fatalf("%d of %d posts delivered", delivered.Load(), b.N)
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/took.Seconds(), "posts/s")
	for i, e := range es {
		b.Logf("replica %d owned partitions %v", i, e.Owned())
	}
}

func channel(i int) string { return fmt.Sprintf("C0BENCH%02d", i) }

// ownAll reports whether the replicas between them run every partition,
// each at least one.
func ownAll(es []*egress.Egress) bool {
	n := 0
	for _, e := range es {
		o := len(e.Owned())
		if o == 0 {
			return false
		}
		n += o
	}
	return n == egress.DefaultPartitions
}

func publishPost(b *testing.B, srv *bus.Bus, ch, thread, text string) {
	env, err := schemas.New("", schemas.TypeOutPost, "bench", schemas.OutPost{Text: text, ThreadTS: thread})
	if err != nil {
		b.Error(err)
		return
	}
	env.Team, env.Channel, env.ThreadTS = slacksim.TeamID, ch, thread
	if _, err := srv.Publish(context.Background(), schemas.OutSubject(slacksim.TeamID, ch), env); err != nil {
		b.Error(err)
	}
}

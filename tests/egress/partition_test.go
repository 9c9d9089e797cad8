package egress_test

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/egress"
	"github.com/mariahq/maria/schemas"
)

// failoverBound is issue 16's promise: a dead owner's work moves within it.
const failoverBound = 5 * time.Second

// counted makes a replica count the commands it delivered.
func counted(n *atomic.Int64, concurrency int) func(*egress.Options) {
	return func(o *egress.Options) {
		o.Config.Concurrency = concurrency
		o.Hooks.AfterRecord = func(*schemas.Envelope) error { n.Add(1); return nil }
	}
}

// spread reports whether the replicas own disjoint sets covering every partition.
func spread(es ...*egress.Egress) bool {
	var all []int
	for _, e := range es {
		o := e.Owned()
		if len(o) == 0 {
			return false
		}
		all = append(all, o...)
	}
	slices.Sort(all)
	if len(all) != egress.DefaultPartitions {
		return false
	}
	for i, p := range all {
		if p != i {
			return false
		}
	}
	return true
}

type thread struct{ ch, ts string }

func (r *rig) threads(n int) []thread {
	out := make([]thread, n)
	for i := range out {
		ch := fmt.Sprintf("C0PART%02d", i)
		out[i] = thread{ch, r.sim.AddUserMessage(ch, "U1", "question", "")}
	}
	return out
}

// rounds publishes n rounds of one reply per thread ("t<thread>-<round>"),
// calling after(k) after round k, and returns the last round's commands.
func (r *rig) rounds(ths []thread, n int, after func(k int)) []*schemas.Envelope {
	var last []*schemas.Envelope
	for k := range n {
		for i, th := range ths {
			env := r.publish(th.ch, th.ts, schemas.TypeOutPost, schemas.OutPost{Text: fmt.Sprintf("t%02d-%02d", i, k), ThreadTS: th.ts})
			if k == n-1 {
				last = append(last, env)
			}
		}
		if after != nil {
			after(k)
		}
	}
	return last
}

// inOrderOnce checks every thread got exactly its n replies, in order.
func (r *rig) inOrderOnce(ths []thread, n int) {
	r.t.Helper()
	for i, th := range ths {
		got := texts(r.sim.Thread(th.ch, th.ts))
		var want []string
		for k := range n {
			want = append(want, fmt.Sprintf("t%02d-%02d", i, k))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			r.t.Errorf("thread %d (%s):\n got %v\nwant %v", i, th.ch, got, want)
		}
	}
}

// Two replicas split the partitions between them, and both deliver.
func TestPartitionsSpreadAcrossReplicas(t *testing.T) {
	r := newBareRig(t)
	var n [2]atomic.Int64
	a, _ := r.startReplica(bustest.Client(t, r.b, nil), counted(&n[0], 4))
	b, _ := r.startReplica(bustest.Client(t, r.b, nil), counted(&n[1], 4))
	bustest.Eventually(t, 10*time.Second, func() bool { return spread(a, b) },
		"partitions not spread: %v and %v", a.Owned(), b.Owned())

	ths := r.threads(16)
	last := r.rounds(ths, 5, nil)
	for _, env := range last {
		r.waitDelivered(env.ID)
	}
	r.inOrderOnce(ths, 5)
	t.Logf("replica A owns %v and delivered %d, B owns %v and delivered %d", a.Owned(), n[0].Load(), b.Owned(), n[1].Load())
	if n[0].Load() == 0 || n[1].Load() == 0 {
		t.Errorf("one replica delivered nothing: %d and %d", n[0].Load(), n[1].Load())
	}
	if got := n[0].Load() + n[1].Load(); got != int64(len(ths)*5) {
		t.Errorf("%d deliveries recorded, want %d", got, len(ths)*5)
	}
	if len(r.dlq()) != 0 {
		t.Errorf("%d dead letters", len(r.dlq()))
	}
}

// One of two replicas dies mid-traffic (its connection cut, as by kill -9):
// the survivor owns every partition within the failover bound, and every
// thread gets each of its replies once, in order.
func TestPartitionOwnerFailsOverInOrder(t *testing.T) {
	r := newBareRig(t)
	r.sim.Slow("chat.postMessage", 20*time.Millisecond) // work in flight at the kill
	var n [2]atomic.Int64
	victimBus := bustest.Client(t, r.b, nil)
	victim, _ := r.startReplica(victimBus, counted(&n[0], 4))
	survivor, _ := r.startReplica(bustest.Client(t, r.b, nil), counted(&n[1], 4))
	bustest.Eventually(t, 10*time.Second, func() bool { return spread(victim, survivor) },
		"partitions not spread: %v and %v", victim.Owned(), survivor.Owned())

	const rounds = 15
	ths := r.threads(12)
	var killed time.Time
	last := r.rounds(ths, rounds, func(k int) {
		if k == 5 {
			bustest.Eventually(t, 10*time.Second, func() bool { return n[0].Load() > 0 }, "the victim delivered nothing before the kill")
			killed = time.Now()
			victimBus.Conn().Close()
		}
		time.Sleep(50 * time.Millisecond)
	})
	bustest.Eventually(t, 3*failoverBound, func() bool { return len(survivor.Owned()) == egress.DefaultPartitions },
		"the survivor owns %v after the kill", survivor.Owned())
	took := time.Since(killed)
	for _, env := range last {
		r.waitDelivered(env.ID)
	}
	t.Logf("survivor owned every partition %s after the kill; delivered: victim %d, survivor %d",
		took.Round(time.Millisecond), n[0].Load(), n[1].Load())
	if took > failoverBound {
		t.Errorf("the survivor took every partition %s after the kill, want at most %s", took, failoverBound)
	}
	r.inOrderOnce(ths, rounds)
	if len(r.dlq()) != 0 {
		t.Errorf("%d dead letters", len(r.dlq()))
	}
}

// A replica stopping gracefully hands its partitions over at once: the
// other owns them all well within the failover bound, nothing is lost.
func TestStoppedReplicaHandsPartitionsOver(t *testing.T) {
	r := newBareRig(t)
	var n [2]atomic.Int64
	leaving, stop := r.startReplica(bustest.Client(t, r.b, nil), counted(&n[0], 4))
	staying, _ := r.startReplica(bustest.Client(t, r.b, nil), counted(&n[1], 4))
	bustest.Eventually(t, 10*time.Second, func() bool { return spread(leaving, staying) },
		"partitions not spread: %v and %v", leaving.Owned(), staying.Owned())
	ths := r.threads(8)
	last := r.rounds(ths, 6, func(k int) {
		if k == 2 {
			if err := stop(); err != nil {
				t.Errorf("graceful stop: %v", err)
			}
		}
	})
	start := time.Now()
	bustest.Eventually(t, failoverBound, func() bool { return len(staying.Owned()) == egress.DefaultPartitions },
		"the staying replica owns %v", staying.Owned())
	t.Logf("hand-over took %s", time.Since(start).Round(time.Millisecond))
	for _, env := range last {
		r.waitDelivered(env.ID)
	}
	r.inOrderOnce(ths, 6)
}

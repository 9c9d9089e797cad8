// Package partition spreads a processor's partitions over the live
// replicas of a group (see Group).
package partition

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Group spreads a processor's partitions over the live replicas of a
// group: each partition is its own pinned durable consumer (a slice of the
// stream, e.g. through a stream subject transform's partition token), and
// each replica runs the partitions it owns. Ownership is rendezvous
// hashing over the live members capped at a fair share (see owners and
// members). The pinned priority group keeps delivery
// exclusive while two replicas briefly disagree on the owner: the old owner
// drains, hands the pin over (unpin), and only then does the new one get
// messages — so order per key holds across the move.
type Group struct {
	// Name names the replicas that share the partitions (membership keys
	// are "<Name>.members.<id>").
	Name string
	// Members is the KV bucket holding the membership heartbeats.
	Members jetstream.KeyValue
	// Partitions are the processors, one per partition; each must be Pinned.
	Partitions []bus.Processor
	// Heartbeat is how often a replica announces itself (default 500ms);
	// Timeout is how long a silent one keeps its partitions (default 2s).
	// A killed owner's partitions move after about Timeout, plus the
	// pinned TTL left of its last pull.
	Heartbeat, Timeout time.Duration
	// OnAcquire runs when partition i is about to start on this replica,
	// before it pulls (e.g. to note what a previous owner left in flight).
	OnAcquire func(ctx context.Context, i int)
	// OnRelease runs after partition i stopped on this replica (drained
	// and unpinned), e.g. to forget in-memory state about its keys.
	OnRelease func(i int)
}

var metricPartitionsOwned = promauto.NewGaugeVec(prometheus.GaugeOpts{
	Name: "maria_partitions_owned",
	Help: "Partitions of a partitioned processor this replica runs right now.",
}, []string{"group"})

// partitionRun is one partition running on this replica.
type partitionRun struct {
	cancel  context.CancelFunc
	err     error
	leaving bool // cancelled, still draining
}

// Run runs the partitions this replica owns until ctx ends or
// one of them fails for good (its error is returned, the others drained).
// owned, when set, is told the partitions this replica runs whenever they
// may have changed (for tests and probes).
func Run(ctx context.Context, b *bus.Bus, pp Group, owned func([]int)) error {
	if pp.Name == "" || pp.Members == nil || len(pp.Partitions) == 0 {
		return errors.New("partition group needs Name, Members and Partitions")
	}
	for _, p := range pp.Partitions {
		if !p.Pinned {
			return fmt.Errorf("partition %s must be pinned: delivery must stay exclusive while owners change", p.Name)
		}
	}
	if pp.Heartbeat <= 0 {
		pp.Heartbeat = 500 * time.Millisecond
	}
	if pp.Timeout <= 0 {
		pp.Timeout = 2 * time.Second
	}
	m := newMembers(pp.Members, pp.Name, pp.Timeout)
	if err := m.beat(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watchErr := make(chan error, 1)
	go func() { watchErr <- m.watch(watchCtx) }()

	runs := map[int]*partitionRun{}
	ended := make(chan int, len(pp.Partitions))
	var failure error
	stopping := false // left the group: draining what runs, starting nothing
	reconcile := func() {
		own := owners(m.live(), len(pp.Partitions))
		for i := range pp.Partitions {
			mine := !stopping && own[i] == m.self
			r := runs[i]
			switch {
			case mine && r == nil:
				rctx, cancel := context.WithCancel(ctx)
				r = &partitionRun{cancel: cancel}
				runs[i] = r
				go func(i int, r *partitionRun) {
					if pp.OnAcquire != nil {
						pp.OnAcquire(rctx, i)
					}
					r.err = bus.Run(rctx, b, pp.Partitions[i])
					ended <- i
				}(i, r)
			case !mine && r != nil && !r.leaving:
				r.leaving = true
				r.cancel()
			}
		}
		var mineNow []int
		for i, r := range runs {
			if !r.leaving {
				mineNow = append(mineNow, i)
			}
		}
		metricPartitionsOwned.WithLabelValues(pp.Name).Set(float64(len(mineNow)))
		if owned != nil {
			owned(mineNow)
		}
	}

	beat := time.NewTicker(pp.Heartbeat)
	defer beat.Stop()
	done := ctx.Done()
	reconcile()
	for len(runs) > 0 || !stopping {
		select {
		case <-done:
			done = nil
		case <-beat.C:
			if stopping {
				break // left the group: beating again would rejoin it
			}
			if err := m.beat(ctx); err != nil && ctx.Err() == nil {
				b.Log.Warn().Err(err).Str("group", pp.Name).Msg("partition heartbeat failed; retrying")
			}
		case <-m.changed:
		case err := <-watchErr:
			if failure == nil && err != nil {
				failure = err
			}
			watchErr = nil
		case i := <-ended:
			r := runs[i]
			delete(runs, i)
			if r.err != nil && failure == nil {
				failure = fmt.Errorf("partition %d: %w", i, r.err)
			}
			if pp.OnRelease != nil {
				pp.OnRelease(i)
			}
		}
		if !stopping && (ctx.Err() != nil || failure != nil) {
			stopping = true
			leave(ctx, b, m)
		}
		reconcile()
	}
	return failure
}

// leave withdraws the replica from the group, so the others start pulling
// its partitions while it drains; its pins move as each drained partition
// unpins.
func leave(ctx context.Context, b *bus.Bus, m *members) {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := m.leave(lctx); err != nil {
		b.Log.Warn().Err(err).Msg("leaving the partition group failed; the others take over after its timeout")
	}
}

// owners assigns each of n partitions to a live member by rendezvous
// (highest random weight) hashing capped at a fair share: every member
// computes the same owners from the same view, each owns at most ⌈n/live⌉
// partitions (two replicas split 8 as 4 + 4, never 7 + 1), and a member
// arriving or leaving moves few partitions besides its own share.
func owners(live []string, n int) []string {
	out := make([]string, n)
	if len(live) == 0 {
		return out
	}
	share := (n + len(live) - 1) / len(live)
	owned := map[string]int{}
	for i := range n {
		var best string
		var top uint64
		for _, id := range live {
			if owned[id] >= share {
				continue
			}
			if w := weight(id, i); best == "" || w > top {
				best, top = id, w
			}
		}
		out[i] = best
		owned[best]++
	}
	return out
}

// weight is member id's rendezvous weight for partition i.
func weight(id string, i int) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	_, _ = h.Write([]byte{'/'})
	_, _ = h.Write([]byte(strconv.Itoa(i)))
	return mix(h.Sum64())
}

// mix scrambles FNV's output (splitmix64's finalizer): FNV alone keeps
// inputs differing in their last byte close, which skews rendezvous
// weights towards the same member.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

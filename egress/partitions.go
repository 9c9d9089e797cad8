package egress

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/partition"
	"github.com/mariahq/maria/schemas"
)

// DefaultPartitions is MARIA_EGRESS_PARTITIONS' default: enough to spread
// over a handful of replicas, few enough that each is a cheap consumer.
const DefaultPartitions = 8

// Egress scales out by partitions. MARIA_OUT stores every command with a
// slot token, a hash of its (team, channel) (schemas.OutSlotTransform):
// partition i is the durable consumer "egress-<i>-of-<n>" over the slots s
// with s mod n = i, pinned to one replica at a time. The live replicas
// share the partitions (partition.Run), so:
//   - a thread's commands, and every thread of a channel, are handled by
//     one replica: per-thread order and the per-channel 429 gate stay in
//     that replica's memory, as before;
//   - n replicas deliver up to n times what one does (Slack's latency, not
//     CPU, bounds a replica: MARIA_EGRESS_CONCURRENCY calls at a time);
//   - a dead replica's partitions move to the survivors within seconds
//     (membership timeout plus the pinned TTL), a stopping one's at once.
//
// The consumer names carry n: a different n is a different set of
// consumers (see README, "Scaling out").

// partitionName is the durable consumer of partition i of n.
func partitionName(i, n int) string { return fmt.Sprintf("%s-%d-of-%d", Name, i, n) }

// partitionFilters are the MARIA_OUT subjects of partition i of n.
// Partition 0 also takes commands stored before MARIA_OUT had its slot
// transform (four tokens, no slot), so an upgrade leaves none behind.
func partitionFilters(i, n int) []string {
	var f []string
	if i == 0 {
		f = append(f, "maria.out.*.*")
	}
	for s := i; s < schemas.OutSlots; s += n {
		f = append(f, schemas.OutSlotFilter(s))
	}
	return f
}

// slotOf is the slot token of a command's stored subject, -1 without one.
func slotOf(subject string) int {
	if strings.Count(subject, ".") != 4 {
		return -1
	}
	n, err := strconv.Atoi(subject[strings.LastIndexByte(subject, '.')+1:])
	if err != nil {
		return -1
	}
	return n
}

// partitionOf is the partition of n holding a command's stored subject.
func partitionOf(subject string, n int) int {
	if s := slotOf(subject); s >= 0 {
		return s % n
	}
	return 0
}

// Processors are egress' consumers, one per partition: Key =
// team/channel/thread, pinned (the per-thread order gate lives in process
// memory, so one replica at a time delivers a partition).
func (e *Egress) Processors() []bus.Processor {
	n := e.cfg.Partitions
	ps := make([]bus.Processor, n)
	for i := range n {
		p := bus.FromSpec(e.spec, e.handle)
		p.Name = partitionName(i, n)
		p.Source = Name // deliveries and spans say "egress", whatever the partition
		p.Subjects = partitionFilters(i, n)
		// Each partition may use all of the replica's lanes; the
		// replica-wide bound is e.lanes.
		p.Concurrency = e.cfg.Concurrency
		p.Key = OrderKey
		p.Pinned = true
		p.PinnedTTL = e.spec.PinnedTTL // a dead owner's pin moves in seconds
		p.Log = &e.log
		ps[i] = p
	}
	return ps
}

// Run consumes the partitions this replica owns until ctx ends.
func (e *Egress) Run(ctx context.Context) error {
	return partition.Run(ctx, e.b, partition.Group{
		Name: Name, Members: e.st.bucket, Partitions: e.Processors(),
		OnAcquire: e.acquired, OnRelease: e.released,
	}, e.owned.set)
}

// Owned lists the partitions this replica runs now (ascending).
func (e *Egress) Owned() []int { return e.owned.get() }

// released forgets the order-gate lanes of a partition that moved to
// another replica: it delivers them now, and stale pending entries here
// would hold them back should the partition come back.
func (e *Egress) released(i int) {
	e.gate.forget(func(lane string) bool { return laneIndex(lane) == i })
	e.holds.mu.Lock()
	delete(e.holds.by, i)
	e.holds.mu.Unlock()
}

// laneKey is a command's order-gate lane: its thread, prefixed by its
// partition so a partition's lanes can be forgotten together.
func (e *Egress) laneKey(m *bus.Msg) string {
	return strconv.Itoa(partitionOf(m.Subject, e.cfg.Partitions)) + "|" + orderKey(m.Env)
}

func laneIndex(lane string) int {
	n, err := strconv.Atoi(lane[:max(strings.IndexByte(lane, '|'), 0)])
	if err != nil {
		return -1
	}
	return n
}

// ownedSet is the partitions a replica runs, for Owned.
type ownedSet struct {
	mu sync.Mutex
	v  []int
}

func (o *ownedSet) set(v []int) {
	v = slices.Clone(v)
	slices.Sort(v)
	o.mu.Lock()
	o.v = v
	o.mu.Unlock()
}

func (o *ownedSet) get() []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.v)
}

// lanes bounds the Slack calls a replica makes at once, whatever
// partitions it owns.
type lanes chan struct{}

func (l lanes) acquire(ctx context.Context) error {
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l lanes) release() { <-l }

package ai

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
)

// Two replicas counting tokens at once lose no increment.
func TestBudgetConcurrentAddsLoseNothing(t *testing.T) {
	b := bustest.New(t)
	other := bustest.Client(t, b, nil)
	ctx := context.Background()
	var reps [2]*Budgets
	var err error
	if reps[0], err = OpenBudgets(ctx, b.JetStream(), 1, 0, 0); err != nil {
		t.Fatal(err)
	}
	if reps[1], err = OpenBudgets(ctx, other.JetStream(), 1, 0, 0); err != nil {
		t.Fatal(err)
	}
	const writers, each = 12, 7
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			if err := reps[i%2].Add(ctx, "T1", fmt.Sprintf("U%d", i%3), each); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	user, team, err := reps[0].Used(ctx, "T1", "U0")
	if err != nil || team != writers*each || user != writers/3*each {
		t.Fatalf("used: user %d team %d (%v), want user %d team %d", user, team, err, writers/3*each, writers*each)
	}
	// A corrupt counter counts from zero rather than failing every turn.
	uk, _ := reps[0].keys("T1", "U9")
	raw, err := b.JetStream().KeyValue(ctx, BudgetBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Put(ctx, uk, []byte("not a number")); err != nil {
		t.Fatal(err)
	}
	if err := reps[0].Add(ctx, "T1", "U9", 3); err != nil {
		t.Fatal(err)
	}
	if user, _, err := reps[0].Used(ctx, "T1", "U9"); err != nil || user != 3 {
		t.Fatalf("after reset: %d, %v", user, err)
	}
}

// Concurrent clicks on one proposal: exactly one transition wins, the
// others are told so (false) and change nothing.
func TestProposalTransitionExactlyOneWins(t *testing.T) {
	b := bustest.New(t)
	other := bustest.Client(t, b, nil)
	ctx := context.Background()
	s1, err := OpenProposals(ctx, b.JetStream(), 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := OpenProposals(ctx, other.JetStream(), 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proposal{Proposal: schemas.Proposal{ID: "P-race", Status: ProposalPending, User: "U1"}}
	if _, err := s1.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	// A redelivered turn creating it again gets the stored one.
	again, err := s2.Create(ctx, &Proposal{Proposal: schemas.Proposal{ID: "P-race", Status: ProposalCancelled}})
	if err != nil || again.Status != ProposalPending {
		t.Fatalf("second Create = %+v, %v; want the stored pending proposal", again, err)
	}
	const clickers = 10
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range clickers {
		wg.Go(func() {
			s := []*Proposals{s1, s2}[i%2]
			loaded, err := s.Get(ctx, "P-race")
			if err != nil {
				t.Error(err)
				return
			}
			if loaded.Status != ProposalPending {
				return // another click already decided
			}
			won, err := s.Transition(ctx, loaded, func(n *Proposal) { n.Status, n.Outcome = ProposalConfirmed, fmt.Sprint(i) })
			if err != nil {
				t.Error(err)
			}
			if won {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d transitions won, want exactly 1", wins.Load())
	}
	final, err := s1.Get(ctx, "P-race")
	if err != nil || final.Status != ProposalConfirmed || final.Outcome == "" {
		t.Fatalf("final = %+v, %v", final, err)
	}
	// A transition on the revision the winner replaced is refused.
	if won, err := s1.Transition(ctx, again, func(n *Proposal) { n.Status = ProposalCancelled }); won || err != nil {
		t.Fatalf("stale transition = %v, %v; want false, nil", won, err)
	}
}

// A corrupt thread record reads as an empty thread and is overwritten by
// the next append, so it cannot wedge the thread.
func TestMemoryCorruptRecordStartsOver(t *testing.T) {
	b := bustest.New(t)
	ctx := context.Background()
	m, err := OpenMemory(ctx, b.JetStream(), 1, 100000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.JetStream().KeyValue(ctx, MemoryBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Put(ctx, "T.C.bad", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	th, found, err := m.Load(ctx, "T.C.bad")
	if err != nil || !found || len(th.Entries) != 0 {
		t.Fatalf("Load of a corrupt record = %+v, %v, %v", th, found, err)
	}
	if err := m.Append(ctx, "T.C.bad", 0, Entry{ID: "1", Role: RoleUser, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if th, _, err := m.Load(ctx, "T.C.bad"); err != nil || len(th.Entries) != 1 {
		t.Fatalf("after append: %+v, %v", th, err)
	}
}

// AppendLoaded writes on the revision the turn read; when another writer
// saved the thread in between, nothing of either is lost.
func TestMemoryAppendLoaded(t *testing.T) {
	b := bustest.New(t)
	ctx := context.Background()
	m, err := OpenMemory(ctx, b.JetStream(), 1, 100000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		existing bool // the thread is stored before the turn reads it
		racer    bool // another writer saves after the read
		want     []string
	}{
		{"new thread", false, false, []string{"q"}},
		{"known thread", true, false, []string{"old", "q"}},
		{"new thread written meanwhile", false, true, []string{"other", "q"}},
		{"known thread written meanwhile", true, true, []string{"old", "other", "q"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "T.C." + strings.ReplaceAll(tc.name, " ", "_")
			if tc.existing {
				if err := m.Append(ctx, key, 0, Entry{ID: "old", Role: RoleUser, Text: "old"}); err != nil {
					t.Fatal(err)
				}
			}
			th, _, err := m.Load(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if tc.racer {
				if err := m.Append(ctx, key, 0, Entry{ID: "other", Role: RoleUser, Text: "other"}); err != nil {
					t.Fatal(err)
				}
			}
			if err := m.AppendLoaded(ctx, key, th, 0, Entry{ID: "q", Role: RoleUser, Text: "q"}); err != nil {
				t.Fatal(err)
			}
			got, _, err := m.Load(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range got.Entries {
				ids = append(ids, e.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("entries %v, want %v", ids, tc.want)
			}
		})
	}
}

package ai

import (
	"context"
	"fmt"
	"time"

	"github.com/mariahq/maria/bus/kv"
	"github.com/nats-io/nats.go/jetstream"
)

// BudgetBucket holds daily token counters.
const BudgetBucket = "maria_ai_budget"

// Budgets counts tokens per user and per workspace per UTC day in a KV
// bucket (keys expire after two days) and refuses new questions once a
// budget is spent. A limit of 0 means unlimited. A counter is a decimal
// number (its JSON form); increments are kv.Store updates, so concurrent
// replicas lose none, and a corrupt counter counts from zero.
type Budgets struct {
	counters  kv.Store[int64]
	userLimit int
	teamLimit int
	now       func() time.Time
}

// OpenBudgets opens (or creates) the budget bucket.
func OpenBudgets(ctx context.Context, js jetstream.JetStream, replicas, userLimit, teamLimit int) (*Budgets, error) {
	b, err := kv.Open(ctx, js, kv.Config{
		Bucket:      BudgetBucket,
		Description: "maria ai: tokens used per user and per workspace per day",
		TTL:         48 * time.Hour,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("budget bucket: %w", err)
	}
	return &Budgets{counters: kv.Typed[int64](b).ResetCorrupt(), userLimit: userLimit, teamLimit: teamLimit, now: time.Now}, nil
}

func (b *Budgets) keys(team, user string) (userKey, teamKey string) {
	day := b.now().UTC().Format("20060102")
	return "u." + kvSafe(team) + "." + kvSafe(user) + "." + day, "t." + kvSafe(team) + "." + day
}

// Exceeded reports which budget ("user" or "team") is spent, or "".
func (b *Budgets) Exceeded(ctx context.Context, team, user string) (string, error) {
	uk, tk := b.keys(team, user)
	if b.userLimit > 0 {
		n, err := b.get(ctx, uk)
		if err != nil {
			return "", err
		}
		if n >= int64(b.userLimit) {
			return "user", nil
		}
	}
	if b.teamLimit > 0 {
		n, err := b.get(ctx, tk)
		if err != nil {
			return "", err
		}
		if n >= int64(b.teamLimit) {
			return "team", nil
		}
	}
	return "", nil
}

// Used returns today's counts for a user and their workspace.
func (b *Budgets) Used(ctx context.Context, team, user string) (userTokens, teamTokens int64, err error) {
	uk, tk := b.keys(team, user)
	if userTokens, err = b.get(ctx, uk); err != nil {
		return 0, 0, err
	}
	teamTokens, err = b.get(ctx, tk)
	return userTokens, teamTokens, err
}

// Add counts tokens against both budgets.
func (b *Budgets) Add(ctx context.Context, team, user string, tokens int) error {
	if tokens <= 0 {
		return nil
	}
	uk, tk := b.keys(team, user)
	if err := b.incr(ctx, uk, int64(tokens)); err != nil {
		return err
	}
	return b.incr(ctx, tk, int64(tokens))
}

func (b *Budgets) get(ctx context.Context, key string) (int64, error) {
	e, _, err := b.counters.Get(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("budget get: %w", err)
	}
	return e.Value, nil
}

func (b *Budgets) incr(ctx context.Context, key string, by int64) error {
	_, err := b.counters.Update(ctx, key, func(n int64, _ bool) (int64, error) { return n + by, nil })
	if err != nil {
		return fmt.Errorf("budget add: %w", err)
	}
	return nil
}

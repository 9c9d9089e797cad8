package ai

import (
	"context"
	"errors"
	"fmt"
	"github.com/mariahq/maria/bus/kv"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// BudgetBucket holds daily token counters.
const BudgetBucket = "maria_ai_budget"

// Budgets counts tokens per user and per workspace per UTC day in a KV
// bucket (keys expire after two days) and refuses new questions once a
// budget is spent. A limit of 0 means unlimited.
type Budgets struct {
	kv        jetstream.KeyValue
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
	return &Budgets{kv: b, userLimit: userLimit, teamLimit: teamLimit, now: time.Now}, nil
}

func (b *Budgets) keys(team, user string) (userKey, teamKey string) {
	day := b.now().UTC().Format("20060102")
	return "u." + kvSafe(team) + "." + kvSafe(user) + "." + day, "t." + kvSafe(team) + "." + day
}

// Exceeded reports which budget ("user" or "team") is spent, or "".
func (b *Budgets) Exceeded(ctx context.Context, team, user string) (string, error) {
	uk, tk := b.keys(team, user)
	if b.userLimit > 0 {
		n, _, err := b.get(ctx, uk)
		if err != nil {
			return "", err
		}
		if n >= int64(b.userLimit) {
			return "user", nil
		}
	}
	if b.teamLimit > 0 {
		n, _, err := b.get(ctx, tk)
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
	if userTokens, _, err = b.get(ctx, uk); err != nil {
		return 0, 0, err
	}
	teamTokens, _, err = b.get(ctx, tk)
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

func (b *Budgets) get(ctx context.Context, key string) (int64, uint64, error) {
	e, err := b.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("budget get: %w", err)
	}
	n, err := strconv.ParseInt(string(e.Value()), 10, 64)
	if err != nil {
		return 0, e.Revision(), nil // corrupt counter: count from zero
	}
	return n, e.Revision(), nil
}

func (b *Budgets) incr(ctx context.Context, key string, by int64) error {
	for attempt := 0; attempt < 50; attempt++ {
		if attempt > 0 {
			if err := conflictPause(ctx, attempt); err != nil {
				return fmt.Errorf("budget add: %w", err)
			}
		}
		n, rev, err := b.get(ctx, key)
		if err != nil {
			return err
		}
		val := []byte(strconv.FormatInt(n+by, 10))
		if rev == 0 {
			_, err = b.kv.Create(ctx, key, val)
		} else {
			_, err = b.kv.Update(ctx, key, val, rev)
		}
		if err == nil {
			return nil
		}
		if !isConflict(err) {
			return fmt.Errorf("budget add: %w", err)
		}
	}
	return errors.New("budget add: too many concurrent updates")
}

package installs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Refreshed is a rotated token pair from oauth.v2.access
// (grant_type=refresh_token).
type Refreshed struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
}

// Refresher spends a refresh token for a new token pair (slackoauth.Client).
type Refresher interface {
	Refresh(ctx context.Context, refreshToken string) (Refreshed, error)
}

// Tokens hands out the bot token of a team from a Store, refreshing a
// rotating token before it expires. Replicas sharing the store refresh a
// token once: the refresher first takes a lease on the installation
// (compare-and-set of RefreshingUntil), and the others wait for its result,
// because a refresh token stops working once it has been used.
type Tokens struct {
	Store     Store
	Refresher Refresher
	// Skew refreshes this long before expiry (default 10 minutes).
	Skew time.Duration
	// Lease bounds one refresh; a replica that died mid-refresh holds the
	// others back at most this long (default 30 s).
	Lease time.Duration
	// CacheFor keeps a looked-up installation in memory (default 5 s): an
	// uninstall reaches this process within it.
	CacheFor time.Duration
	// Now is the clock (tests).
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cached
	teams map[string]*sync.Mutex // one lookup or refresh per team at a time
}

type cached struct {
	rec Record
	at  time.Time
}

func (t *Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// BotToken is the bot token for team; ErrNotInstalled when Maria is not
// installed there.
func (t *Tokens) BotToken(ctx context.Context, team string) (string, error) {
	rec, err := t.Installation(ctx, team)
	if err != nil {
		return "", err
	}
	return rec.BotToken, nil
}

// Installation is the installation serving team, its bot token valid for
// at least Skew.
func (t *Tokens) Installation(ctx context.Context, team string) (Record, error) {
	if team == "" {
		return Record{}, fmt.Errorf("no team on the message: %w", ErrNotInstalled)
	}
	lock := t.teamLock(team)
	lock.Lock()
	defer lock.Unlock()
	now := t.now()
	skew := durationOr(t.Skew, 10*time.Minute)
	t.mu.Lock()
	c, ok := t.cache[team]
	t.mu.Unlock()
	if ok && now.Sub(c.at) < durationOr(t.CacheFor, 5*time.Second) && !c.rec.Expiring(now, skew) {
		return c.rec, nil
	}
	rec, err := t.fresh(ctx, team, skew)
	t.mu.Lock()
	if err == nil {
		t.cache[team] = cached{rec: rec, at: now}
	} else {
		delete(t.cache, team)
	}
	t.mu.Unlock()
	return rec, err
}

// Forget drops what this process remembers of team (after an uninstall it
// handled itself).
func (t *Tokens) Forget(team string) {
	t.mu.Lock()
	delete(t.cache, team)
	t.mu.Unlock()
}

func (t *Tokens) teamLock(team string) *sync.Mutex {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.teams == nil {
		t.teams, t.cache = map[string]*sync.Mutex{}, map[string]cached{}
	}
	l, ok := t.teams[team]
	if !ok {
		l = &sync.Mutex{}
		t.teams[team] = l
	}
	return l
}

// fresh reads team's installation from the store, refreshing its bot token
// when it expires within skew.
func (t *Tokens) fresh(ctx context.Context, team string, skew time.Duration) (Record, error) {
	lease := durationOr(t.Lease, 30*time.Second)
	wait := 50 * time.Millisecond
	for {
		rec, err := t.Store.Find(ctx, team)
		if err != nil {
			return Record{}, err
		}
		now := t.now()
		if !rec.Expiring(now, skew) || t.Refresher == nil {
			return rec, nil
		}
		if now.Before(rec.RefreshingUntil) {
			// Another replica is refreshing: wait for its result.
			if err := sleep(ctx, wait); err != nil {
				return t.stillValid(rec, now, fmt.Errorf("waiting for another replica's token refresh: %w", err))
			}
			wait = min(2*wait, time.Second)
			continue
		}
		claim := rec.Installation
		claim.RefreshingUntil = now.Add(lease)
		claimed, err := t.Store.Replace(ctx, rec, claim)
		if errors.Is(err, ErrConflict) {
			continue // someone else moved first: see what they did
		}
		if err != nil {
			return t.stillValid(rec, now, err)
		}
		return t.refresh(ctx, claimed, now)
	}
}

// refresh spends claimed's refresh token and stores the new pair.
func (t *Tokens) refresh(ctx context.Context, claimed Record, now time.Time) (Record, error) {
	r, err := t.Refresher.Refresh(ctx, claimed.BotRefreshToken)
	if err != nil {
		release := claimed.Installation
		release.RefreshingUntil = time.Time{}
		// Best effort: let another replica try now rather than after the lease.
		_, _ = t.Store.Replace(context.WithoutCancel(ctx), claimed, release)
		return t.stillValid(claimed, now, fmt.Errorf("refresh the bot token of %s: %w", claimed.Installation, err))
	}
	next := claimed.Installation
	next.BotToken, next.BotRefreshToken = r.AccessToken, r.RefreshToken
	next.BotTokenExpiresAt, next.RefreshingUntil = now.Add(r.ExpiresIn), time.Time{}
	stored, err := t.Store.Replace(context.WithoutCancel(ctx), claimed, next)
	if err != nil {
		// The new pair works at Slack whatever the store says; without it
		// stored the next refresh fails and the workspace must reinstall.
		return Record{Installation: next}, fmt.Errorf("store the rotated token of %s: %w", next, err)
	}
	return stored, nil
}

// stillValid returns rec when its token has not expired yet (work goes on
// while the refresh is retried later), else err.
func (t *Tokens) stillValid(rec Record, now time.Time, err error) (Record, error) {
	if now.Before(rec.BotTokenExpiresAt) {
		return rec, nil
	}
	return Record{}, err
}

func sleep(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

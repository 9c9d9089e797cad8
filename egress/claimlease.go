package egress

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/mariahq/maria/bus/kv"
)

// A delivery claim is a lease. While its Slack call runs, the owner renews
// the claim every quarter of MARIA_EGRESS_IDEMPOTENCY_STALE (kv Keep), so a
// claim only goes stale when its owner fell silent — killed mid-call — and
// the standby takes it over (and reconciles) that soon, not after the
// longest call a live owner could still be making. In exchange a live
// owner that cannot renew for half the stale timeout (it lost NATS) cancels
// its own call: after that, a taker may be about to judge the claim stale,
// and the call must not act behind the taker's reconcile. Cancelling is an
// ambiguous failure like any timeout: marked, and reconciled before a retry.

// renewals per stale timeout, and the silence after which the owner gives up.
const (
	claimRenewals = 4
	claimGiveUp   = 2 // the call is cancelled after stale/claimGiveUp without a renewal
)

// errClaimNotKept cancels a call whose claim could not be renewed in time.
var errClaimNotKept = errors.New("delivery claim could not be renewed; call abandoned before another replica may take it over")

// holding runs do with id's claim renewed until it returns.
func (e *Egress) holding(ctx context.Context, id string, do func(context.Context) (*outcome, error)) (*outcome, error) {
	stale := e.cfg.IdempotencyStale
	every := stale / claimRenewals
	callCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The lease runs from before the request that renewed it: the server
	// stamps the renewal later than that, so the owner gives up early, never
	// late.
	giveUp := time.AfterFunc(stale/claimGiveUp, func() { cancel(errClaimNotKept) })
	defer giveUp.Stop()
	stop := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-callCtx.Done():
				return
			case <-t.C:
			}
			sent := time.Now()
			kctx, kcancel := context.WithTimeout(callCtx, every)
			err := e.idem.Keep(kctx, id)
			kcancel()
			switch {
			case err == nil:
				giveUp.Reset(stale/claimGiveUp - time.Since(sent))
			case errors.Is(err, kv.ErrClaimLost):
				cancel(fmt.Errorf("%w: %w", errClaimNotKept, err))
				return
			}
		}
	}()
	o, err := do(callCtx)
	close(stop)
	<-renewed // Finish and Release must not race a renewal
	if err != nil && context.Cause(callCtx) != nil && ctx.Err() == nil {
		err = fmt.Errorf("%w (%w)", err, context.Cause(callCtx))
	}
	return o, err
}

// finish records the outcome of an effect that happened. A failure is
// retried for a while — typically the bucket's raft group is electing a
// leader, a few seconds — since a claim left pending makes every retry of
// the command wait for it to go stale and be reconciled.
func (e *Egress) finish(ctx context.Context, id string, o *outcome) error {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = 100 * time.Millisecond
	bo.MaxInterval = time.Second
	bo.MaxElapsedTime = e.cfg.IdempotencyStale
	return backoff.Retry(func() error {
		fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		err := e.idem.Finish(fctx, id, o)
		if err != nil && (errors.Is(err, kv.ErrClaimLost) || ctx.Err() != nil) {
			return backoff.Permanent(err)
		}
		return err
	}, backoff.WithContext(bo, ctx))
}

// Package claims is the runtime side of the claim contract (schemas/claims.go):
// a processor announces the messages it handles (Announce, Serve) so the
// AI, which watches every announcement (Watcher), does not answer them too.
package claims

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Serve runs inner with processor's claim announced alongside: rules are
// checked first (a rule that claims everything is a programming error),
// then announced until inner returns.
func Serve(b *bus.Bus, processor string, rules []schemas.ClaimRule, inner bus.Service) (bus.Service, error) {
	claim, err := newClaim(processor, rules)
	if err != nil {
		return nil, err
	}
	return bus.ServiceFunc(func(ctx context.Context) error {
		actx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			announce(actx, b.JetStream(), claim, b.Log.With().Str("claim", processor).Logger())
		}()
		err := inner.Run(ctx)
		stop()
		<-done
		return err
	}), nil
}

// newClaim validates rules and names this replica.
func newClaim(processor string, rules []schemas.ClaimRule) (schemas.Claim, error) {
	if processor == "" || len(rules) == 0 {
		return schemas.Claim{}, fmt.Errorf("claims: processor %q with %d rules: want a name and at least one rule", processor, len(rules))
	}
	var errs []error
	for _, r := range rules {
		errs = append(errs, r.Validate())
	}
	if err := errors.Join(errs...); err != nil {
		return schemas.Claim{}, fmt.Errorf("claims of %s: %w", processor, err)
	}
	id := make([]byte, 6)
	if _, err := rand.Read(id); err != nil {
		return schemas.Claim{}, fmt.Errorf("claims: instance id: %w", err)
	}
	return schemas.Claim{Processor: processor, Instance: hex.EncodeToString(id), Rules: rules}, nil
}

// announce puts the claim now and every ClaimRefresh until ctx ends, then
// deletes it so the AI answers these messages again at once. The bucket
// is the AI's: until it exists (no AI running, nobody to tell) each round
// tries to bind it again, soon after a failure. Failures are logged when the state changes, not
// every round.
func announce(ctx context.Context, js jetstream.JetStream, c schemas.Claim, log zerolog.Logger) {
	key := schemas.ClaimKey(c.Processor, c.Instance)
	var store *kv.Store[schemas.Claim]
	var lastErr string
	// After a failure the next try comes sooner (from 100 ms, doubling up
	// to ClaimRefresh): a processor that started before the AI made the
	// bucket is honoured moments after it appears, not a refresh later.
	retry := 100 * time.Millisecond
	for {
		err := func() error {
			if store == nil {
				b, err := kv.Bind(ctx, js, schemas.ClaimsBucket)
				if err != nil {
					return err
				}
				s := kv.Typed[schemas.Claim](b)
				store = &s
			}
			_, err := store.Set(ctx, key, c)
			return err
		}()
		switch {
		case ctx.Err() != nil:
		case err != nil && err.Error() != lastErr:
			log.Warn().Err(err).Msg("claims: not announced (the AI may answer these messages too); retrying")
			lastErr = err.Error()
		case err == nil && lastErr != "":
			log.Info().Msg("claims: announced")
			lastErr = ""
		}
		wait := schemas.ClaimRefresh
		if err != nil {
			wait, retry = retry, min(2*retry, schemas.ClaimRefresh)
		} else {
			retry = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			if store != nil {
				dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				_ = store.Delete(dctx, key)
				cancel()
			}
			return
		case <-time.After(wait):
		}
	}
}

package ai

import (
	"context"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
)

// claimedElsewhere tells whether a live claim of another processor covers
// the message (the claim contract, schemas/README.md "Claims"): then that
// processor answers and the AI stays silent. An in-memory lookup.
func (p *Processor) claimedElsewhere(m *bus.Msg) bool {
	ev, ok := schemas.ClaimEventOf(m.Env)
	if !ok {
		return false
	}
	owner, ok := p.claims.Owner(ev)
	if ok {
		metricEvents.WithLabelValues(ev.Kind, "claimed").Inc()
		m.Log.Debug().Str("claimed_by", owner).Msg("ai: claimed by another processor")
	}
	return ok
}

// withClaims runs the claims watcher beside the consumers; they start once
// the claims present at start are loaded, so no early message slips past.
func (p *Processor) withClaims(consumers bus.Service) bus.Service {
	return bus.ServiceFunc(func(ctx context.Context) error {
		wctx, stop := context.WithCancel(ctx)
		ready, done := make(chan struct{}), make(chan struct{})
		settingsDone := make(chan struct{})
		go func() {
			defer close(done)
			p.claims.Run(wctx, p.b.JetStream(), p.b.Config().Replicas, p.log, ready)
		}()
		go func() {
			defer close(settingsDone)
			_ = p.settings.Run(wctx) // follows settings saved by any replica
		}()
		defer func() { stop(); <-done; <-settingsDone }()
		select {
		case <-ready:
		case <-ctx.Done():
			return nil
		}
		return consumers.Run(ctx)
	})
}

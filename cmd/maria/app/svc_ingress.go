package app

import (
	"context"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/ingress"
)

// Ingress: Slack's HTTP endpoints or Socket Mode → the bus.
func init() {
	RegisterConfigured("ingress", func(env *config.Env) Factory {
		// Unparseable values are recorded by LoadConfig; the error is about
		// their combination (no way in, a token of the wrong kind, …).
		cfg, err := ingress.LoadConfig(env)
		env.Fail(err)
		return func(ctx context.Context, d bus.Deps) (bus.Service, error) {
			return ingress.NewService(ctx, cfg, d)
		}
	})
}

package app

import (
	"context"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/egress"
)

// Egress: Slack commands from the bus → the Slack Web API. Its token is
// checked with auth.test only when building, after every service's
// configuration was found valid.
func init() {
	RegisterConfigured("egress", func(env *config.Env) Factory {
		cfg := egress.LoadConfig(env) // problems recorded in env
		mw := loadMultiWorkspace(env)
		return func(ctx context.Context, d bus.Deps) (bus.Service, error) {
			log := d.Log
			o := egress.Options{Config: cfg, Log: &log}
			if mw.enabled() {
				_, tokens, err := mw.open(ctx, d)
				if err != nil {
					return nil, err
				}
				o.Tokens = tokens
			}
			return egress.New(ctx, d.Bus, o)
		}
	})
}

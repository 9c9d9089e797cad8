package app

import (
	"context"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/mariahq/maria/ingress"
)

// Ingress: Slack's HTTP endpoints or Socket Mode → the bus.
func init() {
	RegisterConfigured("ingress", func(env *config.Env) Factory {
		// Unparseable values are recorded by LoadConfig; the error is about
		// their combination (no way in, a token of the wrong kind, …).
		cfg, err := ingress.LoadConfig(env)
		env.Fail(err)
		keys := sealed.ReadEnv(env)
		mw := loadMultiWorkspace(env)
		return func(ctx context.Context, d bus.Deps) (bus.Service, error) {
			in, err := ingress.NewService(ctx, cfg, d)
			if err != nil {
				return nil, err
			}
			if err := mountInstall(ctx, mw, in, d); err != nil {
				return nil, err
			}
			// "Connect your Odoo account": the key is sealed here and
			// handed to the erp service (docs/threat-model.md).
			ring, err := sealed.Load(ctx, keys, d.Bus.Config().DataDir, nil, d.Log)
			if err != nil {
				return nil, err
			}
			return in.WithIdentityHandoff(ring, d.Bus.Conn()), nil
		}
	})
}

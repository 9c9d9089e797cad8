package app

import (
	"context"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/mariahq/maria/processors/erp"
	"github.com/mariahq/maria/processors/erp/identity"
)

// The ERP service: queries and confirmed commands → Odoo.
func init() {
	RegisterConfigured("erp", func(env *config.Env) Factory {
		cfg := erp.LoadConfig(env) // problems recorded in env
		keys := sealed.ReadEnv(env)
		ids := identity.LoadConfig(env)
		return func(ctx context.Context, d bus.Deps) (bus.Service, error) {
			client, err := erp.NewOdooClient(cfg)
			if err != nil {
				return nil, err
			}
			// People's own Odoo keys are kept sealed with this keyring.
			ring, err := sealed.Load(ctx, keys, d.Bus.Config().DataDir, nil, d.Log)
			if err != nil {
				return nil, err
			}
			raw, err := identity.Open(ctx, ids, d.Bus.JetStream(), d.Bus.Config().Replicas)
			if err != nil {
				return nil, err
			}
			s := erp.New(cfg, client, d.Log).WithIdentities(ring, identity.New(raw, ring))
			d.HTTP.AddCheck("erp", s.Ready)
			d.Log.Info().Str("odoo", cfg.Odoo.URL).Str("protocol", cfg.Protocol).Str("db", cfg.Odoo.DB).
				Strs("read_models", cfg.Read.Models()).Strs("write_models", cfg.Write.Models()).Str("identity_policy", cfg.IdentityPolicy).Msg("erp configured")
			return bus.ServiceFunc(func(ctx context.Context) error { return s.Run(ctx, d.Bus) }), nil
		}
	})
}

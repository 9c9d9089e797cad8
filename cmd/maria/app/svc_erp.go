package app

import (
	"context"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/erp"
)

// The ERP service: queries and confirmed commands → Odoo.
func init() {
	RegisterConfigured("erp", func(env *config.Env) Factory {
		cfg := erp.LoadConfig(env) // problems recorded in env
		return func(_ context.Context, d bus.Deps) (bus.Service, error) {
			client, err := erp.NewOdooClient(cfg)
			if err != nil {
				return nil, err
			}
			s := erp.New(cfg, client, d.Log)
			d.HTTP.AddCheck("erp", s.Ready)
			d.Log.Info().Str("odoo", cfg.Odoo.URL).Str("protocol", cfg.Protocol).Str("db", cfg.Odoo.DB).
				Strs("read_models", cfg.Read.Models()).Strs("write_models", cfg.Write.Models()).Msg("erp configured")
			return bus.ServiceFunc(func(ctx context.Context) error { return s.Run(ctx, d.Bus) }), nil
		}
	})
}

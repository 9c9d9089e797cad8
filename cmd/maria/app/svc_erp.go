package app

import (
	"context"
	"errors"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/processors/erp"
)

func init() {
	Register("erp", func(_ context.Context, d bus.Deps) (bus.Service, error) {
		cfg := erp.LoadConfig(d.Env)
		if cfg.Validate() != nil {
			// LoadConfig recorded the problems in d.Env; Start reports them all.
			return nil, errors.New("invalid configuration (see the configuration errors)")
		}
		client, err := erp.NewOdooClient(cfg)
		if err != nil {
			return nil, err
		}
		s := erp.New(cfg, client, d.Log)
		d.HTTP.AddCheck("erp", s.Ready)
		d.Log.Info().Str("odoo", cfg.Odoo.URL).Str("protocol", cfg.Protocol).Str("db", cfg.Odoo.DB).
			Strs("read_models", cfg.Read.Models()).Strs("write_models", cfg.Write.Models()).Msg("erp configured")
		return bus.ServiceFunc(func(ctx context.Context) error { return s.Run(ctx, d.Bus) }), nil
	})
}

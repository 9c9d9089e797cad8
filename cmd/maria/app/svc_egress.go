package app

import (
	"context"
	"errors"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/egress"
)

func init() {
	Register("egress", func(ctx context.Context, d bus.Deps) (bus.Service, error) {
		cfg := egress.LoadConfig(d.Env)
		if cfg.Validate() != nil {
			// LoadConfig recorded the problems in d.Env; Start reports them all.
			return nil, errors.New("invalid configuration (see the configuration errors)")
		}
		log := d.Log
		e, err := egress.New(ctx, d.Bus, egress.Options{Config: cfg, Log: &log})
		if err != nil {
			return nil, err
		}
		return e, nil
	})
}

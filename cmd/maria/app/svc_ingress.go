package app

import (
	"context"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/ingress"
)

func init() {
	Register("ingress", func(ctx context.Context, d bus.Deps) (bus.Service, error) {
		cfg, err := ingress.LoadConfig(d.Env)
		if err != nil {
			return nil, err
		}
		return ingress.NewService(ctx, cfg, d)
	})
}

package app

import (
	"context"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/processors/example"
)

func init() {
	Register("example", func(_ context.Context, d bus.Deps) (bus.Service, error) {
		return bus.Processors(d.Bus, example.Processor()), nil
	})
}

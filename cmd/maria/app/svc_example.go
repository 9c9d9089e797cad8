package app

import (
	"context"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/processors/example"
)

// The example processor: the model to copy. Off unless asked for (`maria
// run … example`, or MARIA_SERVICES listing it): production does not run it.
func init() {
	Register("example", func(ctx context.Context, d bus.Deps) (bus.Service, error) {
		return example.Service(ctx, d.Bus)
	})
	OptIn("example")
}

package bus

import (
	"context"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/health"
	"github.com/rs/zerolog"
)

// Deps is what `maria run` hands each service it starts.
type Deps struct {
	Bus  *Bus
	HTTP *health.Server
	Env  *config.Env
	Log  zerolog.Logger
}

// Service is one long-running part of Maria (ingress, egress, a processor).
// Run blocks until ctx ends and returns after a graceful drain.
type Service interface {
	Run(ctx context.Context) error
}

// ServiceFunc adapts a function to Service.
type ServiceFunc func(ctx context.Context) error

// Run calls f.
func (f ServiceFunc) Run(ctx context.Context) error { return f(ctx) }

// Processors runs several processors as one service. When one of them
// fails (its consumer is lost for good) the others are stopped too, so the
// service returns the error instead of running on half-deaf.
func Processors(b *Bus, ps ...Processor) Service {
	return ServiceFunc(func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		errc := make(chan error, len(ps))
		for _, p := range ps {
			go func() { errc <- Run(ctx, b, p) }()
		}
		var first error
		for range ps {
			if err := <-errc; err != nil && first == nil {
				first = err
				cancel()
			}
		}
		return first
	})
}

package bus

import (
	"context"

	"github.com/mariahq/maria/bus/telemetry"
)

// envelope keeps undecodable messages from the handler (they are
// permanent: the same bytes will not decode next time) and puts the
// message's correlation id and its id (the cause of the requests the
// handler makes) on the context, for what the handler calls.
func envelope() Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Msg) error {
			if m.Env == nil {
				return Permanent(m.invalid)
			}
			return next(telemetry.WithCause(telemetry.WithCorrelation(ctx, m.Env.CorrelationID), m.Env.ID), m)
		}
	}
}

package bus

import "context"

// logging writes one line per verdict other than a plain ack, through the
// message's logger (its fields are added only when a line is written).
func logging() Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Msg) error {
			err := next(ctx, m)
			switch m.outcome {
			case outcomeNak:
				m.Log.Info().Err(err).Dur("retry_in", m.retryIn).Msg("retrying later")
			case outcomeDeadLetter:
				if stack := PanicStack(err); stack != "" {
					m.Log.Error().Err(err).Str("stack", stack).Msg("handler panicked; dead-lettered")
				} else {
					m.Log.Warn().Err(err).Str("cause", deadLetterCause(err)).Msg("dead-lettered")
				}
			}
			return err
		}
	}
}

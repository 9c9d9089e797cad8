package bus

import (
	"context"
	"errors"
)

// The verdicts a delivery ends with (the maria.outcome span attribute and
// the outcome metric label).
const (
	outcomeAck        = "ack"
	outcomeNak        = "nak"
	outcomeDeadLetter = "dead_letter"
)

// settling tells the server what became of a delivery: nil acks, a
// dead-lettered failure terminates it, anything else naks it with the
// delay backoff chose. It records the verdict for the layers above.
func settling() Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Msg) error {
			err := next(ctx, m)
			var dl *deadLettered
			switch {
			case err == nil:
				// A plain ack: DoubleAck stalled 5 s on a lost confirmation
				// about once per 2,000 messages in BenchmarkProcessorThroughput,
				// and a lost ack costs only a redelivery that the handler's
				// idempotency absorbs.
				if aerr := m.raw.Ack(); aerr != nil {
					m.Log.Warn().Err(aerr).Msg("ack failed")
				}
				m.outcome = outcomeAck
			case errors.As(err, &dl):
				if terr := m.raw.Term(); terr != nil {
					m.Log.Warn().Err(terr).Msg("term failed")
				}
				m.outcome = outcomeDeadLetter
			default:
				if nerr := m.raw.NakWithDelay(m.retryIn); nerr != nil {
					m.Log.Warn().Err(nerr).Msg("nak failed; AckWait will redeliver")
				}
				m.outcome = outcomeNak
			}
			return err
		}
	}
}

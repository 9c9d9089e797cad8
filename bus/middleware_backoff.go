package bus

import (
	"context"
	"time"
)

// retryBackoff chooses the nak delay of a retryable failure: the delay the
// error asked for (RetryAfter, e.g. Slack's Retry-After), else the n-th
// step of the consumer's schedule for the n-th delivery, the last step
// repeating.
func retryBackoff(schedule []time.Duration) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Msg) error {
			err := next(ctx, m)
			if err == nil || IsPermanent(err) {
				return err
			}
			if d, ok := RetryDelay(err); ok {
				m.retryIn = d
				return err
			}
			i := min(int(m.Delivery)-1, len(schedule)-1)
			m.retryIn = schedule[max(i, 0)]
			return err
		}
	}
}

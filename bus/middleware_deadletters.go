package bus

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// deadLetterRetry is how soon a message whose dead letter could not be
// stored is tried again: it is never dropped.
const deadLetterRetry = 5 * time.Second

// deadLettered marks a failure whose message is stored on the DLQ; its
// message is the failure's own.
type deadLettered struct {
	cause string // permanent, max_deliver or invalid
	err   error
}

func (e *deadLettered) Error() string { return e.err.Error() }
func (e *deadLettered) Unwrap() error { return e.err }

// deadLetterCause is the cause of a dead-lettered failure, "" otherwise.
func deadLetterCause(err error) string {
	var dl *deadLettered
	if errors.As(err, &dl) {
		return dl.cause
	}
	return ""
}

// deadLetters stores on the DLQ the messages no retry can help: permanent
// failures (panics included, with their stack), undecodable messages and
// the last allowed delivery of a retryable failure. When the DLQ refuses
// it, the message is left to be redelivered and tried again.
func deadLetters(b *Bus, stream, consumer string, maxDeliver int) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Msg) error {
			err := next(ctx, m)
			if err == nil {
				return nil
			}
			cause := ""
			switch {
			case m.Env == nil:
				cause, err = "invalid", m.invalid
			case IsPermanent(err):
				cause = "permanent"
			case int(m.Delivery) >= maxDeliver:
				cause = "max_deliver"
				err = fmt.Errorf("after %d deliveries: %w", m.Delivery, err)
			default:
				return err
			}
			dl := DeadLetter{Stream: stream, Consumer: consumer, Subject: m.Subject, Sequence: m.Sequence,
				Deliveries: m.Delivery, Reason: err.Error(), Stack: PanicStack(err), Header: m.Header, Data: m.raw.Data()}
			if perr := b.PublishDeadLetter(ctx, dl); perr != nil {
				m.Log.Error().Err(perr).Msg("dead-letter publish failed; will retry")
				m.retryIn = deadLetterRetry
				return fmt.Errorf("%w (dead letter not stored: %w)", err, perr)
			}
			return &deadLettered{cause: cause, err: err}
		}
	}
}

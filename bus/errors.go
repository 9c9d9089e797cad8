package bus

import (
	"errors"
	"fmt"
	"time"

	"github.com/mariahq/maria/schemas"
)

// RetryableError asks the runtime to redeliver the message later. After is
// the delay the failing side asked for (e.g. Slack's Retry-After); zero
// means "use the consumer's backoff schedule".
type RetryableError struct {
	Err   error
	After time.Duration
}

func (e *RetryableError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("retryable (after %s): %v", e.After, e.Err)
	}
	return "retryable: " + e.Err.Error()
}
func (e *RetryableError) Unwrap() error { return e.Err }

// PermanentError means retrying cannot help: the message goes to the dead
// letter subject with the error as reason.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Retry marks err retryable with the default backoff.
func Retry(err error) error { return &RetryableError{Err: err} }

// RetryAfter marks err retryable after at least d.
func RetryAfter(err error, d time.Duration) error { return &RetryableError{Err: err, After: d} }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether err (or what it wraps) is permanent. Invalid
// envelopes are permanent by nature. Errors not marked either way are
// treated as retryable: MaxDeliver bounds the cost of being wrong.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p) || errors.Is(err, schemas.ErrInvalidEnvelope)
}

// RetryDelay returns the delay a retryable error asked for, if any.
func RetryDelay(err error) (time.Duration, bool) {
	var r *RetryableError
	if errors.As(err, &r) && r.After > 0 {
		return r.After, true
	}
	return 0, false
}

package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Publish stores env on subject with Nats-Msg-Id = env.ID, so a republish of
// the same envelope within the stream's duplicates window is dropped by the
// server. Transient failures (no responders during a leader election,
// timeouts) are retried with the same id until ctx ends, which is safe
// precisely because of that dedup.
func (b *Bus) Publish(ctx context.Context, subject string, env *schemas.Envelope) (*jetstream.PubAck, error) {
	ctx, span := startPublishSpan(ctx, subject, env)
	msg, err := EnvelopeMsg(ctx, subject, env)
	if err != nil {
		endPublishSpan(span, false, err)
		return nil, err
	}
	ack, err := b.PublishMsg(ctx, msg)
	endPublishSpan(span, ack != nil && ack.Duplicate, err)
	return ack, err
}

// EnvelopeMsg encodes env as a NATS message with Maria's headers.
func EnvelopeMsg(ctx context.Context, subject string, env *schemas.Envelope) (*nats.Msg, error) {
	if err := env.Validate(); err != nil {
		return nil, fmt.Errorf("publish %s: %w", subject, err)
	}
	body, err := env.Marshal()
	if err != nil {
		return nil, fmt.Errorf("publish %s: encode: %w", subject, err)
	}
	msg := nats.NewMsg(subject)
	msg.Data = body
	msg.Header.Set(schemas.HeaderMsgID, env.ID)
	msg.Header.Set(schemas.HeaderType, env.Type)
	msg.Header.Set(schemas.HeaderSource, env.Source)
	msg.Header.Set(schemas.HeaderCorrelationID, env.CorrelationID)
	if env.CausationID != "" {
		msg.Header.Set(schemas.HeaderCausationID, env.CausationID)
	}
	telemetry.Inject(ctx, msg.Header)
	return msg, nil
}

// PublishMsg publishes a prepared message (its Nats-Msg-Id must be set for
// retries to be safe) and retries transient failures until ctx ends.
func (b *Bus) PublishMsg(ctx context.Context, msg *nats.Msg) (*jetstream.PubAck, error) {
	stage := subjectStage(msg.Subject)
	var ack *jetstream.PubAck
	op := func() error {
		attemptCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		a, err := b.js.PublishMsg(attemptCtx, msg)
		if err != nil {
			if ctx.Err() != nil {
				return backoff.Permanent(ctx.Err())
			}
			if isPermanentPublishErr(err) {
				return backoff.Permanent(err)
			}
			return err
		}
		ack = a
		return nil
	}
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = 100 * time.Millisecond
	bo.MaxInterval = 2 * time.Second
	bo.MaxElapsedTime = 30 * time.Second
	if err := backoff.Retry(op, backoff.WithContext(bo, ctx)); err != nil {
		metricPublished.WithLabelValues(stage, "error").Inc()
		return nil, fmt.Errorf("publish %s: %w", msg.Subject, err)
	}
	if ack.Duplicate {
		metricPublished.WithLabelValues(stage, "duplicate").Inc()
	} else {
		metricPublished.WithLabelValues(stage, "ok").Inc()
	}
	return ack, nil
}

// isPermanentPublishErr tells errors that no retry can fix: the subject has
// no stream (a wiring bug) or the message is over the size limit.
func isPermanentPublishErr(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jetstream.JSErrCodeStreamMessageExceedsMaximum:
			return true
		}
	}
	return errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, nats.ErrBadSubject)
}

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
	msg := &nats.Msg{Subject: subject, Data: body, Header: envelopeHeader(env)}
	telemetry.Inject(ctx, msg.Header)
	return msg, nil
}

// envelopeHeaderRoom is the most header fields a published envelope
// carries: id, type, source, correlation, causation, traceparent and
// tracestate.
const envelopeHeaderRoom = 7

// envelopeHeader builds Maria's headers for env. Every value shares one
// backing array and the map is sized once: Header.Set allocated a slice
// per field and the map grew twice, a visible share of every publish.
func envelopeHeader(env *schemas.Envelope) nats.Header {
	h := make(nats.Header, envelopeHeaderRoom)
	vals := make([]string, 0, 5)
	set := func(k, v string) {
		vals = append(vals, v)
		h[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	set(schemas.HeaderMsgID, env.ID)
	set(schemas.HeaderType, env.Type)
	set(schemas.HeaderSource, env.Source)
	set(schemas.HeaderCorrelationID, env.CorrelationID)
	if env.CausationID != "" {
		set(schemas.HeaderCausationID, env.CausationID)
	}
	return h
}

// PublishMsg publishes a prepared message (its Nats-Msg-Id must be set for
// retries to be safe) and retries transient failures until ctx ends.
//
// The first attempt is made directly: the retry policy (a backoff object,
// its context wrapper and the operation's closure) is built only when it
// fails with an error worth retrying, which on a healthy stream is never.
func (b *Bus) PublishMsg(ctx context.Context, msg *nats.Msg) (*jetstream.PubAck, error) {
	ack, err := b.publishAttempt(ctx, msg)
	if err != nil && retryablePublish(ctx, err) {
		ack, err = b.publishRetrying(ctx, msg)
	}
	counters := publishedCountersFor(subjectStage(msg.Subject))
	if err != nil {
		counters.failed.Inc()
		return nil, fmt.Errorf("publish %s: %w", msg.Subject, err)
	}
	if ack.Duplicate {
		counters.duplicate.Inc()
	} else {
		counters.ok.Inc()
	}
	return ack, nil
}

// publishAttempt is one publish, answered within publishAttemptTimeout.
func (b *Bus) publishAttempt(ctx context.Context, msg *nats.Msg) (*jetstream.PubAck, error) {
	attemptCtx, cancel := context.WithTimeout(ctx, publishAttemptTimeout)
	defer cancel()
	return b.js.PublishMsg(attemptCtx, msg)
}

// retryablePublish tells a failed attempt worth another: ctx still open
// and the error not one that no retry can fix.
func retryablePublish(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !isPermanentPublishErr(err)
}

// publishRetrying makes further attempts, paced by publishBackOff, until
// one succeeds, ctx ends, or an attempt fails for good. It starts with a
// wait: the attempt before it just failed.
func (b *Bus) publishRetrying(ctx context.Context, msg *nats.Msg) (*jetstream.PubAck, error) {
	var ack *jetstream.PubAck
	bo := publishBackOff()
	op := func() error {
		a, err := b.publishAttempt(ctx, msg)
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
	if !sleep(ctx, bo.NextBackOff()) {
		return nil, ctx.Err()
	}
	if err := backoff.Retry(op, backoff.WithContext(bo, ctx)); err != nil {
		return nil, err
	}
	return ack, nil
}

// A publish that reached a stream leader just before it died is never
// answered, and a stream without a leader answers nothing (or "no
// responders") until its raft group elects one, which nats-server does
// 4–9 s after the last heartbeat of a killed leader. So an attempt waits
// publishAttemptTimeout, not longer — an R3 ack takes milliseconds, and a
// resend of the same Nats-Msg-Id is dropped by the stream's dedup — and
// attempts come at most publishRetryMax apart, so a publish goes through
// within about that long after the new leader is elected instead of
// sleeping past it (they were 5 s and 2 s: p99 13.6 s in the chaos suite's
// stream-leader kill).
const (
	publishAttemptTimeout = 2 * time.Second
	publishRetryMax       = 500 * time.Millisecond
	publishRetryFor       = 30 * time.Second
)

// publishBackOff paces PublishMsg's attempts: 50 ms, then doubling with
// jitter up to publishRetryMax, for publishRetryFor at most.
func publishBackOff() *backoff.ExponentialBackOff {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = 50 * time.Millisecond
	bo.MaxInterval = publishRetryMax
	bo.MaxElapsedTime = publishRetryFor
	bo.Reset()
	return bo
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

package bus

import (
	"context"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"
)

// Msg is one delivery handed to a Handler.
type Msg struct {
	Subject string
	Header  nats.Header
	// Env is the decoded envelope; a message that does not decode is
	// dead-lettered before any handler or processor middleware sees it.
	Env *schemas.Envelope
	// Delivery is 1 on the first delivery.
	Delivery uint64
	Sequence uint64
	// Log carries the message's subject, sequence, delivery, ids and trace
	// id; they are added only to events actually written.
	Log zerolog.Logger

	raw     jetstream.Msg
	bus     *Bus
	proc    string
	invalid error // why Env is nil

	// Set by the runtime's middleware on the way through.
	trace   trace.SpanContext // for the log's trace_id
	retryIn time.Duration     // the nak delay of a retryable failure
	outcome string            // ack, nak or dead_letter, once settled
}

// newMsg reads one delivery: its metadata and its envelope.
func newMsg(b *Bus, proc string, log zerolog.Logger, raw jetstream.Msg) (*Msg, error) {
	meta, err := raw.Metadata()
	if err != nil {
		return nil, err
	}
	m := &Msg{Subject: raw.Subject(), Header: raw.Headers(), Delivery: meta.NumDelivered,
		Sequence: meta.Sequence.Stream, raw: raw, bus: b, proc: proc}
	m.Env, m.invalid = schemas.Decode(raw.Data())
	m.Log = log.Hook(msgFields{m})
	return m, nil
}

// msgFields adds a message's fields to the events its logger writes: a
// hook runs only for enabled events, so a message nobody logs about costs
// no field formatting (a one-pointer struct: no allocation either).
type msgFields struct{ m *Msg }

func (h msgFields) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	m := h.m
	e.Str("subject", m.Subject).Uint64("seq", m.Sequence).Uint64("delivery", m.Delivery)
	if m.trace.HasTraceID() {
		e.Str("trace_id", m.trace.TraceID().String())
	}
	if m.Env != nil {
		e.Str("correlation_id", m.Env.CorrelationID).Str("msg_id", m.Env.ID).Str("type", m.Env.Type)
	}
}

// Publish sends a message caused by this one: the child keeps the
// correlation id and thread, its causation id is this message's id, and its
// id is derived from (this id, type, key) so a redelivered handler that
// publishes again is deduplicated by the stream.
func (m *Msg) Publish(ctx context.Context, subject, key, typ string, data any) (*schemas.Envelope, error) {
	child, err := m.Env.Child(key, typ, m.proc, data)
	if err != nil {
		return nil, Permanent(err)
	}
	if _, err := m.bus.Publish(ctx, subject, child); err != nil {
		return nil, Retry(err)
	}
	return child, nil
}

// InProgress extends the ack deadline; the runtime already does so for
// every message it holds, handlers may call it between long steps.
func (m *Msg) InProgress() error { return m.raw.InProgress() }

// Bus returns the bus the message came from.
func (m *Msg) Bus() *Bus { return m.bus }

package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Seen is one maria.* message the watcher saw.
type Seen struct {
	Subject string
	At      time.Time
	Header  nats.Header
	// Env is the decoded envelope (nil for request/reply bodies such as
	// maria.erp.query, which are not envelopes).
	Env *schemas.Envelope
	// Query is set for maria.erp.query requests.
	Query *schemas.ERPQuery
}

// Correlation is the message's correlation id (header, else envelope).
func (s Seen) Correlation() string {
	if c := s.Header.Get(schemas.HeaderCorrelationID); c != "" {
		return c
	}
	if s.Env != nil {
		return s.Env.CorrelationID
	}
	return ""
}

// Watcher records every maria.* message published, as it is published
// (a core NATS subscription: it sees what the streams store, and the
// request/reply traffic that never enters a stream).
type Watcher struct {
	sub *nats.Subscription
	nc  *nats.Conn

	mu      sync.Mutex
	all     []Seen
	changed chan struct{}
}

// NewWatcher subscribes b to maria.>.
func NewWatcher(b *bus.Bus) (*Watcher, error) {
	w := &Watcher{nc: b.Conn(), changed: make(chan struct{})}
	sub, err := b.Conn().Subscribe("maria.>", w.on)
	if err != nil {
		return nil, fmt.Errorf("demo watcher: %w", err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return nil, fmt.Errorf("demo watcher: %w", err)
	}
	if err := b.Conn().Flush(); err != nil {
		return nil, fmt.Errorf("demo watcher: %w", err)
	}
	w.sub = sub
	return w, nil
}

func (w *Watcher) on(m *nats.Msg) {
	s := Seen{Subject: m.Subject, At: time.Now(), Header: m.Header}
	if s.Header == nil {
		s.Header = nats.Header{}
	}
	if m.Subject == schemas.SubjectERPQuery {
		var q schemas.ERPQuery
		if json.Unmarshal(m.Data, &q) == nil {
			s.Query = &q
		}
	} else if env, err := schemas.Decode(m.Data); err == nil {
		s.Env = env
	}
	w.mu.Lock()
	w.all = append(w.all, s)
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
}

// Close stops watching.
func (w *Watcher) Close() {
	if w.sub != nil {
		_ = w.sub.Unsubscribe()
	}
}

// Changed is closed at the next message.
func (w *Watcher) Changed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changed
}

// All returns every message seen so far, in arrival order.
func (w *Watcher) All() []Seen {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Seen(nil), w.all...)
}

// Turn returns the messages of one correlation id, in arrival order.
func (w *Watcher) Turn(correlationID string) []Seen {
	var out []Seen
	for _, s := range w.All() {
		if s.Correlation() == correlationID {
			out = append(out, s)
		}
	}
	return out
}

// Queries returns the ERP queries seen between from and to.
func (w *Watcher) Queries(from, to time.Time) []schemas.ERPQuery {
	var out []schemas.ERPQuery
	for _, s := range w.All() {
		if s.Query != nil && !s.At.Before(from) && !s.At.After(to) {
			out = append(out, *s.Query)
		}
	}
	return out
}

// Delivered returns the deliveries of a turn (egress' maria.delivered.*).
func Delivered(seen []Seen) []schemas.Delivered {
	var out []schemas.Delivered
	for _, s := range seen {
		if s.Env == nil || s.Env.Type != schemas.TypeDelivered {
			continue
		}
		if d, err := schemas.DecodeData[schemas.Delivered](s.Env); err == nil {
			out = append(out, *d)
		}
	}
	return out
}

// OfType returns the envelopes of one type among seen.
func OfType(seen []Seen, typ string) []*schemas.Envelope {
	var out []*schemas.Envelope
	for _, s := range seen {
		if s.Env != nil && s.Env.Type == typ && !strings.HasPrefix(s.Subject, "maria.dlq.") {
			out = append(out, s.Env)
		}
	}
	return out
}

// DeadLetters returns the dead letters among seen.
func DeadLetters(seen []Seen) []Seen {
	var out []Seen
	for _, s := range seen {
		if strings.HasPrefix(s.Subject, "maria.dlq.") {
			out = append(out, s)
		}
	}
	return out
}

// Idle reports whether the pipeline has nothing left to do: every durable
// consumer of Maria's streams has no pending and no unacknowledged message.
// It returns the streams' total last sequence (to see growth) and, when
// busy, which consumer is.
func Idle(ctx context.Context, js jetstream.JetStream) (total uint64, busy string, err error) {
	for _, spec := range schemas.Streams {
		st, err := js.Stream(ctx, spec.Name)
		if err != nil {
			return 0, "", fmt.Errorf("stream %s: %w", spec.Name, err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			return 0, "", fmt.Errorf("stream %s: %w", spec.Name, err)
		}
		total += info.State.LastSeq
		cl := st.ListConsumers(ctx)
		for ci := range cl.Info() {
			if busy == "" && (ci.NumPending > 0 || ci.NumAckPending > 0) {
				busy = fmt.Sprintf("consumer %s/%s: %d pending, %d unacknowledged", spec.Name, ci.Name, ci.NumPending, ci.NumAckPending)
			}
		}
		if err := cl.Err(); err != nil {
			return 0, "", fmt.Errorf("consumers of %s: %w", spec.Name, err)
		}
	}
	return total, busy, nil
}

// Settle waits until the turn is done — done(seen) holds for the turn's
// messages — and the pipeline is quiet (Idle twice in a row with no stream
// growth), or the timeout passes. A dead letter of the turn fails at once.
func (e *Env) Settle(ctx context.Context, correlationID string, done func([]Seen) bool) ([]Seen, error) {
	deadline := time.Now().Add(e.SettleTimeout)
	var lastTotal uint64
	calm := 0
	why := "waiting for the turn's outcome"
	for {
		seen := e.Watch.Turn(correlationID)
		if dl := DeadLetters(seen); len(dl) > 0 {
			return seen, fmt.Errorf("dead-lettered on %s: %s", dl[0].Subject, dl[0].Header.Get(schemas.HeaderDLQReason))
		}
		if done == nil || done(seen) {
			total, busy, err := Idle(ctx, e.Observer.JetStream())
			if err != nil {
				return seen, err
			}
			switch {
			case busy != "":
				why, calm = busy, 0
			case total != lastTotal:
				why, calm = "streams still growing", 0
			default:
				calm++
			}
			lastTotal = total
			if calm >= 2 {
				return seen, nil
			}
		}
		if time.Now().After(deadline) {
			return seen, fmt.Errorf("not settled after %s: %s (%d messages of the turn seen)", e.SettleTimeout, why, len(seen))
		}
		select {
		case <-ctx.Done():
			return seen, ctx.Err()
		case <-e.Watch.Changed():
		case <-time.After(60 * time.Millisecond):
		}
	}
}

// Answered is the done condition of a question: egress delivered a
// finished answer (a stream stopped, or a post: proposals, help, apologies).
func Answered(seen []Seen) bool {
	for _, d := range Delivered(seen) {
		if d.CommandType == schemas.TypeOutStreamStop || d.CommandType == schemas.TypeOutPost {
			return true
		}
	}
	return false
}

// AnyDelivered is the done condition of anything that answers in Slack.
func AnyDelivered(seen []Seen) bool { return len(Delivered(seen)) > 0 }

// Stored is the done condition of a shared file.
func Stored(seen []Seen) bool { return len(OfType(seen, schemas.TypeStoredFile)) > 0 }

// ERPDone is the done condition of a confirmation click: the ERP reported
// the write's result and egress delivered what the AI said about it.
func ERPDone(seen []Seen) bool {
	if len(OfType(seen, schemas.TypeERPResult)) == 0 {
		return false
	}
	for _, d := range Delivered(seen) {
		if d.CommandType == schemas.TypeOutUpdate || d.CommandType == schemas.TypeOutPost {
			return true
		}
	}
	return false
}

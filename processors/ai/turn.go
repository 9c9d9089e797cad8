package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/kv"
)

// A turn is answered at most once per inbound event, whatever the number of
// deliveries (see README "Egress → Exactly once"):
//
//   - Every command a turn publishes has an id derived from the event and a
//     fixed key ("stream-start", "append-3", …), never from the delivery
//     number, so a redelivery that produces the answer again publishes the
//     same ids and JetStream's dedup window and egress' delivery records
//     drop the repeats: one Slack message, whoever sent it.
//   - The commands that end the answer (the rest of the text, the stream
//     stop or the post, the status clear) are published only after the turn
//     record is finished — the commit point — and are kept in that record.
//     A delivery that finds the record done republishes them (same ids:
//     dropped if already sent), so a crash between the commit and those
//     publishes still ends the message, and a replica whose claim was taken
//     over (ErrClaimLost at the commit) publishes nothing further: the new
//     owner ends the message.
//   - A Finish that fails is retried with backoff; if it keeps failing the
//     finished record is kept in memory and the delivery is retried, and the
//     retry only records and ends the answer — it does not answer again.
//
// What a redelivery cannot tell is how far an attempt that died half-way
// got. It answers again into the same message: the appends the first
// attempt sent are dropped as duplicates and the new attempt continues
// after them. One message, possibly with a seam, is the price of never
// showing two.

// turnStore is the part of kv.Idempotency a turn uses; tests wrap it to
// make Finish fail.
type turnStore interface {
	Begin(ctx context.Context, key string) (*kv.Record, bool, error)
	Finish(ctx context.Context, key string, result any) error
	Release(ctx context.Context, key string) error
}

var _ turnStore = (*kv.Idempotency)(nil)

// finalCommand is one command that ends an answer, published after the
// commit point (and again by a delivery that finds the turn done).
type finalCommand struct {
	Key  string          `json:"key"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// turnRecord is the result of a finished turn. Records written before the
// final commands existed have only Answered: republishing nothing is right
// for them.
type turnRecord struct {
	Answered time.Time      `json:"answered"`
	Subject  string         `json:"subject,omitempty"`
	Final    []finalCommand `json:"final,omitempty"`
}

func newFinal(key, typ string, data any) (finalCommand, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return finalCommand{}, bus.Permanent(fmt.Errorf("encode %s: %w", typ, err))
	}
	return finalCommand{Key: key, Type: typ, Data: raw}, nil
}

// Finish retries: a KV write fails during a stream leader election for a
// few seconds; finishAttempts tries spaced finishBackoff, 2×, 4×… cover it
// without holding the worker long.
const (
	finishAttempts = 5
	finishBackoff  = 200 * time.Millisecond
	// unrecordedMax bounds the turns kept for a retried Finish; past it the
	// oldest is forgotten (its redelivery answers again under the same ids,
	// which egress drops).
	unrecordedMax = 1024
)

// unrecorded holds turns answered here whose record could not be written,
// so their redelivery records them instead of answering again.
type unrecorded struct {
	mu    sync.Mutex
	turns map[string]*turnRecord
	order []string
}

func (u *unrecorded) put(key string, r *turnRecord) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.turns == nil {
		u.turns = map[string]*turnRecord{}
	}
	if _, ok := u.turns[key]; !ok {
		u.order = append(u.order, key)
	}
	u.turns[key] = r
	for len(u.order) > unrecordedMax {
		delete(u.turns, u.order[0])
		u.order = u.order[1:]
	}
}

func (u *unrecorded) take(key string) *turnRecord {
	u.mu.Lock()
	defer u.mu.Unlock()
	r, ok := u.turns[key]
	if !ok {
		return nil
	}
	delete(u.turns, key)
	for i, k := range u.order {
		if k == key {
			u.order = append(u.order[:i], u.order[i+1:]...)
			break
		}
	}
	return r
}

// commit records the finished turn, then publishes its final commands. A
// claim lost to another owner ends the turn here without publishing; a
// record that cannot be written is kept for the redelivery.
func (p *Processor) commit(ctx context.Context, m *bus.Msg, key string, rec *turnRecord) error {
	err := p.finishTurn(ctx, m, key, rec)
	switch {
	case errors.Is(err, kv.ErrClaimLost):
		metricEvents.WithLabelValues(eventLabel(m.Env.Type), "claim_lost").Inc()
		m.Log.Warn().Msg("ai: another replica took this turn over; leaving the answer's end to it")
		return nil
	case err != nil:
		p.unrecorded.put(key, rec)
		return bus.Retry(fmt.Errorf("record finished turn: %w", err))
	}
	return p.publishFinal(ctx, m, rec)
}

// finishTurn is turns.Finish with bounded retries and backoff.
func (p *Processor) finishTurn(ctx context.Context, m *bus.Msg, key string, rec *turnRecord) error {
	wait := finishBackoff
	for attempt := 1; ; attempt++ {
		err := p.turns.Finish(ctx, key, rec)
		if err == nil || errors.Is(err, kv.ErrClaimLost) || attempt >= finishAttempts {
			return err
		}
		metricFinishRetries.Inc()
		m.Log.Warn().Err(err).Int("attempt", attempt).Msg("ai: record finished turn failed; retrying")
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// publishFinal publishes (or republishes: same ids) a turn's final commands.
func (p *Processor) publishFinal(ctx context.Context, m *bus.Msg, rec *turnRecord) error {
	for _, c := range rec.Final {
		if _, err := m.Publish(ctx, rec.Subject, c.Key, c.Type, c.Data); err != nil {
			return fmt.Errorf("publish %s: %w", c.Type, err)
		}
	}
	return nil
}

// recordOf decodes a finished turn's record.
func recordOf(r *kv.Record) (*turnRecord, error) {
	var rec turnRecord
	if r == nil || len(r.Result) == 0 {
		return &rec, nil
	}
	if err := json.Unmarshal(r.Result, &rec); err != nil {
		return nil, fmt.Errorf("turn record: %w", err)
	}
	return &rec, nil
}

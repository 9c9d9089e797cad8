package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/processors/storage/store"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"go.opentelemetry.io/otel/attribute"
)

// History limits.
const (
	DefaultHistoryLimit = 50
	MaxHistoryLimit     = 500
	// maxThreadEntries bounds what one query reads: a streamed answer is
	// many entries (one per chunk) folded into one turn.
	maxThreadEntries = 10000
)

// HistoryService is the nats micro service name answering history queries.
const HistoryService = "maria-history"

func (s *Service) historySpec(durable string, def schemas.ConsumerSpec) schemas.ConsumerSpec {
	if spec, ok := schemas.ConsumerByName(durable); ok {
		return spec
	}
	return def
}

// HistoryInProcessor records inbound messages, mentions and commands.
func (s *Service) HistoryInProcessor() bus.Processor {
	spec := s.historySpec("storage-history-in", schemas.ConsumerSpec{Durable: "storage-history-in", Stream: schemas.StreamIn,
		FilterSubjects: []string{schemas.InKindFilter(schemas.KindMessage), schemas.InKindFilter(schemas.KindMention), schemas.InKindFilter(schemas.KindCommand)},
		AckWait:        30 * time.Second, MaxDeliver: 5})
	p := bus.FromSpec(spec, s.handleInbound)
	p.Concurrency = s.cfg.Concurrency
	p.Log = &s.log
	return p
}

// HistoryOutProcessor records Maria's delivered replies.
func (s *Service) HistoryOutProcessor() bus.Processor {
	spec := s.historySpec("storage-history-out", schemas.ConsumerSpec{Durable: "storage-history-out", Stream: schemas.StreamDelivered,
		FilterSubjects: []string{schemas.SubjectDeliveredAll}, AckWait: 30 * time.Second, MaxDeliver: 5})
	p := bus.FromSpec(spec, s.handleDelivered)
	p.Concurrency = s.cfg.Concurrency
	p.Log = &s.log
	return p
}

// conversational message subtypes; the rest (joins, topic changes, ...) are
// not history.
var conversational = map[string]bool{"": true, "thread_broadcast": true, "file_share": true, "me_message": true,
	"bot_message": true, "message_changed": true, "message_deleted": true}

// InboundEntry turns an inbound event into a history entry; ok=false when
// the event is not history.
func InboundEntry(env *schemas.Envelope) (store.Entry, bool, error) {
	e := store.Entry{Team: env.Team, Channel: env.Channel, User: env.User, Role: store.RoleUser, Op: store.OpSet, Time: env.Time.UTC()}
	switch env.Type {
	case schemas.TypeSlackMessage, schemas.TypeSlackMention:
		msg, err := schemas.DecodeData[schemas.SlackMessage](env)
		if err != nil {
			return e, false, err
		}
		if !conversational[msg.Subtype] {
			return e, false, nil
		}
		e.TS, e.Text, e.ID = msg.TS, msg.Text, "post"
		switch msg.Subtype {
		case "message_changed":
			// One entry per edit, ordered by time; the mention and message
			// deliveries of one edit share the Slack event id.
			e.TS, e.ID = firstNonEmpty(msg.PreviousTS, msg.TS), "edit-"+schemas.StableID(firstNonEmpty(msg.EventID, env.ID))[:16]
		case "message_deleted":
			e.TS, e.ID, e.Op, e.Text = firstNonEmpty(msg.PreviousTS, msg.TS), "delete", store.OpDelete, ""
		}
		if e.TS == "" {
			return e, false, fmt.Errorf("%w: %s without ts", schemas.ErrInvalidEnvelope, env.Type)
		}
		e.ThreadTS = firstNonEmpty(msg.ThreadTS, env.ThreadTS, e.TS)
		if e.User == "" {
			e.User = msg.BotID
		}
	case schemas.TypeSlackCommand:
		cmd, err := schemas.DecodeData[schemas.SlackCommand](env)
		if err != nil {
			return e, false, err
		}
		// A command has no Slack ts: it is placed at the time it arrived.
		t := env.Time.UTC()
		e.TS = fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
		e.ID = "cmd-" + schemas.StableID(env.ID)[:16]
		e.Text = strings.TrimSpace(cmd.Command + " " + cmd.Text)
		e.ThreadTS = firstNonEmpty(env.ThreadTS, e.TS)
	default:
		return e, false, nil
	}
	return e, true, nil
}

// DeliveredEntry turns a delivery into a history entry; ok=false when the
// delivery is not conversation (status, reaction, ephemeral, upload).
func DeliveredEntry(env *schemas.Envelope) (store.Entry, bool, error) {
	d, err := schemas.DecodeData[schemas.Delivered](env)
	if err != nil {
		return store.Entry{}, false, err
	}
	e := store.Entry{Team: env.Team, Channel: env.Channel, Role: store.RoleAssistant, TS: d.TS, Text: d.Text,
		ID: firstNonEmpty(d.CommandID, env.ID), Time: env.Time.UTC()}
	switch d.CommandType {
	case schemas.TypeOutPost, schemas.TypeOutUpdate, schemas.TypeOutStreamStart, schemas.TypeOutRespond:
		e.Op = store.OpSet
	case schemas.TypeOutStreamAppend, schemas.TypeOutStreamStop:
		// Slack appends a stop's markdown_text as the final chunk.
		e.Op = store.OpAppend
	case schemas.TypeOutEphemeral, schemas.TypeOutStatus, schemas.TypeOutPrompts, schemas.TypeOutTitle,
		schemas.TypeOutReact, schemas.TypeOutUpload:
		return e, false, nil
	default:
		if d.Text == "" {
			return e, false, nil
		}
		e.Op = store.OpSet
	}
	if d.TS == "" || (d.Text == "" && e.Op == store.OpAppend) {
		return e, false, nil // nothing visible to record
	}
	if d.Text == "" && d.CommandType == schemas.TypeOutStreamStart {
		return e, false, nil // an empty stream start: the chunks carry the text
	}
	e.ThreadTS = firstNonEmpty(env.ThreadTS, d.TS)
	return e, true, nil
}

func (s *Service) record(ctx context.Context, e store.Entry, ok bool, err error) error {
	if err != nil {
		metricHistory.WithLabelValues("", "invalid").Inc()
		return bus.Permanent(err)
	}
	if !ok {
		metricHistory.WithLabelValues("", "skipped").Inc()
		return nil
	}
	octx, done := timed(ctx, s.blobs.Backend(), "put_entry", attribute.String("maria.history.role", e.Role), attribute.String("maria.history.op", e.Op))
	err = s.records.PutEntry(octx, e)
	done(err)
	if err != nil {
		return bus.Retry(err)
	}
	metricHistory.WithLabelValues(e.Role, e.Op).Inc()
	return nil
}

func (s *Service) handleInbound(ctx context.Context, m *bus.Msg) error {
	e, ok, err := InboundEntry(m.Env)
	return s.record(ctx, e, ok, err)
}

func (s *Service) handleDelivered(ctx context.Context, m *bus.Msg) error {
	e, ok, err := DeliveredEntry(m.Env)
	return s.record(ctx, e, ok, err)
}

// Fold combines a thread's entries (sorted by ts, then time) into turns as
// the thread reads now: set replaces a message's text, append extends it,
// delete removes the message.
func Fold(entries []store.Entry) []schemas.HistoryTurn {
	type key struct{ ts, role string }
	idx := map[key]int{}
	var turns []schemas.HistoryTurn
	deleted := map[int]bool{}
	for _, e := range entries {
		k := key{e.TS, e.Role}
		i, seen := idx[k]
		if !seen {
			i = len(turns)
			idx[k] = i
			turns = append(turns, schemas.HistoryTurn{TS: e.TS, User: e.User, Role: e.Role, Time: e.Time})
		}
		t := &turns[i]
		if t.User == "" {
			t.User = e.User
		}
		if e.Time.Before(t.Time) || t.Time.IsZero() {
			t.Time = e.Time
		}
		switch e.Op {
		case store.OpDelete:
			deleted[i] = true
		case store.OpAppend:
			t.Text += e.Text
		default:
			t.Text = e.Text
			delete(deleted, i)
		}
	}
	out := make([]schemas.HistoryTurn, 0, len(turns))
	for i, t := range turns {
		if !deleted[i] {
			out = append(out, t)
		}
	}
	return out
}

// History answers one query from the store.
func (s *Service) History(ctx context.Context, q schemas.HistoryQuery) ([]schemas.HistoryTurn, error) {
	if q.Channel == "" || q.ThreadTS == "" {
		return nil, errBadQuery("channel and thread_ts are required")
	}
	if q.Limit < 0 || q.Limit > MaxHistoryLimit {
		return nil, errBadQuery(fmt.Sprintf("limit must be within 0..%d", MaxHistoryLimit))
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultHistoryLimit
	}
	octx, done := timed(ctx, s.blobs.Backend(), "history_query", attribute.String("maria.slack.channel", q.Channel))
	entries, err := s.records.Entries(octx, q.Team, q.Channel, q.ThreadTS, maxThreadEntries)
	done(err)
	if err != nil {
		return nil, err
	}
	turns := Fold(entries)
	if len(turns) > limit {
		turns = turns[len(turns)-limit:]
	}
	return turns, nil
}

type badQuery string

func (b badQuery) Error() string { return string(b) }
func errBadQuery(s string) error { return badQuery(s) }

// serveHistory registers the maria-history micro service on nc; replicas
// share the default queue group, so each query is answered once.
func (s *Service) serveHistory(ctx context.Context, nc *nats.Conn) (micro.Service, error) {
	handler := func(req micro.Request) {
		reply := schemas.HistoryReply{Turns: []schemas.HistoryTurn{}}
		var q schemas.HistoryQuery
		if err := json.Unmarshal(req.Data(), &q); err != nil {
			reply.Error = "bad request: " + err.Error()
			metricHistoryQueries.WithLabelValues("bad_request").Inc()
		} else {
			// The caller's correlation id and trace (telemetry.RequestHeaders) carry
			// over: the query is a server span of the turn that asked.
			sctx, span := telemetry.StartServerSpan(telemetry.RequestContext(ctx, nats.Header(req.Headers())), "storage serve history",
				attribute.String("rpc.system", "nats"), attribute.String("messaging.destination.name", schemas.SubjectHistoryQuery))
			qctx, cancel := context.WithTimeout(sctx, 10*time.Second)
			turns, err := s.History(qctx, q)
			cancel()
			telemetry.EndSpan(span, err)
			var bq badQuery
			switch {
			case errors.As(err, &bq):
				reply.Error = "bad request: " + err.Error()
				metricHistoryQueries.WithLabelValues("bad_request").Inc()
			case err != nil:
				s.log.Warn().Err(err).Str("correlation_id", telemetry.Correlation(sctx)).Str("channel", q.Channel).Str("thread_ts", q.ThreadTS).Msg("history query failed")
				reply.Error = "history unavailable: " + err.Error()
				metricHistoryQueries.WithLabelValues("error").Inc()
			default:
				reply.Turns = turns
				metricHistoryQueries.WithLabelValues("ok").Inc()
			}
		}
		if err := req.RespondJSON(reply); err != nil {
			s.log.Warn().Err(err).Msg("history reply failed")
		}
	}
	return micro.AddService(nc, micro.Config{
		Name:        HistoryService,
		Version:     "1.0.0",
		Description: "Maria thread history: " + schemas.SubjectHistoryQuery + " {team, channel, thread_ts, limit} -> {turns, error}",
		Endpoint: &micro.EndpointConfig{
			Subject: schemas.SubjectHistoryQuery,
			Handler: micro.HandlerFunc(handler),
		},
	})
}

// QueryHistory asks the history service for a thread's turns (oldest
// first). It is the Go client of maria.history.query.
func QueryHistory(ctx context.Context, nc *nats.Conn, q schemas.HistoryQuery) ([]schemas.HistoryTurn, error) {
	body, err := json.Marshal(q)
	if err != nil {
		return nil, fmt.Errorf("history query: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	msg, err := nc.RequestMsgWithContext(ctx, &nats.Msg{Subject: schemas.SubjectHistoryQuery, Data: body, Header: telemetry.RequestHeaders(ctx)})
	if err != nil {
		return nil, fmt.Errorf("history query: %w", err)
	}
	var r schemas.HistoryReply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		return nil, fmt.Errorf("history reply: %w", err)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("history query: %s", r.Error)
	}
	return r.Turns, nil
}

package ops

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stored is one message read back from a stream.
type Stored struct {
	Stream   string
	Sequence uint64
	Subject  string
	Time     time.Time
	Header   nats.Header
	Data     []byte // nil when scanned headers-only
}

// Window selects messages of one stream: a subject filter, a start (time or
// sequence) and an end (time or sequence). Zero values mean "from the first"
// and "up to the last message present when the scan starts" — the end is
// always bounded by that snapshot, so messages published while scanning (for
// instance by a replay into the same stream) are never picked up.
type Window struct {
	Subject string
	Since   time.Time
	Until   time.Time
	FromSeq uint64
	ToSeq   uint64
}

// Validate rejects contradictory bounds.
func (w Window) Validate() error {
	if !w.Since.IsZero() && w.FromSeq > 0 {
		return errors.New("give either a start time or a start sequence, not both")
	}
	if !w.Until.IsZero() && w.ToSeq > 0 {
		return errors.New("give either an end time or an end sequence, not both")
	}
	if w.FromSeq > 0 && w.ToSeq > 0 && w.ToSeq < w.FromSeq {
		return fmt.Errorf("end sequence %d is before start sequence %d", w.ToSeq, w.FromSeq)
	}
	if !w.Since.IsZero() && !w.Until.IsZero() && w.Until.Before(w.Since) {
		return fmt.Errorf("end time %s is before start time %s", w.Until.Format(time.RFC3339), w.Since.Format(time.RFC3339))
	}
	return nil
}

// ScanOptions tune Scan.
type ScanOptions struct {
	// HeadersOnly skips the bodies (much cheaper for filtering by header).
	HeadersOnly bool
	// Batch is the pull size (default 256).
	Batch int
}

// Scan reads the messages of stream selected by w, in stream order, with an
// ordered consumer (ephemeral, flow controlled, no acks, resumes itself after
// a hiccup) starting at w.Since (DeliverByStartTime) or w.FromSeq
// (OptStartSeq). It calls fn for each one and stops at the window's end, at
// the snapshot of the stream's last sequence, when fn returns false, or when
// ctx ends.
func Scan(ctx context.Context, js jetstream.JetStream, stream string, w Window, o ScanOptions, fn func(Stored) (bool, error)) error {
	if err := w.Validate(); err != nil {
		return err
	}
	st, err := OpenStream(ctx, js, stream)
	if err != nil {
		return err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream %s info: %w", stream, err)
	}
	last, ok := w.end(info.State)
	if !ok {
		return nil
	}
	cons, err := st.OrderedConsumer(ctx, w.consumerConfig(o.HeadersOnly))
	if err != nil {
		return fmt.Errorf("stream %s: ordered consumer: %w", stream, err)
	}
	defer dropConsumer(ctx, st, cons)
	sc := scanner{stream: stream, w: w, last: last, o: o, fn: fn}
	return sc.run(ctx, cons)
}

// end is the last sequence the window can reach in a stream in state, and
// false when no message of the stream can be in the window.
func (w Window) end(state jetstream.StreamState) (uint64, bool) {
	last := state.LastSeq
	if w.ToSeq > 0 && w.ToSeq < last {
		last = w.ToSeq
	}
	if state.Msgs == 0 || last == 0 || (w.FromSeq > 0 && w.FromSeq > last) {
		return 0, false
	}
	if !w.Since.IsZero() && state.LastTime.Before(w.Since) {
		return 0, false
	}
	return last, true
}

// consumerConfig starts an ordered consumer at the window's start.
func (w Window) consumerConfig(headersOnly bool) jetstream.OrderedConsumerConfig {
	cfg := jetstream.OrderedConsumerConfig{HeadersOnly: headersOnly, InactiveThreshold: time.Minute}
	if w.Subject != "" {
		cfg.FilterSubjects = []string{w.Subject}
	}
	switch {
	case w.FromSeq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, w.FromSeq
	case !w.Since.IsZero():
		t := w.Since
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	default:
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	return cfg
}

// dropConsumer removes the ephemeral consumer now rather than after its
// inactivity threshold, so `maria streams` does not show the tools' own scans.
func dropConsumer(ctx context.Context, st jetstream.Stream, cons jetstream.Consumer) {
	if ci := cons.CachedInfo(); ci != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = st.DeleteConsumer(dctx, ci.Name)
	}
}

// scanner is one Scan's walk through the window, batch by batch.
type scanner struct {
	stream string
	w      Window
	last   uint64
	o      ScanOptions
	fn     func(Stored) (bool, error)
}

func (sc scanner) run(ctx context.Context, cons jetstream.Consumer) error {
	batch := sc.o.Batch
	if batch <= 0 {
		batch = 256
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// NoWait: the server answers at once with what is pending, or with
		// "no messages" when the selection is exhausted.
		mb, err := cons.FetchNoWait(batch)
		if err != nil {
			return fmt.Errorf("stream %s: fetch: %w", sc.stream, err)
		}
		n, done, err := sc.batch(mb)
		if err != nil || done {
			return err
		}
		if err := mb.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return fmt.Errorf("stream %s: fetch: %w", sc.stream, err)
		}
		if n == 0 {
			return nil
		}
	}
}

// batch hands one fetched batch to fn; done when the window (or fn) ends.
func (sc scanner) batch(mb jetstream.MessageBatch) (n int, done bool, err error) {
	for m := range mb.Messages() {
		n++
		meta, err := m.Metadata()
		if err != nil {
			return n, true, fmt.Errorf("stream %s: metadata: %w", sc.stream, err)
		}
		seq := meta.Sequence.Stream
		if seq > sc.last || (!sc.w.Until.IsZero() && meta.Timestamp.After(sc.w.Until)) {
			return n, true, nil
		}
		s := Stored{Stream: sc.stream, Sequence: seq, Subject: m.Subject(), Time: meta.Timestamp, Header: m.Headers()}
		if !sc.o.HeadersOnly {
			s.Data = m.Data()
		}
		more, err := sc.fn(s)
		if err != nil || !more {
			return n, true, err
		}
		if seq == sc.last || meta.NumPending == 0 {
			return n, true, nil
		}
	}
	return n, false, nil
}

// GetMsg reads one stored message with its body.
func GetMsg(ctx context.Context, js jetstream.JetStream, stream string, seq uint64) (Stored, error) {
	st, err := OpenStream(ctx, js, stream)
	if err != nil {
		return Stored{}, err
	}
	raw, err := st.GetMsg(ctx, seq)
	if err != nil {
		return Stored{}, fmt.Errorf("stream %s seq %d: %w", stream, seq, err)
	}
	h := raw.Header
	if h == nil {
		h = nats.Header{}
	}
	return Stored{Stream: stream, Sequence: raw.Sequence, Subject: raw.Subject, Time: raw.Time, Header: h, Data: raw.Data}, nil
}

// ParseTime reads an operator's time: RFC3339 ("2026-11-23T10:00:00Z"), a
// date-time without zone (taken as UTC), or a duration back from now ("15m",
// "2h", "3d").
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	if d, err := ParseAgo(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC3339 (2026-11-23T10:00:00Z) or a duration ago (15m, 2h, 3d)", s)
}

// ParseAgo parses a positive Go duration, also accepting days ("3d").
func ParseAgo(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		n, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("duration %q: want e.g. 3d", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("duration %q: want a positive duration like 15m", s)
	}
	return d, nil
}

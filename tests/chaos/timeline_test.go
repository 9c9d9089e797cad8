package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// A timeline says where a slow conversation's time went: when Slack's
// event was accepted, when its question was stored in MARIA_IN, when the
// ai's first and last commands for it were stored in MARIA_OUT, when the
// last delivery was recorded in MARIA_DELIVERED, and when the thread showed
// the finished reply — next to when each fault began and ended. The stream
// timestamps are the stream leaders' own, so a stage that waited for a
// raft election shows it. Written (timeline.tsv in the scenario's
// directory, the slowest conversations in the test log) when CHAOS_LOGS
// keeps the scenario's files.

// faultSpan is one fault event as it happened.
type faultSpan struct {
	what       string
	start, end time.Time
}

// faultLog records the faults of a run; events run concurrently.
type faultLog struct {
	mu    sync.Mutex
	spans []faultSpan
}

func (f *faultLog) add(what string, start, end time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spans = append(f.spans, faultSpan{what: what, start: start, end: end})
}

// leaderless is how much of [from, to] some killed node's raft groups
// spent without a leader.
func (f *faultLog) leaderless(from, to time.Time) time.Duration {
	var total time.Duration
	cur := from
	spans := append([]faultSpan(nil), f.spans...)
	sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	for _, sp := range spans {
		if !strings.Contains(sp.what, "leaderless") {
			continue
		}
		start, end := maxTime(sp.start, cur), minTime(sp.end, to)
		if end.After(start) {
			total += end.Sub(start)
			cur = end
		}
	}
	return total
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// stamps are the stored times of one conversation's messages in a stream.
type stamps struct{ first, last time.Time }

func (s *stamps) add(t time.Time) {
	if s.first.IsZero() || t.Before(s.first) {
		s.first = t
	}
	if t.After(s.last) {
		s.last = t
	}
}

// streamStamps reads every message of stream with an ordered consumer and
// returns their stored times by correlation id.
func streamStamps(ctx context.Context, js jetstream.JetStream, stream string) (map[string]*stamps, error) {
	out := map[string]*stamps{}
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stream, err)
	}
	for {
		batch, err := cons.FetchNoWait(256)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", stream, err)
		}
		n := 0
		var pending uint64
		for m := range batch.Messages() {
			n++
			meta, err := m.Metadata()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", stream, err)
			}
			pending = meta.NumPending
			id := m.Headers().Get(schemas.HeaderCorrelationID)
			if out[id] == nil {
				out[id] = &stamps{}
			}
			out[id].add(meta.Timestamp)
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("%s: %w", stream, err)
		}
		if n == 0 || pending == 0 {
			return out, nil
		}
	}
}

// stage is one column of the timeline.
type stage struct {
	name string
	at   func(c *conv) time.Time
}

// writeTimeline writes dir/timeline.tsv and returns the slowest
// conversations' timelines and the faults, for the test log.
func writeTimeline(ctx context.Context, e *env, dir string, start time.Time, convs []*conv, w *watcher, faults *faultLog) (string, error) {
	streams := map[string]map[string]*stamps{}
	for _, s := range []string{schemas.StreamIn, schemas.StreamOut, schemas.StreamDelivered} {
		st, err := streamStamps(ctx, e.js, s)
		if err != nil {
			return "", err
		}
		streams[s] = st
	}
	at := func(stream string, last bool) func(c *conv) time.Time {
		return func(c *conv) time.Time {
			s := streams[stream][c.turn]
			switch {
			case s == nil:
				return time.Time{}
			case last:
				return s.last
			default:
				return s.first
			}
		}
	}
	stages := []stage{
		{"sent", func(c *conv) time.Time { return c.sent }},
		{"accepted", func(c *conv) time.Time { return c.acceptedAt }},
		{"in", at(schemas.StreamIn, false)},
		{"out_first", at(schemas.StreamOut, false)},
		{"out_last", at(schemas.StreamOut, true)},
		{"delivered_last", at(schemas.StreamDelivered, true)},
		{"replied", func(c *conv) time.Time { t, _ := w.repliedAt(c); return t }},
	}
	off := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return fmt.Sprintf("%.3f", t.Sub(start).Seconds())
	}
	var b strings.Builder
	b.WriteString("# offsets in seconds from the start of the sending window\n# faults:")
	for _, f := range faults.spans {
		fmt.Fprintf(&b, " [%s %s..%s]", f.what, off(f.start), off(f.end))
	}
	b.WriteString("\nconv\tthread\tevent")
	for _, s := range stages {
		b.WriteString("\t" + s.name)
	}
	b.WriteString("\tlatency\n")
	type slow struct {
		c   *conv
		lat time.Duration
	}
	var all []slow
	for _, c := range convs {
		fmt.Fprintf(&b, "%d\t%s\t%s", c.i, c.threadTS, c.eventID)
		for _, s := range stages {
			b.WriteString("\t" + off(s.at(c)))
		}
		lat := time.Duration(0)
		if t, ok := w.repliedAt(c); ok {
			lat = t.Sub(c.sent)
			all = append(all, slow{c, lat})
		}
		fmt.Fprintf(&b, "\t%.3f\n", lat.Seconds())
	}
	if err := os.WriteFile(filepath.Join(dir, "timeline.tsv"), []byte(b.String()), 0o600); err != nil {
		return "", err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].lat > all[j].lat })
	var sum strings.Builder
	sum.WriteString("faults:")
	for _, f := range faults.spans {
		fmt.Fprintf(&sum, " [%s +%s..+%s]", f.what, off(f.start), off(f.end))
	}
	sum.WriteString("\nslowest (offsets in s):")
	for _, s := range all[:min(len(all), 8)] {
		fmt.Fprintf(&sum, "\n  #%d %s (%s of it while raft groups had no leader):", s.c.i, round(s.lat), round(faults.leaderless(s.c.sent, s.c.sent.Add(s.lat))))
		for _, st := range stages {
			fmt.Fprintf(&sum, " %s +%s", st.name, off(st.at(s.c)))
		}
	}
	return sum.String(), nil
}

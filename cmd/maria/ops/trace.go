package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// Hop is one message of a traced conversation turn.
type Hop struct {
	N          int           `json:"n"`
	Time       time.Time     `json:"time"`
	SincePrev  time.Duration `json:"since_prev_ns"`
	SinceFirst time.Duration `json:"since_first_ns"`
	Stream     string        `json:"stream"`
	Seq        uint64        `json:"seq"`
	Subject    string        `json:"subject"`
	Message    Info          `json:"message"`
}

// TraceStreams are the streams a trace searches: every declared Maria stream.
func TraceStreams() []string {
	names := make([]string, 0, len(schemas.Streams))
	for _, s := range schemas.Streams {
		names = append(names, s.Name)
	}
	return names
}

// Trace finds every message carrying the correlation id in the given streams
// since the given time, and returns them in time order with per-hop latency.
//
// How: one ordered consumer per stream, in parallel, starting at `since`
// (DeliverByStartTime) and reading headers only — JetStream cannot filter on
// a header server-side, but Maria puts the correlation id in the
// Maria-Correlation-Id header of every message, so the scan ships a few
// hundred bytes per message instead of bodies of up to 8 MiB, in flow
// controlled batches instead of one request per message. Only the matches
// are then read in full (GetMsg by sequence).
func Trace(ctx context.Context, js jetstream.JetStream, correlationID string, since time.Time, streams []string) ([]Hop, error) {
	if correlationID == "" {
		return nil, errors.New("trace needs a correlation id")
	}
	var (
		mu   sync.Mutex
		hops []Hop
		errs []error
		wg   sync.WaitGroup
	)
	for _, name := range streams {
		wg.Go(func() {
			found, err := traceStream(ctx, js, name, correlationID, since)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			hops = append(hops, found...)
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	orderHops(hops)
	return hops, nil
}

// traceStream finds the messages of one stream that carry correlationID.
func traceStream(ctx context.Context, js jetstream.JetStream, name, correlationID string, since time.Time) ([]Hop, error) {
	var seqs []uint64
	err := Scan(ctx, js, name, Window{Since: since}, ScanOptions{HeadersOnly: true, Batch: 1024}, func(s Stored) (bool, error) {
		if s.Header.Get(schemas.HeaderCorrelationID) == correlationID {
			seqs = append(seqs, s.Sequence)
		}
		return true, nil
	})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil // not every deployment has every stream
	}
	var found []Hop
	for _, seq := range seqs {
		if err != nil {
			break
		}
		var s Stored
		s, err = GetMsg(ctx, js, name, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			err = nil // aged out between the scan and now
			continue
		}
		found = append(found, Hop{Time: s.Time, Stream: name, Seq: s.Sequence, Subject: s.Subject, Message: Describe(s.Header, s.Data)})
	}
	return found, err
}

// orderHops sorts hops by time (then stream and sequence) and numbers them
// with the latency since the previous hop and since the first.
func orderHops(hops []Hop) {
	sort.SliceStable(hops, func(i, j int) bool {
		if !hops[i].Time.Equal(hops[j].Time) {
			return hops[i].Time.Before(hops[j].Time)
		}
		if hops[i].Stream != hops[j].Stream {
			return hops[i].Stream < hops[j].Stream
		}
		return hops[i].Seq < hops[j].Seq
	})
	for i := range hops {
		hops[i].N = i + 1
		if i > 0 {
			hops[i].SincePrev = hops[i].Time.Sub(hops[i-1].Time)
			hops[i].SinceFirst = hops[i].Time.Sub(hops[0].Time)
		}
	}
}

// PrintTrace writes the hops as a table.
func PrintTrace(w io.Writer, hops []Hop, color bool) {
	p := Painter(color)
	tw := Table(w)
	Row(tw, "#", "TIME", "+PREV", "+FIRST", "STREAM", "SUBJECT", "TYPE", "SOURCE", "ID", "DATA")
	for _, h := range hops {
		Row(tw, h.N, h.Time.UTC().Format("15:04:05.000"), FormatDuration(h.SincePrev), FormatDuration(h.SinceFirst),
			h.Stream+":"+fmt.Sprint(h.Seq), p.Paint(StageColor(h.Subject), h.Subject), dash(h.Message.Type), dash(h.Message.Source),
			ShortID(h.Message.ID), Truncate(hopData(h), 60))
	}
	_ = tw.Flush()
	if len(hops) > 1 {
		fmt.Fprintf(w, "\n%d hops in %s\n", len(hops), FormatDuration(hops[len(hops)-1].SinceFirst))
	}
}

// hopData is what the DATA column shows: the payload, except for the
// record of an ERP read (erp's audit.v1 on maria.audit.erp_query, the only
// trace of a request/reply query), which reads as the query and its outcome.
func hopData(h Hop) string {
	if h.Subject != schemas.AuditSubject("erp_query") {
		return h.Message.Data
	}
	var a schemas.Audit
	if err := json.Unmarshal([]byte(h.Message.Data), &a); err != nil {
		return h.Message.Data
	}
	return fmt.Sprintf("erp query %s %s: %s", a.Op, a.Model, a.Outcome)
}

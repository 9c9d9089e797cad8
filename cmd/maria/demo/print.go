package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/schemas"
)

// ANSI styles (only when the output is a terminal).
const (
	styleReset = "\x1b[0m"
	styleBold  = "\x1b[1m"
	styleDim   = "\x1b[2m"
	// styleItalic and styleStrike render mrkdwn's _italic_ and ~strike~.
	styleItalic = "\x1b[3m"
	styleStrike = "\x1b[9m"
	styleGreen  = "\x1b[32m"
	styleRed    = "\x1b[31m"
	styleCyan   = "\x1b[36m"
)

// Printer writes the demo's output, with colours when enabled.
type Printer struct {
	W     io.Writer
	Color bool
}

func (p Printer) paint(style, s string) string {
	if !p.Color || s == "" {
		return s
	}
	return style + s + styleReset
}

// Printf writes formatted text.
func (p Printer) Printf(format string, args ...any) { fmt.Fprintf(p.W, format, args...) }

// Heading writes a section title.
func (p Printer) Heading(s string) { fmt.Fprintf(p.W, "\n%s\n", p.paint(styleBold, s)) }

// OK writes a passed check.
func (p Printer) OK(format string, args ...any) {
	fmt.Fprintf(p.W, "  %s %s\n", p.paint(styleGreen, "✓"), fmt.Sprintf(format, args...))
}

// Fail writes a failed check.
func (p Printer) Fail(format string, args ...any) {
	fmt.Fprintf(p.W, "  %s %s\n", p.paint(styleRed, "✗"), fmt.Sprintf(format, args...))
}

// Mrkdwn is the renderer of Slack text for this output.
func (p Printer) Mrkdwn() Mrkdwn { return Mrkdwn{Color: p.Color, Users: demoUserName} }

// demoUserName names the simulated workspace's people in mentions.
func demoUserName(id string) string {
	switch id {
	case ScriptUser:
		return "alice"
	case BotUserID:
		return "maria"
	}
	return ""
}

// Said writes who said something and its rendered text, continuation lines
// aligned under the first.
func (p Printer) Said(who, text string) {
	fmt.Fprintf(p.W, "%s %s\n", who, strings.ReplaceAll(text, "\n", "\n        "))
}

// Transcript writes the lines of the Slack transcript that are new (or
// changed) since prev, mrkdwn rendered, marked "+"; the lines already shown
// are not repeated. It returns the transcript for the next call.
func (p Printer) Transcript(cur, prev string) string {
	old := map[string]int{}
	for _, l := range strings.Split(prev, "\n") {
		old[l]++
	}
	md := p.Mrkdwn()
	for _, l := range strings.Split(strings.TrimRight(cur, "\n"), "\n") {
		if old[l] > 0 {
			old[l]--
			continue
		}
		fmt.Fprintf(p.W, "%s %s\n", p.paint(styleGreen, "+"), md.Render(l))
	}
	return cur
}

// TraceRow is one hop of a turn's trace.
type TraceRow struct {
	At      time.Time
	Stage   string
	What    string
	Subject string
}

// TurnTrace collects the turn's messages from every stream (ops.Trace:
// stored time, in order) plus the ERP queries seen while the turn ran
// (request/reply, never stored in a stream).
func (e *Env) TurnTrace(ctx context.Context, t *Turn, until time.Time) ([]TraceRow, error) {
	hops, err := ops.Trace(ctx, e.Observer.JetStream(), t.ID, t.Started.Add(-2*time.Second), ops.TraceStreams())
	if err != nil {
		return nil, err
	}
	var rows []TraceRow
	for _, h := range hops {
		rows = append(rows, TraceRow{At: h.Time, Stage: stage(h.Subject, h.Message.Source), What: describeHop(h), Subject: h.Subject})
	}
	for _, s := range e.Watch.All() {
		// Queries carry the turn's correlation id (the AI sets the header);
		// a caller that does not is placed by time.
		if s.Query == nil {
			continue
		}
		if c := s.Correlation(); c == t.ID || c == "" && !s.At.Before(t.Started) && !s.At.After(until) {
			rows = append(rows, TraceRow{At: s.At, Stage: "erp", What: "query " + s.Query.Model + " " + s.Query.Method,
				Subject: schemas.SubjectERPQuery + " (request/reply)"})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].At.Before(rows[j].At) })
	return rows, nil
}

func stage(subject, source string) string {
	switch {
	case strings.HasPrefix(subject, "maria.in."):
		return "ingress"
	case strings.HasPrefix(subject, "maria.delivered."):
		return "delivered"
	case strings.HasPrefix(subject, "maria.dlq."):
		return "dead letter"
	}
	if source != "" {
		return source
	}
	return "-"
}

func describeHop(h ops.Hop) string {
	typ := h.Message.Type
	if typ == schemas.TypeDelivered {
		// Say what was delivered: delivered.v1 ← out.stream.stop.v1.
		var d schemas.Delivered
		if json.Unmarshal([]byte(h.Message.Data), &d) == nil && d.CommandType != "" {
			return typ + " ← " + d.CommandType
		}
	}
	return typ
}

// Trace writes a turn's trace: every hop with its latency since the
// previous one (+PREV) and since the event reached ingress (+FIRST).
func (p Printer) Trace(id string, rows []TraceRow) {
	if len(rows) == 0 {
		fmt.Fprintf(p.W, "  trace %s: no message found\n", id)
		return
	}
	first := rows[0].At
	fmt.Fprintf(p.W, "  %s %s — %d hops, %s from ingress to the last one\n", p.paint(styleBold, "trace"), id, len(rows),
		ops.FormatDuration(rows[len(rows)-1].At.Sub(first)))
	tw := ops.Table(p.W)
	ops.Row(tw, "   ", "+FIRST", "+PREV", "STAGE", "MESSAGE", "SUBJECT")
	prev := first
	for _, r := range rows {
		ops.Row(tw, "   ", ops.FormatDuration(r.At.Sub(first)), ops.FormatDuration(r.At.Sub(prev)), r.Stage, r.What, r.Subject)
		prev = r.At
	}
	_ = tw.Flush()
}

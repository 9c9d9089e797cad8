package ops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/mariahq/maria/schemas"
	"github.com/mattn/go-isatty"
	"github.com/nats-io/nats.go"
)

// IsTerminal reports whether f is a terminal (not merely a character
// device: /dev/null is one, and must not count as an operator typing).
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// Table is an aligned text table.
func Table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// Row writes tab-separated cells.
func Row(w io.Writer, cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = strings.ReplaceAll(fmt.Sprint(c), "\t", " ")
	}
	fmt.Fprintln(w, strings.Join(parts, "\t"))
}

// JSON prints v indented, escaping nothing needlessly (a Slack "<@U1>"
// stays "<@U1>", not "\u003c@U1\u003e").
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Truncate shortens s to n runes with an ellipsis, on one line.
func Truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// CompactJSON returns raw on one line, or its text if it is not JSON, with
// <, > and & as themselves rather than \u003c, \u003e, \u0026.
func CompactJSON(raw []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return string(unescapeHTML(buf.Bytes()))
}

// Info is what operators want to see of a message without reading JSON.
type Info struct {
	ID            string    `json:"id,omitempty"`
	Type          string    `json:"type,omitempty"`
	Source        string    `json:"source,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	CausationID   string    `json:"causation_id,omitempty"`
	Team          string    `json:"team,omitempty"`
	Channel       string    `json:"channel,omitempty"`
	ThreadTS      string    `json:"thread_ts,omitempty"`
	User          string    `json:"user,omitempty"`
	Time          time.Time `json:"time,omitzero"`
	Data          string    `json:"data,omitempty"`
	Replay        string    `json:"replay,omitempty"`
	// Invalid is set when the body is not a Maria envelope.
	Invalid string `json:"invalid,omitempty"`
}

// Describe decodes a message's envelope; headers fill in what a headers-only
// read cannot decode.
func Describe(h nats.Header, data []byte) Info {
	in := Info{ID: h.Get(schemas.HeaderMsgID), Type: h.Get(schemas.HeaderType), Source: h.Get(schemas.HeaderSource),
		CorrelationID: h.Get(schemas.HeaderCorrelationID), CausationID: h.Get(schemas.HeaderCausationID),
		Replay: h.Get(schemas.HeaderReplay)}
	if data == nil {
		return in
	}
	env, err := schemas.Decode(data)
	if err != nil {
		in.Invalid = err.Error()
		in.Data = string(RedactCapabilities(data, Redacted))
		return in
	}
	in.ID, in.Type, in.Source, in.CorrelationID, in.CausationID = env.ID, env.Type, env.Source, env.CorrelationID, env.CausationID
	in.Team, in.Channel, in.ThreadTS, in.User, in.Time = env.Team, env.Channel, env.ThreadTS, env.User, env.Time
	in.Data = CompactJSON(RedactCapabilities(env.Data, Redacted))
	return in
}

// Where is team/channel/thread in one token.
func (in Info) Where() string {
	if in.Team == "" && in.Channel == "" {
		return "-"
	}
	s := in.Team + "/" + in.Channel
	if in.ThreadTS != "" {
		s += "/" + in.ThreadTS
	}
	return s
}

// ANSI colours.
const (
	cReset   = "\x1b[0m"
	cDim     = "\x1b[2m"
	cBold    = "\x1b[1m"
	cRed     = "\x1b[31m"
	cGreen   = "\x1b[32m"
	cYellow  = "\x1b[33m"
	cBlue    = "\x1b[34m"
	cMagenta = "\x1b[35m"
	cCyan    = "\x1b[36m"
)

// Painter colours text when enabled.
type Painter bool

// Paint wraps s in colour c.
func (p Painter) Paint(c, s string) string {
	if !p || s == "" {
		return s
	}
	return c + s + cReset
}

// StageColor picks a colour per pipeline stage.
func StageColor(subject string) string {
	switch {
	case strings.HasPrefix(subject, "maria.in."):
		return cCyan
	case strings.HasPrefix(subject, "maria.out."):
		return cGreen
	case strings.HasPrefix(subject, "maria.erp."):
		return cMagenta
	case strings.HasPrefix(subject, "maria.stored."):
		return cBlue
	case strings.HasPrefix(subject, "maria.delivered."):
		return cDim
	case strings.HasPrefix(subject, "maria.dlq."):
		return cRed
	case strings.HasPrefix(subject, "maria.audit."):
		return cYellow
	}
	return cBold
}

// ShortID keeps the first 12 characters of an id for tables.
func ShortID(id string) string {
	if len(id) <= 12 {
		return id
	}
	return id[:12]
}

// FormatDuration prints a latency compactly: 850µs, 12ms, 1.53s, 2m3s.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

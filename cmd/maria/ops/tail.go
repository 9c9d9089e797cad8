package ops

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// TailOptions tune Tail.
type TailOptions struct {
	Headers bool // print every header under the line
	Raw     bool // print the raw body instead of the compact data
	Color   bool
	// Width bounds the data column (default 160).
	Width int
}

// Tail prints every message published on subject (a core NATS subscription:
// it sees everything, stored in a stream or not, and changes nothing) until
// ctx ends.
func Tail(ctx context.Context, nc *nats.Conn, subject string, w io.Writer, o TailOptions) error {
	ch := make(chan *nats.Msg, 8192)
	sub, err := nc.ChanSubscribe(subject, ch)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", subject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.FlushTimeout(10 * time.Second); err != nil {
		return fmt.Errorf("subscribe %s: %w", subject, err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-ch:
			fmt.Fprint(w, FormatTail(m, time.Now(), o))
		}
	}
}

// FormatTail renders one message as tail shows it.
func FormatTail(m *nats.Msg, at time.Time, o TailOptions) string {
	p := Painter(o.Color)
	width := o.Width
	if width <= 0 {
		width = 160
	}
	in := Describe(m.Header, m.Data)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", p.Paint(cDim, at.UTC().Format("15:04:05.000")), p.Paint(StageColor(m.Subject), m.Subject), p.Paint(cBold, dash(in.Type)))
	if in.Source != "" {
		fmt.Fprintf(&b, " from=%s", in.Source)
	}
	if in.CorrelationID != "" {
		fmt.Fprintf(&b, " corr=%s", p.Paint(cYellow, ShortID(in.CorrelationID)))
	}
	if w := in.Where(); w != "-" {
		fmt.Fprintf(&b, " at=%s", w)
	}
	if in.Replay != "" {
		fmt.Fprintf(&b, " %s", p.Paint(cMagenta, "replay="+in.Replay))
	}
	if r := m.Header.Get("Maria-Dlq-Reason"); r != "" {
		fmt.Fprintf(&b, " %s", p.Paint(cRed, "reason="+Truncate(r, 80)))
	}
	switch {
	case o.Raw:
		fmt.Fprintf(&b, "\n  %s", RedactCapabilities(m.Data, Redacted))
	case in.Invalid != "":
		fmt.Fprintf(&b, " %s %s", p.Paint(cRed, "not an envelope:"), Truncate(string(RedactCapabilities(m.Data, Redacted)), width))
	case in.Data != "":
		fmt.Fprintf(&b, " %s", Truncate(in.Data, width))
	}
	b.WriteByte('\n')
	if o.Headers {
		keys := make([]string, 0, len(m.Header))
		for k := range m.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range m.Header[k] {
				fmt.Fprintf(&b, "  %s %s\n", p.Paint(cDim, k+":"), v)
			}
		}
	}
	return b.String()
}

package ops

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/mariahq/maria/schemas"
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
// ctx ends. When subject covers a request/reply endpoint (maria.erp.query,
// maria.history.query), the replies are shown too: they travel on the
// requester's inbox, so Tail also listens on _INBOX.> and prints the
// messages sent to the reply subject of a request it saw.
func Tail(ctx context.Context, nc *nats.Conn, subject string, w io.Writer, o TailOptions) error {
	ch := make(chan *nats.Msg, 8192)
	subs := []string{subject}
	replies := newReplyTracker()
	if coversEndpoint(subject) {
		subs = append(subs, "_INBOX.>")
	}
	for _, s := range subs {
		sub, err := nc.ChanSubscribe(s, ch)
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", s, err)
		}
		defer func() { _ = sub.Unsubscribe() }()
	}
	if err := nc.FlushTimeout(10 * time.Second); err != nil {
		return fmt.Errorf("subscribe %s: %w", subject, err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-ch:
			if strings.HasPrefix(m.Subject, "_INBOX.") {
				if req, ok := replies.take(m.Subject); ok {
					fmt.Fprint(w, FormatReply(m, req, time.Now(), o))
				}
				continue
			}
			if _, ok := EndpointOf(m.Subject); ok && m.Reply != "" {
				replies.add(m.Reply, m)
			}
			fmt.Fprint(w, FormatTail(m, time.Now(), o))
		}
	}
}

// coversEndpoint reports whether a subscription to subject receives the
// requests of some endpoint.
func coversEndpoint(subject string) bool {
	for _, e := range Endpoints {
		if SubjectMatches(subject, e.Subject) {
			return true
		}
	}
	return false
}

// SubjectMatches reports whether the concrete subject matches pattern
// (NATS wildcards: * one token, > the rest).
func SubjectMatches(pattern, subject string) bool {
	p, s := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, tok := range p {
		switch {
		case tok == ">":
			return len(s) > i
		case i >= len(s):
			return false
		case tok != "*" && tok != s[i]:
			return false
		}
	}
	return len(p) == len(s)
}

// replyTracker remembers the requests whose replies Tail waits for. A
// request that is never answered is forgotten after a minute.
type replyTracker struct {
	pending map[string]*nats.Msg
	seen    map[string]time.Time
}

func newReplyTracker() *replyTracker {
	return &replyTracker{pending: map[string]*nats.Msg{}, seen: map[string]time.Time{}}
}

func (r *replyTracker) add(reply string, req *nats.Msg) {
	if len(r.pending) > 1000 {
		for k, t := range r.seen {
			if time.Since(t) > time.Minute {
				delete(r.pending, k)
				delete(r.seen, k)
			}
		}
	}
	r.pending[reply], r.seen[reply] = req, time.Now()
}

func (r *replyTracker) take(reply string) (*nats.Msg, bool) {
	req, ok := r.pending[reply]
	delete(r.pending, reply)
	delete(r.seen, reply)
	return req, ok
}

// FormatReply renders the reply to an endpoint request as tail shows it:
// under the endpoint's subject, typed with its reply type, with the
// request's correlation id.
func FormatReply(m, req *nats.Msg, at time.Time, o TailOptions) string {
	e, _ := EndpointOf(req.Subject)
	reply := &nats.Msg{Subject: req.Subject + " (reply)", Header: nats.Header{}, Data: m.Data}
	for k, v := range m.Header {
		reply.Header[k] = v
	}
	if reply.Header.Get(schemas.HeaderType) == "" {
		reply.Header.Set(schemas.HeaderType, e.Reply)
	}
	if reply.Header.Get(schemas.HeaderCorrelationID) == "" {
		reply.Header.Set(schemas.HeaderCorrelationID, req.Header.Get(schemas.HeaderCorrelationID))
	}
	return formatLine(reply, plainBody(Describe(reply.Header, nil), e.Reply, m.Data), at, o)
}

// FormatTail renders one message as tail shows it.
func FormatTail(m *nats.Msg, at time.Time, o TailOptions) string {
	return formatLine(m, DescribeMsg(m.Subject, m.Header, m.Data), at, o)
}

func formatLine(m *nats.Msg, in Info, at time.Time, o TailOptions) string {
	p := Painter(o.Color)
	width := o.Width
	if width <= 0 {
		width = 160
	}
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

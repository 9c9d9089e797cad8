package ai

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
)

// streamer sends an answer to egress as it is generated.
//
// In a thread it publishes out.stream.start (Ref), then out.stream.append
// with batched markdown (every flushChars characters or flushEvery since the
// last batch, whichever comes first — never per token), then
// out.stream.stop with optional blocks. Egress maps this onto Slack's chat
// streaming, or onto post-then-update where streaming is unavailable.
// Without a thread (slash commands) it posts the whole answer once with
// out.post, because Slack streams only into threads.
//
// Every command has a fixed key ("stream-start", "append-N", "stream-stop")
// and so the same id on every delivery of the turn: a republish, or the
// same turn answered again, is dropped by JetStream and egress. The final
// commands are not published here but returned by Final, for the turn to
// publish after its commit point (see turn.go).
//
// Everything written passes through san (see sanitizer) before it is
// buffered: this is the one place the model's text goes to Slack.
type streamer struct {
	san        *sanitizer
	m          *bus.Msg
	subject    string
	ref        string
	threadTS   string
	user       string
	team       string
	prefix     string // post mode: text put before the answer
	flushChars int
	flushEvery time.Duration
	now        func() time.Time

	buf       strings.Builder
	all       strings.Builder
	started   bool
	appends   int
	lastFlush time.Time
	stopped   bool
}

func (s *streamer) postMode() bool { return s.threadTS == "" }

// Write takes a piece of the answer and publishes a batch when due.
func (s *streamer) Write(ctx context.Context, delta string) error {
	if delta == "" {
		return nil
	}
	safe := s.san.Write(delta)
	s.all.WriteString(safe)
	if s.postMode() || safe == "" {
		return nil
	}
	s.buf.WriteString(safe)
	if s.lastFlush.IsZero() {
		s.lastFlush = s.now()
	}
	if s.buf.Len() >= s.flushChars || s.now().Sub(s.lastFlush) >= s.flushEvery {
		return s.flush(ctx)
	}
	return nil
}

// Text is everything written so far, as sanitized for Slack.
func (s *streamer) Text() string { return s.all.String() + s.san.Pending() }

// release moves the sanitizer's held-back tail into the answer: the end.
func (s *streamer) release() {
	rest := s.san.Flush()
	s.all.WriteString(rest)
	if !s.postMode() {
		s.buf.WriteString(rest)
	}
}

// Started reports whether anything reached egress.
func (s *streamer) Started() bool { return s.started }

func (s *streamer) start(ctx context.Context) error {
	if s.started {
		return nil
	}
	if _, err := s.m.Publish(ctx, s.subject, "stream-start", schemas.TypeOutStreamStart, s.startCommand()); err != nil {
		return fmt.Errorf("stream start: %w", err)
	}
	s.started = true
	return nil
}

func (s *streamer) startCommand() schemas.OutStream {
	return schemas.OutStream{Ref: s.ref, ThreadTS: s.threadTS, Recipient: s.user, TeamID: s.team}
}

func (s *streamer) flush(ctx context.Context) error {
	if s.buf.Len() == 0 {
		return nil
	}
	if err := s.start(ctx); err != nil {
		return err
	}
	s.appends++
	cmd := schemas.OutStream{Ref: s.ref, ThreadTS: s.threadTS, Markdown: s.buf.String()}
	if _, err := s.m.Publish(ctx, s.subject, fmt.Sprintf("append-%d", s.appends), schemas.TypeOutStreamAppend, cmd); err != nil {
		return fmt.Errorf("stream append: %w", err)
	}
	s.buf.Reset()
	s.lastFlush = s.now()
	return nil
}

// Final ends the answer without publishing: it returns the commands that
// send what is left and end the message — the post, or the stream start
// (if nothing was streamed yet), the last append and the stop with blocks
// (e.g. record links) attached at the end.
func (s *streamer) Final(blocks []any) ([]finalCommand, error) {
	if s.stopped {
		return nil, nil
	}
	s.release()
	s.stopped = true
	if s.postMode() {
		text := s.prefix + s.all.String()
		post := schemas.OutPost{Text: text, Ref: s.ref}
		if len(blocks) > 0 {
			post.Blocks = append([]any{section(text)}, blocks...)
		}
		c, err := newFinal("post", schemas.TypeOutPost, post)
		return []finalCommand{c}, err
	}
	var out []finalCommand
	add := func(key, typ string, d schemas.OutStream) error {
		c, err := newFinal(key, typ, d)
		out = append(out, c)
		return err
	}
	if !s.started {
		if err := add("stream-start", schemas.TypeOutStreamStart, s.startCommand()); err != nil {
			return nil, err
		}
		s.started = true
	}
	if s.buf.Len() > 0 {
		s.appends++
		last := schemas.OutStream{Ref: s.ref, ThreadTS: s.threadTS, Markdown: s.buf.String()}
		if err := add(fmt.Sprintf("append-%d", s.appends), schemas.TypeOutStreamAppend, last); err != nil {
			return nil, err
		}
		s.buf.Reset()
	}
	if err := add("stream-stop", schemas.TypeOutStreamStop, schemas.OutStream{Ref: s.ref, ThreadTS: s.threadTS, Blocks: blocks}); err != nil {
		return nil, err
	}
	return out, nil
}

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
// In a thread it publishes out.stream.start (Ref) carrying the first batch
// of markdown, then out.stream.append with the next batches (every
// flushChars characters or flushEvery since the last batch, whichever comes
// first — never per token; Slack's chat.appendStream is rate limited too),
// then out.stream.stop carrying the rest of the text and optional blocks.
// An answer complete before its first batch was due is so two commands
// (start with the whole text, stop with the blocks), not one per batch. Egress maps this onto Slack's chat
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
	// onStart runs before the first command (the thread status it replaces).
	onStart func()
	// redelivered: an earlier attempt of the turn may have started the
	// stream already (under the same ids, so this start would be dropped):
	// the end of the text then rides on the stop, never on the start.
	redelivered bool

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

// flush publishes the buffered text: the stream's start with it the first
// time, an append afterwards.
func (s *streamer) flush(ctx context.Context) error {
	if s.buf.Len() == 0 {
		return nil
	}
	if s.onStart != nil && !s.started {
		s.onStart()
	}
	key, typ := "stream-start", schemas.TypeOutStreamStart
	cmd := s.startCommand()
	if s.started {
		s.appends++
		key, typ = fmt.Sprintf("append-%d", s.appends), schemas.TypeOutStreamAppend
		cmd = schemas.OutStream{Ref: s.ref, ThreadTS: s.threadTS}
	}
	cmd.Markdown = s.buf.String()
	if _, err := s.m.Publish(ctx, s.subject, key, typ, cmd); err != nil {
		return fmt.Errorf("stream %s: %w", key, err)
	}
	s.started = true
	s.buf.Reset()
	s.lastFlush = s.now()
	return nil
}

func (s *streamer) startCommand() schemas.OutStream {
	return schemas.OutStream{Ref: s.ref, ThreadTS: s.threadTS, Recipient: s.user, TeamID: s.team}
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
	stop := schemas.OutStream{Ref: s.ref, ThreadTS: s.threadTS, Blocks: blocks}
	if !s.started {
		// Nothing streamed yet: the start carries the whole text.
		start := s.startCommand()
		if s.redelivered {
			stop.Markdown = s.buf.String()
		} else {
			start.Markdown = s.buf.String()
		}
		c, err := newFinal("stream-start", schemas.TypeOutStreamStart, start)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		s.started = true
	} else {
		// The rest of the text rides on the stop (chat.stopStream appends
		// its markdown_text), not on an append of its own.
		stop.Markdown = s.buf.String()
	}
	s.buf.Reset()
	c, err := newFinal("stream-stop", schemas.TypeOutStreamStop, stop)
	if err != nil {
		return nil, err
	}
	return append(out, c), nil
}

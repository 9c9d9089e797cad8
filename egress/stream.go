package egress

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	"github.com/slack-go/slack"
)

// Chat streaming (chat.startStream / appendStream / stopStream) needs an
// assistant thread or a DM plus recipient ids in channels. Where Slack
// refuses to start a stream, egress falls back to post-then-update: the
// start posts a message, appends are buffered in the ref record and flushed
// with chat.update at most once per StreamFlush, the stop flushes the rest.

// fatalCodes fail a stream start outright: a plain post would fail the same way.
var fatalCodes = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true, "invalid_auth": true,
	"not_authed": true, "account_inactive": true, "token_revoked": true, "token_expired": true,
	"thread_not_found": true, "msg_too_long": true, "restricted_action": true,
}

// streamingOff remembers for a while that a channel cannot stream, so
// later starts go straight to the fallback.
const streamingOff = 10 * time.Minute

func (e *Egress) streamingUnavailable(ch string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	until, ok := e.noStream[ch]
	if ok && time.Now().After(until) {
		delete(e.noStream, ch)
		return false
	}
	return ok
}

func (e *Egress) markStreamingUnavailable(ch string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.noStream[ch] = time.Now().Add(streamingOff)
}

// markdownBlockLimit is Slack's limit on a markdown block's text.
const markdownBlockLimit = 12000

// fallbackOptions renders streamed markdown as a regular message: a
// markdown block (standard Markdown, like the stream) plus the text.
func fallbackOptions(env *schemas.Envelope, text string, extra []any, thread string, withMeta bool, ref string) ([]slack.MsgOption, error) {
	shown := text
	if strings.TrimSpace(shown) == "" {
		shown = "…"
	}
	opts, err := messageOptions(env, shown, extra, thread, withMeta, ref)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(text) != "" && len(text) <= markdownBlockLimit {
		opts = append(opts, slack.MsgOptionBlocks(slack.NewMarkdownBlock("", text)))
	}
	return opts, nil
}

func (e *Egress) streamStart(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutStream](m.Env)
	if err != nil {
		return err
	}
	if p.Ref == "" {
		return bus.Permanent(errors.New("stream start needs a ref"))
	}
	env := m.Env
	ch, th := env.Channel, threadOf(env, p.ThreadTS)
	recipient, team := p.Recipient, p.TeamID
	if recipient == "" {
		recipient = env.User
	}
	if team == "" {
		team = env.Team
	}
	return e.once(ctx, m, effect{
		do: func(ctx context.Context) (*outcome, error) {
			if !e.streamingUnavailable(ch) {
				var opts []slack.MsgOption
				if p.Markdown != "" {
					opts = append(opts, slack.MsgOptionMarkdownText(p.Markdown))
				}
				if th != "" {
					opts = append(opts, slack.MsgOptionTS(th))
				}
				if recipient != "" && team != "" {
					opts = append(opts, slack.MsgOptionRecipientUserID(recipient), slack.MsgOptionRecipientTeamID(team))
				}
				var ts string
				err := call(ctx, "chat.startStream", ch, e.cfg.DryRun, func(ctx context.Context) error {
					_, t, err := e.api.StartStreamContext(ctx, ch, opts...)
					ts = t
					return err
				})
				if err == nil {
					return &outcome{TS: ts, Ref: p.Ref, Mode: modeStream, Text: p.Markdown}, nil
				}
				se := classify("chat.startStream", err)
				if se.Kind != kindPermanent || fatalCodes[se.Code] {
					return nil, err
				}
				e.markStreamingUnavailable(ch)
				metricStreamFallback.Inc()
				m.Log.Info().Str("channel", ch).Str("slack_error", se.Code).Msg("chat streaming unavailable here; falling back to post-then-update")
			}
			opts, err := fallbackOptions(env, p.Markdown, nil, th, true, p.Ref)
			if err != nil {
				return nil, err
			}
			ts, err := e.postMessage(ctx, ch, opts)
			return &outcome{TS: ts, Ref: p.Ref, Mode: modeFallback, Text: p.Markdown}, err
		},
		// A fallback post carries metadata and is found by it; a native
		// stream cannot (chat.startStream takes no metadata) and is found
		// as the thread's unclaimed stream (see findStream).
		reconcile: func(ctx context.Context, since time.Time) (*outcome, error) {
			ts, err := e.findByCommand(ctx, ch, th, env.ID, since)
			if err != nil {
				return nil, err
			}
			if ts != "" {
				return &outcome{TS: ts, Ref: p.Ref, Mode: modeFallback, Text: p.Markdown}, nil
			}
			if ts, err = e.findStream(ctx, ch, th, p.Markdown, since); ts == "" || err != nil {
				return nil, err
			}
			m.Log.Warn().Str("ts", ts).Msg("an uncertain chat.startStream did start the stream; continuing it")
			return &outcome{TS: ts, Ref: p.Ref, Mode: modeStream, Text: p.Markdown}, nil
		},
		after: e.refWriter(env, p.Ref, modeStream),
	})
}

func (e *Egress) streamAppend(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutStream](m.Env)
	if err != nil {
		return err
	}
	if p.Ref == "" {
		return bus.Permanent(errors.New("stream append needs a ref"))
	}
	r, err := e.resolve(ctx, m.Env, p.Ref)
	if err != nil {
		return err
	}
	if r.Mode == modeFallback {
		return e.fallbackApply(ctx, m, p, false)
	}
	ch, chunk := m.Env.Channel, p.Markdown
	return e.once(ctx, m, effect{
		do: func(ctx context.Context) (*outcome, error) {
			o := &outcome{TS: r.TS, Ref: p.Ref, Text: chunk}
			if chunk == "" {
				return o, nil
			}
			return o, call(ctx, "chat.appendStream", ch, e.cfg.DryRun, func(ctx context.Context) error {
				_, _, err := e.api.AppendStreamContext(ctx, ch, r.TS, slack.MsgOptionMarkdownText(chunk))
				return err
			})
		},
		reconcile: func(ctx context.Context, _ time.Time) (*outcome, error) {
			text, found, err := e.messageText(ctx, ch, r.TS)
			if err != nil || !found || chunk == "" || !appended(text, chunk, r.Streamed) {
				return nil, err
			}
			return &outcome{TS: r.TS, Ref: p.Ref, Text: chunk}, nil
		},
		after: e.streamAdvance(m.Env, p.Ref, len(chunk)),
	})
}

// appended reports whether an uncertain append of chunk reached a stream
// that held `before` bytes: the stream then holds at least before+len(chunk)
// bytes and ends with chunk. The length matters: "Yes. " appended after
// "Yes. " leaves a text ending with it either way. Appends of one stream run
// one at a time, in order (the thread's lane), so nothing else grew it.
// (Streams recorded before the length was kept have before = 0: the check
// falls back to the suffix.)
func appended(text, chunk string, before int) bool {
	return len(text) >= before+len(chunk) && strings.HasSuffix(text, chunk)
}

// streamAdvance records in the ref that the append cmdID added n bytes to
// the native stream, once per command (redeliveries run it again).
func (e *Egress) streamAdvance(env *schemas.Envelope, ref string, n int) func(context.Context, *outcome) error {
	return func(ctx context.Context, _ *outcome) error {
		return e.st.changeRef(ctx, env, ref, func(r *refRecord) bool {
			if r.applied(env.ID) {
				return false
			}
			r.Streamed += n
			r.Applied = append(r.Applied, env.ID)
			return true
		})
	}
}

func (e *Egress) streamStop(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutStream](m.Env)
	if err != nil {
		return err
	}
	if p.Ref == "" {
		return bus.Permanent(errors.New("stream stop needs a ref"))
	}
	r, err := e.resolve(ctx, m.Env, p.Ref)
	if err != nil {
		return err
	}
	if r.Mode == modeFallback {
		return e.fallbackApply(ctx, m, p, true)
	}
	var opts []slack.MsgOption
	if p.Markdown != "" {
		opts = append(opts, slack.MsgOptionMarkdownText(p.Markdown))
	}
	bo, err := blocksOption(p.Blocks)
	if err != nil {
		return err
	}
	if bo != nil {
		opts = append(opts, bo)
	}
	opts = append(opts, metadataOption(m.Env.ID, p.Ref))
	ch := m.Env.Channel
	return e.once(ctx, m, effect{do: func(ctx context.Context) (*outcome, error) {
		err := call(ctx, "chat.stopStream", ch, e.cfg.DryRun, func(ctx context.Context) error {
			_, _, err := e.api.StopStreamContext(ctx, ch, r.TS, opts...)
			return err
		})
		if code(err) == "message_not_in_streaming_state" {
			err = nil // already stopped: the state we want
		}
		return &outcome{TS: r.TS, Ref: p.Ref, Text: p.Markdown}, err
	}})
}

// fallbackApply adds an append (or the stop) to a post-then-update stream.
// The ref record carries the full text and the ids already applied, so a
// redelivery never appends twice; Slack is updated at most once per
// StreamFlush, and always at the stop.
func (e *Egress) fallbackApply(ctx context.Context, m *bus.Msg, p *schemas.OutStream, stop bool) error {
	env, id := m.Env, m.Env.ID
	return e.once(ctx, m, effect{do: func(ctx context.Context) (*outcome, error) {
		var lastErr error
		for range 3 {
			r, err := e.resolve(ctx, env, p.Ref)
			if err != nil {
				return nil, err
			}
			o := &outcome{TS: r.TS, Ref: p.Ref, Text: p.Markdown}
			if r.applied(id) {
				return o, nil
			}
			if r.Stopped {
				return nil, bus.Permanent(fmt.Errorf("stream %q already stopped", p.Ref))
			}
			text := r.Text + p.Markdown
			if stop || time.Since(r.LastFlush) >= e.cfg.StreamFlush {
				if text != r.Text || r.Flushed != len(text) || stop {
					var extra []any
					if stop {
						extra = p.Blocks
					}
					opts, err := fallbackOptions(env, text, extra, "", false, "")
					if err != nil {
						return nil, err
					}
					if err := e.updateMessage(ctx, env.Channel, r.TS, opts); err != nil {
						return nil, err
					}
				}
				r.LastFlush, r.Flushed = time.Now(), len(text)
			}
			r.Text, r.Applied, r.Stopped = text, append(r.Applied, id), stop
			if err := e.st.updateRef(ctx, env, p.Ref, r); err != nil {
				lastErr = err // concurrent change: read again
				continue
			}
			return o, nil
		}
		return nil, lastErr
	}})
}

package egress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	"github.com/slack-go/slack"
)

// MetadataEventType marks Maria's messages; the payload names the command
// that posted them, which is how an uncertain delivery is reconciled.
const MetadataEventType = "maria_command"

// execute runs one command.
func (e *Egress) execute(ctx context.Context, m *bus.Msg) error {
	env := m.Env
	if env.Channel == "" && env.Type != schemas.TypeOutRespond {
		return bus.Permanent(fmt.Errorf("%s command %s has no channel", env.Type, env.ID))
	}
	ctx, err := e.forTeam(ctx, env.Team)
	if err != nil {
		return err
	}
	switch env.Type {
	case schemas.TypeOutPost:
		return e.post(ctx, m)
	case schemas.TypeOutUpdate:
		return e.update(ctx, m)
	case schemas.TypeOutEphemeral:
		return e.ephemeral(ctx, m)
	case schemas.TypeOutRespond:
		return e.respond(ctx, m)
	case schemas.TypeOutStreamStart:
		return e.streamStart(ctx, m)
	case schemas.TypeOutStreamAppend:
		return e.streamAppend(ctx, m)
	case schemas.TypeOutStreamStop:
		return e.streamStop(ctx, m)
	case schemas.TypeOutStatus:
		return e.status(ctx, m)
	case schemas.TypeOutPrompts:
		return e.prompts(ctx, m)
	case schemas.TypeOutTitle:
		return e.title(ctx, m)
	case schemas.TypeOutReact:
		return e.react(ctx, m)
	case schemas.TypeOutUpload:
		return e.upload(ctx, m)
	case schemas.TypeOutViewPublish:
		return e.publishView(ctx, m)
	case schemas.TypeOutViewOpen:
		return e.openView(ctx, m)
	}
	return bus.Permanent(fmt.Errorf("egress does not handle type %q", env.Type))
}

// decode parses the payload; a bad payload is permanent.
func decode[T any](env *schemas.Envelope) (*T, error) {
	v, err := schemas.DecodeData[T](env)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	return v, nil
}

func threadOf(env *schemas.Envelope, payload string) string {
	if payload != "" {
		return payload
	}
	return env.ThreadTS
}

// blocksOption turns Block Kit JSON into a slack-go option (nil when none).
func blocksOption(raw []any) (slack.MsgOption, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, bus.Permanent(fmt.Errorf("blocks: %w", err))
	}
	var blocks slack.Blocks
	if err := json.Unmarshal(b, &blocks); err != nil {
		return nil, bus.Permanent(fmt.Errorf("invalid blocks: %w", err))
	}
	return slack.MsgOptionBlocks(blocks.BlockSet...), nil
}

func metadataOption(cmdID, ref string) slack.MsgOption {
	p := map[string]any{"command_id": cmdID}
	if ref != "" {
		p["ref"] = ref
	}
	return slack.MsgOptionMetadata(slack.SlackMetadata{EventType: MetadataEventType, EventPayload: p})
}

func messageOptions(env *schemas.Envelope, text string, blocks []any, thread string, withMeta bool, ref string) ([]slack.MsgOption, error) {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	bo, err := blocksOption(blocks)
	if err != nil {
		return nil, err
	}
	if bo != nil {
		opts = append(opts, bo)
	}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	if withMeta {
		opts = append(opts, metadataOption(env.ID, ref))
	}
	return opts, nil
}

func (e *Egress) refWriter(env *schemas.Envelope, ref, mode string) func(context.Context, *outcome) error {
	if ref == "" {
		return nil
	}
	return func(ctx context.Context, o *outcome) error {
		cur, err := e.st.getRef(ctx, env, ref)
		if err != nil {
			return err
		}
		if cur != nil && cur.TS == o.TS {
			return nil // already written (fallback streams keep their state there)
		}
		m := mode
		if o.Mode != "" {
			m = o.Mode
		}
		r := &refRecord{TS: o.TS, Channel: env.Channel, Mode: m}
		switch m {
		case modeFallback:
			r.Text, r.Flushed, r.LastFlush = o.Text, len(o.Text), time.Now()
		case modeStream:
			r.Streamed = len(o.Text)
		}
		return e.st.putRef(ctx, env, ref, r)
	}
}

// resolve returns the record of ref, or a refPendingError while it has none.
func (e *Egress) resolve(ctx context.Context, env *schemas.Envelope, ref string) (*refRecord, error) {
	r, err := e.st.getRef(ctx, env, ref)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, &refPendingError{ref: ref}
	}
	return r, nil
}

func (e *Egress) post(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutPost](m.Env)
	if err != nil {
		return err
	}
	if strings.TrimSpace(p.Text) == "" && len(p.Blocks) == 0 {
		return bus.Permanent(errors.New("post has neither text nor blocks"))
	}
	ch, th := m.Env.Channel, threadOf(m.Env, p.ThreadTS)
	opts, err := messageOptions(m.Env, p.Text, p.Blocks, th, true, p.Ref)
	if err != nil {
		return err
	}
	return e.once(ctx, m, effect{
		do: func(ctx context.Context) (*outcome, error) {
			ts, err := e.postMessage(ctx, ch, opts)
			return &outcome{TS: ts, Ref: p.Ref, Text: p.Text, Mode: modeMessage}, err
		},
		reconcile: func(ctx context.Context, since time.Time) (*outcome, error) {
			ts, err := e.findByCommand(ctx, ch, th, m.Env.ID, since)
			if ts == "" || err != nil {
				return nil, err
			}
			return &outcome{TS: ts, Ref: p.Ref, Text: p.Text, Mode: modeMessage}, nil
		},
		after: e.refWriter(m.Env, p.Ref, modeMessage),
	})
}

func (e *Egress) postMessage(ctx context.Context, ch string, opts []slack.MsgOption) (string, error) {
	var ts string
	err := call(ctx, "chat.postMessage", ch, e.cfg.DryRun, func(ctx context.Context) error {
		_, t, err := e.api.PostMessageContext(ctx, ch, opts...)
		ts = t
		return err
	})
	return ts, err
}

func (e *Egress) updateMessage(ctx context.Context, ch, ts string, opts []slack.MsgOption) error {
	return call(ctx, "chat.update", ch, e.cfg.DryRun, func(ctx context.Context) error {
		_, _, _, err := e.api.UpdateMessageContext(ctx, ch, ts, opts...)
		return err
	})
}

func (e *Egress) update(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutUpdate](m.Env)
	if err != nil {
		return err
	}
	if p.TS == "" && p.Ref == "" {
		return bus.Permanent(errors.New("update names neither ts nor ref"))
	}
	if strings.TrimSpace(p.Text) == "" && len(p.Blocks) == 0 {
		return bus.Permanent(errors.New("update has neither text nor blocks"))
	}
	ts := p.TS
	if ts == "" {
		r, err := e.resolve(ctx, m.Env, p.Ref)
		if err != nil {
			return err
		}
		ts = r.TS
	}
	opts, err := messageOptions(m.Env, p.Text, p.Blocks, "", false, "")
	if err != nil {
		return err
	}
	return e.once(ctx, m, effect{do: func(ctx context.Context) (*outcome, error) {
		return &outcome{TS: ts, Ref: p.Ref, Text: p.Text}, e.updateMessage(ctx, m.Env.Channel, ts, opts)
	}})
}

func (e *Egress) ephemeral(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutEphemeral](m.Env)
	if err != nil {
		return err
	}
	user := p.User
	if user == "" {
		user = m.Env.User
	}
	if user == "" {
		return bus.Permanent(errors.New("ephemeral message has no user"))
	}
	if strings.TrimSpace(p.Text) == "" && len(p.Blocks) == 0 {
		return bus.Permanent(errors.New("ephemeral message has neither text nor blocks"))
	}
	opts, err := messageOptions(m.Env, p.Text, p.Blocks, threadOf(m.Env, p.ThreadTS), false, "")
	if err != nil {
		return err
	}
	return e.once(ctx, m, effect{do: func(ctx context.Context) (*outcome, error) {
		var ts string
		err := call(ctx, "chat.postEphemeral", m.Env.Channel, e.cfg.DryRun, func(ctx context.Context) error {
			t, err := e.api.PostEphemeralContext(ctx, m.Env.Channel, user, opts...)
			ts = t
			return err
		})
		return &outcome{TS: ts, Text: p.Text}, err
	}})
}

// responseURLAllowed: the token-less response_url still must point at Slack
// (or the configured API host, e.g. a simulator), never anywhere a payload says.
func (e *Egress) responseURLAllowed(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("response_url is not a URL")
	}
	host := strings.ToLower(u.Hostname())
	if u.Scheme == "https" && (host == "slack.com" || strings.HasSuffix(host, ".slack.com") || host == "slack-gov.com" || strings.HasSuffix(host, ".slack-gov.com")) {
		return nil
	}
	if api, err := url.Parse(e.cfg.APIURL); err == nil && api.Scheme == u.Scheme && strings.EqualFold(api.Host, u.Host) {
		return nil
	}
	return fmt.Errorf("response_url host %q is not Slack's", u.Host)
}

func (e *Egress) respond(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutRespond](m.Env)
	if err != nil {
		return err
	}
	if err := e.responseURLAllowed(p.ResponseURL); err != nil {
		return bus.Permanent(err)
	}
	if strings.TrimSpace(p.Text) == "" && len(p.Blocks) == 0 {
		return bus.Permanent(errors.New("response has neither text nor blocks"))
	}
	opts, err := messageOptions(m.Env, p.Text, p.Blocks, "", false, "")
	if err != nil {
		return err
	}
	opts = append(opts, slack.MsgOptionResponseURL(p.ResponseURL, p.ResponseType))
	if p.ReplaceOriginal {
		opts = append(opts, slack.MsgOptionReplaceOriginal(p.ResponseURL))
	}
	return e.once(ctx, m, effect{do: func(ctx context.Context) (*outcome, error) {
		err := call(ctx, "response_url", m.Env.Channel, e.cfg.DryRun, func(ctx context.Context) error {
			_, _, err := e.api.PostMessageContext(ctx, m.Env.Channel, opts...)
			return err
		})
		return &outcome{Text: p.Text}, err
	}})
}

func (e *Egress) status(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutStatus](m.Env)
	if err != nil {
		return err
	}
	th := threadOf(m.Env, p.ThreadTS)
	if th == "" {
		return bus.Permanent(errors.New("status needs a thread_ts"))
	}
	return e.once(ctx, m, effect{do: func(ctx context.Context) (*outcome, error) {
		return &outcome{Text: p.Status}, call(ctx, "assistant.threads.setStatus", m.Env.Channel, e.cfg.DryRun, func(ctx context.Context) error {
			return e.api.SetAssistantThreadsStatusContext(ctx, slack.AssistantThreadsSetStatusParameters{ChannelID: m.Env.Channel, ThreadTS: th, Status: p.Status})
		})
	}})
}

func (e *Egress) prompts(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutPrompts](m.Env)
	if err != nil {
		return err
	}
	th := threadOf(m.Env, p.ThreadTS)
	if th == "" || len(p.Prompts) == 0 {
		return bus.Permanent(errors.New("suggested prompts need a thread_ts and at least one prompt"))
	}
	params := slack.AssistantThreadsSetSuggestedPromptsParameters{ChannelID: m.Env.Channel, ThreadTS: th, Title: p.Title}
	for _, x := range p.Prompts {
		params.AddPrompt(x.Title, x.Message)
	}
	return e.once(ctx, m, effect{do: func(ctx context.Context) (*outcome, error) {
		return &outcome{Text: p.Title}, call(ctx, "assistant.threads.setSuggestedPrompts", m.Env.Channel, e.cfg.DryRun, func(ctx context.Context) error {
			return e.api.SetAssistantThreadsSuggestedPromptsContext(ctx, params)
		})
	}})
}

func (e *Egress) title(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutTitle](m.Env)
	if err != nil {
		return err
	}
	th := threadOf(m.Env, p.ThreadTS)
	if th == "" || strings.TrimSpace(p.Title) == "" {
		return bus.Permanent(errors.New("title needs a thread_ts and a title"))
	}
	return e.once(ctx, m, effect{do: func(ctx context.Context) (*outcome, error) {
		return &outcome{Text: p.Title}, call(ctx, "assistant.threads.setTitle", m.Env.Channel, e.cfg.DryRun, func(ctx context.Context) error {
			return e.api.SetAssistantThreadsTitleContext(ctx, slack.AssistantThreadsSetTitleParameters{ChannelID: m.Env.Channel, ThreadTS: th, Title: p.Title})
		})
	}})
}

func (e *Egress) react(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutReact](m.Env)
	if err != nil {
		return err
	}
	name := strings.Trim(p.Name, ":")
	if p.TS == "" || name == "" {
		return bus.Permanent(errors.New("reaction needs ts and name"))
	}
	return e.once(ctx, m, effect{do: func(ctx context.Context) (*outcome, error) {
		err := call(ctx, "reactions.add", m.Env.Channel, e.cfg.DryRun, func(ctx context.Context) error {
			return e.api.AddReactionContext(ctx, name, slack.ItemRef{Channel: m.Env.Channel, Timestamp: p.TS})
		})
		if code(err) == "already_reacted" {
			err = nil // the state we want
		}
		return &outcome{TS: p.TS, Text: name}, err
	}})
}

const markerUpload = "upl"

func (e *Egress) upload(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutUpload](m.Env)
	if err != nil {
		return err
	}
	if p.Filename == "" || len(p.Content) == 0 {
		return bus.Permanent(errors.New("upload needs a filename and content"))
	}
	ch, th := m.Env.Channel, threadOf(m.Env, p.ThreadTS)
	title := p.Title
	if title == "" {
		title = p.Filename
	}
	return e.once(ctx, m, effect{
		do: func(ctx context.Context) (*outcome, error) {
			var u *slack.GetUploadURLExternalResponse
			err := call(ctx, "files.getUploadURLExternal", ch, e.cfg.DryRun, func(ctx context.Context) error {
				var err error
				u, err = e.api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: p.Filename, FileSize: len(p.Content)})
				return err
			})
			if err != nil {
				return nil, err
			}
			// Remember the file id: if the share below is uncertain, the
			// channel is searched for a message carrying this file.
			if err := e.st.putMarker(ctx, markerUpload, m.Env.ID, marker{Since: time.Now(), FileID: u.FileID}); err != nil {
				return nil, err
			}
			err = call(ctx, "files.upload", ch, e.cfg.DryRun, func(ctx context.Context) error {
				return e.api.UploadToURL(ctx, slack.UploadToURLParameters{UploadURL: u.UploadURL, Reader: bytes.NewReader(p.Content), Filename: p.Filename})
			})
			if err != nil {
				return nil, err
			}
			err = call(ctx, "files.completeUploadExternal", ch, e.cfg.DryRun, func(ctx context.Context) error {
				_, err := e.api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{
					Files: []slack.FileSummary{{ID: u.FileID, Title: title}}, Channel: ch, InitialComment: p.Comment, ThreadTimestamp: th})
				return err
			})
			return &outcome{FileID: u.FileID, Text: p.Comment}, err
		},
		reconcile: func(ctx context.Context, since time.Time) (*outcome, error) {
			mk, err := e.st.getMarker(ctx, markerUpload, m.Env.ID)
			if err != nil || mk == nil {
				return nil, err // never got a file id: nothing was shared
			}
			ts, err := e.findByFile(ctx, ch, th, mk.FileID, since)
			if ts == "" || err != nil {
				return nil, err
			}
			return &outcome{TS: ts, FileID: mk.FileID, Text: p.Comment}, nil
		},
	})
}

package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

// Turn is one thing a user did in Slack, delivered to ingress.
type Turn struct {
	// ID is the correlation id of everything the turn causes (a
	// schemas.TurnID, derived from the Slack event; Delivery.ID is the
	// envelope id of the event ingress published first).
	ID string
	// Channel and ThreadTS locate the conversation; TS is the user's
	// message (empty for a click).
	Channel, ThreadTS, TS string
	User                  string
	Text                  string
	// Started is when the request was sent.
	Started time.Time
	// Delivery is the HTTP exchange with ingress (Payload re-posts it).
	Delivery slackevents.Delivery
}

func (e *Env) send(kind string, d slackevents.Delivery, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	if d.Status != http.StatusOK {
		return fmt.Errorf("%s: ingress answered %d %s", kind, d.Status, strings.TrimSpace(d.Body))
	}
	return nil
}

// Mention posts "@Maria text" in channel (threadTS empty: a new
// conversation) as Slack does: the message appears in the channel and
// ingress receives the app_mention event.
func (e *Env) Mention(ctx context.Context, channel, user, text, threadTS string) (*Turn, error) {
	if !strings.Contains(text, "<@"+BotUserID) {
		text = e.Events.MentionText(text)
	}
	ts := e.Slack.AddUserMessage(channel, user, text, threadTS)
	t := &Turn{Channel: channel, ThreadTS: firstNonEmpty(threadTS, ts), TS: ts, User: user, Text: text, Started: time.Now()}
	d, err := e.Events.Event(ctx, slackevents.AppMentionEvent(Team, channel, user, text, ts, threadTS))
	t.ID, t.Delivery = d.Turn, d
	return t, e.send("app_mention", d, err)
}

// Reply posts a message without a mention in the thread threadTS of a
// channel (Maria answers it because she is part of the thread).
func (e *Env) Reply(ctx context.Context, channel, user, text, threadTS string) (*Turn, error) {
	return e.message(ctx, channel, "channel", user, text, threadTS)
}

// DM sends a direct message to Maria (channel is a D… id); threadTS empty
// starts a new conversation.
func (e *Env) DM(ctx context.Context, channel, user, text, threadTS string) (*Turn, error) {
	return e.message(ctx, channel, "im", user, text, threadTS)
}

func (e *Env) message(ctx context.Context, channel, channelType, user, text, threadTS string) (*Turn, error) {
	ts := e.Slack.AddUserMessage(channel, user, text, threadTS)
	t := &Turn{Channel: channel, ThreadTS: firstNonEmpty(threadTS, ts), TS: ts, User: user, Text: text, Started: time.Now()}
	d, err := e.Events.Event(ctx, slackevents.MessageEvent(Team, channel, channelType, user, text, ts, threadTS))
	t.ID, t.Delivery = d.Turn, d
	return t, e.send("message", d, err)
}

// Resend posts a turn's exact request again as Slack's retry number n
// (X-Slack-Retry-Num), as Slack does when it missed the acknowledgement.
func (e *Env) Resend(ctx context.Context, t *Turn, n int) error {
	path := schemas.SlackPathEvents
	ct := "application/json"
	if strings.HasPrefix(string(t.Delivery.Payload), "payload=") {
		path, ct = schemas.SlackPathInteractions, "application/x-www-form-urlencoded"
	}
	st, body, err := e.Events.Post(ctx, path, ct, t.Delivery.Payload, slackevents.WithRetry(n, "http_timeout"))
	return e.send("retry", slackevents.Delivery{Status: st, Body: body}, err)
}

// ShareFile uploads a file to the Slack simulator and posts it, with
// text, in channel (in threadTS when set), as Slack delivers a file share
// (a message with subtype file_share carrying the file). The turn's ID is
// the message's: ingress gives the file event (and so storage's
// maria.stored.file) the turn of the message that carried it.
func (e *Env) ShareFile(ctx context.Context, channel, channelType, user, text, threadTS, name, mimetype string, content []byte) (*Turn, schemas.SlackFile, error) {
	f := e.Slack.AddFile(name, mimetype, content)
	ts := e.Slack.AddUserMessage(channel, user, text, threadTS, f.ID)
	ev := slackevents.MessageWithFilesEvent(Team, channel, channelType, user, text, ts, threadTS,
		slackevents.File{ID: f.ID, Name: f.Name, Mimetype: f.Mimetype, Filetype: f.Filetype, Size: f.Size,
			URLPrivate: f.URLPrivate, URLPrivateDownload: f.URLPrivateDownload})
	t := &Turn{Channel: channel, ThreadTS: firstNonEmpty(threadTS, ts), TS: ts, User: user, Text: text, Started: time.Now()}
	d, err := e.Events.Event(ctx, ev)
	t.ID, t.Delivery = d.Turn, d
	return t, f, e.send("file_share", d, err)
}

// Button is a button of a message Maria posted.
type Button struct {
	ActionID, BlockID, Value, Text string
}

// Buttons lists the buttons in a message's blocks.
func Buttons(m slacksim.Message) []Button {
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			// Text is a text object on buttons, a string on mrkdwn elements.
			Text json.RawMessage `json:"text"`
		} `json:"elements"`
	}
	if len(m.Blocks) == 0 || json.Unmarshal(m.Blocks, &blocks) != nil {
		return nil
	}
	var out []Button
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		for _, el := range b.Elements {
			if el.Type == "button" {
				var label struct {
					Text string `json:"text"`
				}
				_ = json.Unmarshal(el.Text, &label)
				out = append(out, Button{ActionID: el.ActionID, BlockID: b.BlockID, Value: el.Value, Text: label.Text})
			}
		}
	}
	return out
}

// FindButton returns the newest message of Maria in the thread with a
// button whose action id is actionID.
func (e *Env) FindButton(channel, threadTS, actionID string) (slacksim.Message, Button, bool) {
	msgs := e.Slack.Messages(channel)
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.BotID != slacksim.BotID || (threadTS != "" && m.ThreadTS != threadTS && m.TS != threadTS) {
			continue
		}
		for _, b := range Buttons(m) {
			if b.ActionID == actionID {
				return m, b, true
			}
		}
	}
	return slacksim.Message{}, Button{}, false
}

// Click clicks a button of Maria's message m as user (block_actions to
// /slack/interactions).
func (e *Env) Click(ctx context.Context, user string, m slacksim.Message, b Button) (*Turn, error) {
	t := &Turn{Channel: m.Channel, ThreadTS: firstNonEmpty(m.ThreadTS, m.TS), User: user, Text: "[clicks " + b.Text + "]", Started: time.Now()}
	d, err := e.Events.ClickAction(ctx, slackevents.Click{Channel: m.Channel, User: user, MessageTS: m.TS, ThreadTS: m.ThreadTS,
		ActionID: b.ActionID, BlockID: b.BlockID, Value: b.Value})
	t.ID, t.Delivery = d.Turn, d
	return t, e.send("block_actions", d, err)
}

// Replies returns what Maria said in Slack for a turn, in post order:
// the final state of every message egress delivered for it, plus
// ephemeral messages shown to the user.
func (e *Env) Replies(t *Turn, seen []Seen) []slacksim.Message {
	byTS := map[string]bool{}
	for _, d := range Delivered(seen) {
		if d.TS != "" {
			byTS[d.TS] = true
		}
	}
	var out []slacksim.Message
	for _, m := range e.Slack.Messages(t.Channel) {
		if byTS[m.TS] && m.BotID == slacksim.BotID {
			out = append(out, m)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TS < out[j].TS })
	return out
}

// Ephemerals returns the ephemeral messages delivered for a turn.
func (e *Env) Ephemerals(t *Turn, seen []Seen) []slacksim.Ephemeral {
	ts := map[string]bool{}
	for _, d := range Delivered(seen) {
		if d.CommandType == schemas.TypeOutEphemeral && d.TS != "" {
			ts[d.TS] = true
		}
	}
	var out []slacksim.Ephemeral
	for _, m := range e.Slack.Ephemerals() {
		if ts[m.MessageTS] {
			out = append(out, m)
		}
	}
	return out
}

// ErrNoAnswer means a turn settled without Maria saying anything.
var ErrNoAnswer = errors.New("no answer from Maria")

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

package slackevents

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mariahq/maria/schemas"
)

// Client delivers signed Slack requests to an ingress, like Slack does.
type Client struct {
	// BaseURL of the ingress HTTP server, e.g. http://127.0.0.1:3000.
	BaseURL string
	// SigningSecret signs every request (SLACK_SIGNING_SECRET of the ingress).
	SigningSecret string
	// Team, BotUserID and AppID describe the workspace and the installed
	// app; defaults DefaultTeam, DefaultBotUserID, DefaultAppID.
	Team, BotUserID, AppID string
	// Enterprise is the Enterprise Grid organisation of the installation
	// (enterprise_id; empty: none).
	Enterprise string
	// UserTeams maps a user to their home workspace when it is not Team:
	// Slack Connect (external) users. Events and clicks by them carry it
	// as user_team / user.team_id.
	UserTeams map[string]string
	// HTTP is the client used (default: 10 s timeout).
	HTTP *http.Client
	// Now is the clock used for X-Slack-Request-Timestamp (default time.Now).
	Now func() time.Time
}

// Delivery is the outcome of one request.
type Delivery struct {
	// ID is the envelope id ingress gives the (first) event: the Events API
	// event_id, or the hash ingress derives for a command or a click.
	ID string
	// Turn is the correlation id ingress gives the events (a
	// schemas.TurnID): what trace and every message of the turn carry.
	Turn string
	// TS is the ts of the message created by Message/DM/Mention, if any.
	TS string
	// Status and Body are the HTTP answer.
	Status int
	Body   string
	// Payload is the exact body sent (post it again to simulate a retry).
	Payload []byte
}

// Option changes how one request is sent.
type Option func(*sendOpts)

type sendOpts struct {
	retryNum    int
	retryReason string
	timestamp   time.Time
	secret      *string
	contentType string
	noSignature bool
}

// WithRetry marks the request as Slack's retry number n (X-Slack-Retry-Num,
// X-Slack-Retry-Reason, e.g. "http_timeout").
func WithRetry(n int, reason string) Option {
	return func(o *sendOpts) { o.retryNum, o.retryReason = n, reason }
}

// WithTimestamp signs with a chosen request time (stale-timestamp tests).
func WithTimestamp(t time.Time) Option { return func(o *sendOpts) { o.timestamp = t } }

// WithSecret signs with another secret (bad-signature tests).
func WithSecret(s string) Option { return func(o *sendOpts) { o.secret = &s } }

// WithContentType overrides the Content-Type header.
func WithContentType(ct string) Option { return func(o *sendOpts) { o.contentType = ct } }

// WithoutSignature sends no signature headers at all.
func WithoutSignature() Option { return func(o *sendOpts) { o.noSignature = true } }

func (c *Client) team() string    { return def(c.Team, DefaultTeam) }
func (c *Client) botUser() string { return def(c.BotUserID, DefaultBotUserID) }
func (c *Client) appID() string   { return def(c.AppID, DefaultAppID) }
func (c *Client) installation() Installation {
	return Installation{Team: c.team(), AppID: c.appID(), BotUserID: c.botUser(), Enterprise: c.Enterprise}
}

// userTeam is user's home workspace.
func (c *Client) userTeam(user string) string { return def(c.UserTeams[user], c.team()) }

// author stamps the home team of the event's author (and of the edited or
// deleted message's) as Slack does in user_team and team.
func (c *Client) author(ev Event) Event {
	stamp := func(m Event) {
		if u, ok := m["user"].(string); ok && u != "" {
			if _, msg := m["user_team"]; msg {
				m["user_team"], m["team"] = c.userTeam(u), c.userTeam(u)
			}
		}
	}
	stamp(ev)
	for _, k := range []string{"message", "previous_message"} {
		if m, ok := ev[k].(Event); ok {
			stamp(m)
		}
	}
	return ev
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func def(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// Post sends body to path (e.g. schemas.SlackPathEvents), signed, with the given
// content type, and returns the HTTP status and body.
func (c *Client) Post(ctx context.Context, path, contentType string, body []byte, opts ...Option) (int, string, error) {
	o := sendOpts{contentType: contentType}
	for _, opt := range opts {
		opt(&o)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("slackevents: build request: %w", err)
	}
	req.Header.Set("Content-Type", o.contentType)
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	if !o.noSignature {
		ts := o.timestamp
		if ts.IsZero() {
			ts = c.now()
		}
		secret := c.SigningSecret
		if o.secret != nil {
			secret = *o.secret
		}
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts.Unix(), 10))
		req.Header.Set("X-Slack-Signature", Sign(secret, ts.Unix(), body))
	}
	if o.retryNum > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(o.retryNum))
		req.Header.Set("X-Slack-Retry-Reason", def(o.retryReason, "http_timeout"))
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("slackevents: post %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, "", fmt.Errorf("slackevents: read answer of %s: %w", path, err)
	}
	return resp.StatusCode, string(b), nil
}

// PostEvent sends an Events API body to /slack/events.
func (c *Client) PostEvent(ctx context.Context, body []byte, opts ...Option) (int, string, error) {
	return c.Post(ctx, schemas.SlackPathEvents, "application/json", body, opts...)
}

// PostForm sends a form to path (/slack/commands, /slack/interactions).
func (c *Client) PostForm(ctx context.Context, path string, form url.Values, opts ...Option) (int, string, error) {
	return c.Post(ctx, path, "application/x-www-form-urlencoded", []byte(form.Encode()), opts...)
}

// Callback wraps an inner event in a fresh event_callback of this client's
// workspace, returning the body and its event_id.
func (c *Client) Callback(ev Event) (body []byte, eventID string) {
	eventID = NewEventID()
	return c.installation().EventCallback(eventID, c.author(ev)), eventID
}

// Event delivers an inner event in a fresh event_callback.
func (c *Client) Event(ctx context.Context, ev Event, opts ...Option) (Delivery, error) {
	body, id := c.Callback(ev)
	st, resp, err := c.PostEvent(ctx, body, opts...)
	ts, _ := ev["ts"].(string)
	return Delivery{ID: id, Turn: c.eventTurn(id, ev), TS: ts, Status: st, Body: resp, Payload: body}, err
}

// eventTurn is the turn ingress gives the Events API event ev delivered
// as eventID: a message's or mention's (channel, ts), else the event's.
func (c *Client) eventTurn(eventID string, ev Event) string {
	typ, _ := ev["type"].(string)
	channel, _ := ev["channel"].(string)
	ts, _ := ev["ts"].(string)
	if (typ == "message" || typ == "app_mention") && channel != "" && ts != "" {
		return schemas.SlackMessageTurn(c.team(), channel, ts)
	}
	return schemas.SlackEventTurn(c.team(), eventID)
}

// URLVerification performs the Request URL handshake; Body is the answer.
func (c *Client) URLVerification(ctx context.Context, challenge string) (Delivery, error) {
	body := URLVerification(challenge)
	st, resp, err := c.PostEvent(ctx, body)
	return Delivery{Status: st, Body: resp, Payload: body}, err
}

// MentionText puts the bot mention in front of text ("<@U…> text").
func (c *Client) MentionText(text string) string { return "<@" + c.botUser() + "> " + text }

// Mention delivers what Slack sends when user mentions the bot in a
// channel: the app_mention event (text gets the <@bot> prefix unless it
// already mentions the bot). threadTS empty: a top-level message.
func (c *Client) Mention(ctx context.Context, channel, user, text, threadTS string) (Delivery, error) {
	if !strings.Contains(text, "<@"+c.botUser()) {
		text = c.MentionText(text)
	}
	return c.Event(ctx, AppMentionEvent(c.team(), channel, user, text, NewTS(), threadTS))
}

// Message delivers a channel message (message.channels).
func (c *Client) Message(ctx context.Context, channel, user, text, threadTS string) (Delivery, error) {
	return c.Event(ctx, MessageEvent(c.team(), channel, "channel", user, text, NewTS(), threadTS))
}

// DM delivers a direct message to the bot (message.im); channel is the DM
// channel id ("D…").
func (c *Client) DM(ctx context.Context, channel, user, text, threadTS string) (Delivery, error) {
	return c.Event(ctx, MessageEvent(c.team(), channel, "im", user, text, NewTS(), threadTS))
}

// MessageWithFiles delivers a message sharing files (subtype file_share).
func (c *Client) MessageWithFiles(ctx context.Context, channel, channelType, user, text, threadTS string, files ...File) (Delivery, error) {
	return c.Event(ctx, MessageWithFilesEvent(c.team(), channel, channelType, user, text, NewTS(), threadTS, files...))
}

// Edit delivers message_changed for the message ts.
func (c *Client) Edit(ctx context.Context, channel, user, ts, oldText, newText, threadTS string) (Delivery, error) {
	return c.Event(ctx, MessageChangedEvent(c.team(), channel, "channel", user, ts, oldText, newText, threadTS))
}

// Delete delivers message_deleted for the message ts.
func (c *Client) Delete(ctx context.Context, channel, user, ts, oldText, threadTS string) (Delivery, error) {
	return c.Event(ctx, MessageDeletedEvent(c.team(), channel, "channel", user, ts, oldText, threadTS))
}

// FileShared delivers file_shared. Ingress publishes nothing for it when
// channel is set (the message carrying the file announces it, in its
// turn); otherwise Delivery.ID is the kind=file envelope id.
func (c *Client) FileShared(ctx context.Context, channel, user, fileID string) (Delivery, error) {
	d, err := c.Event(ctx, FileSharedEvent(channel, user, fileID))
	d.ID = schemas.SlackFileEventID(c.team(), channel, fileID)
	if channel != "" {
		d.Turn = ""
	}
	return d, err
}

// Reaction delivers reaction_added on the message itemTS.
func (c *Client) Reaction(ctx context.Context, channel, user, reaction, itemTS, itemUser string) (Delivery, error) {
	return c.Event(ctx, ReactionAddedEvent(channel, user, reaction, itemTS, itemUser))
}

// AssistantThreadStarted delivers assistant_thread_started: user opened the
// assistant pane (DM channel, threadTS) while looking at contextChannel.
func (c *Client) AssistantThreadStarted(ctx context.Context, channel, user, threadTS, contextChannel string) (Delivery, error) {
	return c.Event(ctx, AssistantThreadEvent("assistant_thread_started", c.team(), channel, user, threadTS, contextChannel))
}

// AssistantContextChanged delivers assistant_thread_context_changed.
func (c *Client) AssistantContextChanged(ctx context.Context, channel, user, threadTS, contextChannel string) (Delivery, error) {
	return c.Event(ctx, AssistantThreadEvent("assistant_thread_context_changed", c.team(), channel, user, threadTS, contextChannel))
}

// Command delivers a slash command ("/maria", "what is S00042?").
func (c *Client) Command(ctx context.Context, channel, user, command, text string, opts ...Option) (Delivery, error) {
	form := CommandForm(c.team(), c.appID(), channel, user, command, text, NewTriggerID())
	if c.Enterprise != "" {
		form.Set("enterprise_id", c.Enterprise)
	}
	st, resp, err := c.PostForm(ctx, schemas.SlackPathCommands, form, opts...)
	id := schemas.SlackCommandKeyFromForm(form).ID()
	return Delivery{ID: id, Turn: schemas.SlackInteractionTurn(c.team(), id), Status: st, Body: resp, Payload: []byte(form.Encode())}, err
}

// Click delivers a block_actions button click by user on the message
// messageTS (in thread threadTS, empty when top-level).
func (c *Client) Click(ctx context.Context, channel, user, messageTS, threadTS, actionID, value string, opts ...Option) (Delivery, error) {
	return c.ClickAction(ctx, Click{Channel: channel, User: user, MessageTS: messageTS, ThreadTS: threadTS, ActionID: actionID, Value: value}, opts...)
}

// ClickAction delivers a fully described click.
func (c *Client) ClickAction(ctx context.Context, click Click, opts ...Option) (Delivery, error) {
	if click.ActionTS == "" {
		click.ActionTS = NewTS()
	}
	if click.TriggerID == "" {
		click.TriggerID = NewTriggerID()
	}
	if click.BlockID == "" {
		click.BlockID = "confirm_block"
	}
	if click.UserTeam == "" {
		click.UserTeam = c.userTeam(click.User)
	}
	if click.Enterprise == "" {
		click.Enterprise = c.Enterprise
	}
	payload := BlockActionsPayload(c.team(), c.appID(), click)
	form := InteractionForm(payload)
	st, resp, err := c.PostForm(ctx, schemas.SlackPathInteractions, form, opts...)
	id := schemas.SlackActionID(c.team(), click.User, click.ActionTS, click.ActionID, click.BlockID, click.TriggerID)
	return Delivery{ID: id, Turn: schemas.SlackInteractionTurn(c.team(), id), Status: st, Body: resp, Payload: []byte(form.Encode())}, err
}

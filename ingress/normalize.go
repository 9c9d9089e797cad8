package ingress

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mariahq/maria/schemas"
	"github.com/slack-go/slack"
)

// Source is the envelope source of everything ingress publishes.
const Source = "ingress"

// ErrMalformed reports a payload that cannot be a Slack delivery: not JSON,
// wrong field types, required fields missing. HTTP answers 400 for it; Socket
// Mode dead-letters the envelope. Retrying the same bytes cannot help.
var ErrMalformed = errors.New("malformed slack payload")

// Reasons for acknowledging a delivery without publishing anything. They
// are metric label values (maria_ingress_ignored_total{reason}).
const (
	IgnoredOwnMessage             = "own_message"
	IgnoredUnsupportedEvent       = "unsupported_event"
	IgnoredUnsupportedInteraction = "unsupported_interaction"
	IgnoredAppRateLimited         = "app_rate_limited"
	IgnoredFileInMessage          = "file_in_message"
)

// Out is one envelope to publish and where.
type Out struct {
	Kind    string
	Subject string
	Env     *schemas.Envelope
}

// Result is what one Slack delivery normalizes to.
type Result struct {
	// Challenge is set for url_verification: answer it, publish nothing.
	Challenge string
	// Events to publish, in order (a message with files: the message, then
	// one file event per file; block_actions: one event per action).
	Events []Out
	// Ignored names why nothing is published (see Ignored* constants).
	Ignored string
	// What names the delivery for logs ("event_callback/message", "command /maria").
	What string
	// Team and User are the rate-limit keys.
	Team, User string
	// Enterprise, AppID and EnterpriseInstall name the installation the
	// delivery came through (enterprise_id, api_app_id,
	// is_enterprise_install): with Team, what the allow-lists check.
	Enterprise, AppID string
	EnterpriseInstall bool
	// UserTeam is the user's home team when the payload names it
	// (event user_team, interaction user.team_id); empty otherwise.
	UserTeam string
	// Connect is a "Connect your Odoo account" submission: never
	// published, handed to the erp service (erpconnect.go).
	Connect *erpConnect
	// Response, when set, is the JSON body of the answer to Slack (a
	// view_submission's response_action).
	Response any
	// Uninstall: app_uninstalled, or the bot's tokens revoked — the
	// installation ends (installations.go).
	Uninstall bool
}

// Normalizer turns raw Slack payloads into envelopes. It is pure (no I/O)
// and safe for concurrent use once built.
type Normalizer struct {
	botUsers map[string]bool
	botIDs   map[string]bool
}

// NewNormalizer knows the bot by its user ids and bot ids (from auth.test);
// both may be empty: the Events API tells the bot user id in every callback
// (authorizations[].user_id with is_bot) and messages posted by the app
// carry its app id.
func NewNormalizer(botUserIDs, botIDs []string) *Normalizer {
	n := &Normalizer{botUsers: map[string]bool{}, botIDs: map[string]bool{}}
	for _, u := range botUserIDs {
		if u != "" {
			n.botUsers[u] = true
		}
	}
	for _, b := range botIDs {
		if b != "" {
			n.botIDs[b] = true
		}
	}
	return n
}

// Outer Events API payload (HTTP body, or Socket Mode events_api payload).
type eventCallback struct {
	Type           string          `json:"type"`
	Challenge      string          `json:"challenge"`
	TeamID         string          `json:"team_id"`
	EnterpriseID   string          `json:"enterprise_id"`
	APIAppID       string          `json:"api_app_id"`
	EventID        string          `json:"event_id"`
	Event          json.RawMessage `json:"event"`
	Authorizations []struct {
		EnterpriseID        string `json:"enterprise_id"`
		UserID              string `json:"user_id"`
		IsBot               bool   `json:"is_bot"`
		IsEnterpriseInstall bool   `json:"is_enterprise_install"`
	} `json:"authorizations"`
}

// installation fills r's installation fields from the callback.
func (cb *eventCallback) installation(r *Result) *Result {
	r.Team, r.AppID, r.Enterprise = cb.TeamID, cb.APIAppID, cb.EnterpriseID
	for _, a := range cb.Authorizations {
		r.Enterprise = firstNonEmpty(r.Enterprise, a.EnterpriseID)
		r.EnterpriseInstall = r.EnterpriseInstall || a.IsEnterpriseInstall
	}
	return r
}

type slackFile struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Title              string `json:"title"`
	Mimetype           string `json:"mimetype"`
	Filetype           string `json:"filetype"`
	Size               int64  `json:"size"`
	URLPrivate         string `json:"url_private"`
	URLPrivateDownload string `json:"url_private_download"`
}

func (f slackFile) schema() schemas.SlackFile {
	return schemas.SlackFile{ID: f.ID, Name: f.Name, Title: f.Title, Mimetype: f.Mimetype, Filetype: f.Filetype,
		Size: f.Size, URLPrivate: f.URLPrivate, URLPrivateDownload: f.URLPrivateDownload}
}

// message / app_mention event, also the nested message of message_changed.
type slackMessage struct {
	Type        string `json:"type"`
	Subtype     string `json:"subtype"`
	Channel     string `json:"channel"`
	ChannelType string `json:"channel_type"`
	User        string `json:"user"`
	UserTeam    string `json:"user_team"`
	Team        string `json:"team"`
	BotID       string `json:"bot_id"`
	AppID       string `json:"app_id"`
	BotProfile  *struct {
		ID    string `json:"id"`
		AppID string `json:"app_id"`
	} `json:"bot_profile"`
	Text            string        `json:"text"`
	TS              string        `json:"ts"`
	ThreadTS        string        `json:"thread_ts"`
	DeletedTS       string        `json:"deleted_ts"`
	Files           []slackFile   `json:"files"`
	Message         *slackMessage `json:"message"`
	PreviousMessage *slackMessage `json:"previous_message"`
}

type fileSharedEvent struct {
	FileID    string    `json:"file_id"`
	UserID    string    `json:"user_id"`
	ChannelID string    `json:"channel_id"`
	EventTS   string    `json:"event_ts"`
	File      slackFile `json:"file"`
}

type reactionEvent struct {
	User     string `json:"user"`
	Reaction string `json:"reaction"`
	ItemUser string `json:"item_user"`
	Item     struct {
		Type    string `json:"type"`
		Channel string `json:"channel"`
		TS      string `json:"ts"`
	} `json:"item"`
}

type assistantEvent struct {
	AssistantThread *struct {
		UserID    string `json:"user_id"`
		ChannelID string `json:"channel_id"`
		ThreadTS  string `json:"thread_ts"`
		Context   struct {
			ChannelID string `json:"channel_id"`
			TeamID    string `json:"team_id"`
		} `json:"context"`
	} `json:"assistant_thread"`
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Event normalizes an Events API payload.
func (n *Normalizer) Event(body []byte) (*Result, error) {
	if res, ok, err := n.messageEvent(body); ok {
		return res, err
	}
	return n.anyEvent(body)
}

// anyEvent normalizes any Events API payload: the body decoded with the
// event kept raw, then the event decoded by its type.
func (n *Normalizer) anyEvent(body []byte) (*Result, error) {
	var cb eventCallback
	if err := json.Unmarshal(body, &cb); err != nil {
		return nil, malformed("events api payload: %v", err)
	}
	switch cb.Type {
	case "url_verification":
		if cb.Challenge == "" {
			return nil, malformed("url_verification without challenge")
		}
		return &Result{Challenge: cb.Challenge, What: "url_verification"}, nil
	case "app_rate_limited":
		return cb.installation(&Result{Ignored: IgnoredAppRateLimited, What: "app_rate_limited"}), nil
	case "event_callback":
	case "":
		return nil, malformed("events api payload without type")
	default:
		return cb.installation(&Result{Ignored: IgnoredUnsupportedEvent, What: cb.Type}), nil
	}
	if cb.EventID == "" {
		return nil, malformed("event_callback without event_id")
	}
	if len(cb.Event) == 0 || string(cb.Event) == "null" {
		return nil, malformed("event_callback without event")
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(cb.Event, &head); err != nil {
		return nil, malformed("event: %v", err)
	}
	typ := head.Type
	if typ == "" {
		return nil, malformed("event without type")
	}
	c := &callbackCtx{n: n, cb: &cb, res: cb.installation(&Result{What: "event_callback/" + typ})}
	var err error
	switch typ {
	case "message", "app_mention":
		// Here only when messageEvent could not take it (e.g. a field of
		// an unexpected JSON type): the error says which.
		var m slackMessage
		kind, mtyp := schemas.KindMessage, schemas.TypeSlackMessage
		if typ == "app_mention" {
			kind, mtyp = schemas.KindMention, schemas.TypeSlackMention
		}
		err = c.message(kind, mtyp, &m, json.Unmarshal(cb.Event, &m))
	case "file_shared":
		err = c.fileShared()
	case "reaction_added":
		err = c.reaction()
	case "assistant_thread_started", "assistant_thread_context_changed":
		err = c.assistant(typ)
	case "app_home_opened":
		err = c.homeOpened()
	case "app_uninstalled":
		c.res.Uninstall = true
	case "tokens_revoked":
		c.res.Uninstall = botTokensRevoked(cb.Event)
	default:
		c.res.Ignored = IgnoredUnsupportedEvent
	}
	if err != nil {
		return nil, err
	}
	return c.res, nil
}

// messageEvent normalizes the deliveries that are nearly all the
// traffic — a message or a mention — with one decode of the body; ok is
// false for anything else (or anything unusual, even an error), which
// anyEvent then reads. anyEvent's way costs four passes over the event's
// bytes (encoding/json validates, then decodes, the body and then the
// event) where this costs two, and the normalizer was the largest share
// of ingress' CPU. Both give the same Result (TestMessageEventAgrees,
// FuzzNormalize).
func (n *Normalizer) messageEvent(body []byte) (res *Result, ok bool, err error) {
	var mc struct {
		eventCallback
		Event slackMessage `json:"event"` // shadows eventCallback.Event
	}
	if json.Unmarshal(body, &mc) != nil || mc.Type != "event_callback" || mc.EventID == "" {
		return nil, false, nil
	}
	kind, typ := "", ""
	switch mc.Event.Type {
	case "message":
		kind, typ = schemas.KindMessage, schemas.TypeSlackMessage
	case "app_mention":
		kind, typ = schemas.KindMention, schemas.TypeSlackMention
	default:
		return nil, false, nil
	}
	cb := mc.eventCallback
	c := &callbackCtx{n: n, cb: &cb, res: cb.installation(&Result{What: "event_callback/" + mc.Event.Type})}
	if err := c.message(kind, typ, &mc.Event, nil); err != nil {
		return nil, true, err
	}
	return c.res, true, nil
}

type callbackCtx struct {
	n   *Normalizer
	cb  *eventCallback
	res *Result
}

// own reports whether m was posted by Maria herself.
func (c *callbackCtx) own(m *slackMessage) bool {
	if m == nil {
		return false
	}
	if m.User != "" && c.isBotUser(m.User) {
		return true
	}
	if m.BotID != "" && c.n.botIDs[m.BotID] {
		return true
	}
	if app := c.cb.APIAppID; app != "" {
		if m.AppID == app || (m.BotProfile != nil && m.BotProfile.AppID == app) {
			return true
		}
	}
	return false
}

func (c *callbackCtx) isBotUser(u string) bool {
	if c.n.botUsers[u] {
		return true
	}
	for _, a := range c.cb.Authorizations {
		if a.IsBot && a.UserID == u {
			return true
		}
	}
	return false
}

// mentionsBot reports whether text contains <@BOT> or <@BOT|name>.
func (c *callbackCtx) mentionsBot(text string) bool {
	for rest := text; ; {
		i := strings.Index(rest, "<@")
		if i < 0 {
			return false
		}
		rest = rest[i+2:]
		end := strings.IndexAny(rest, ">|")
		if end < 0 {
			return false
		}
		if c.isBotUser(rest[:end]) {
			return true
		}
		rest = rest[end:]
	}
}

func (c *callbackCtx) add(kind, typ, id, turn, channel, user, threadTS string, payload any) error {
	env, err := inbound(id, turn, typ, payload)
	if err != nil {
		return err
	}
	env.Team, env.Channel, env.User, env.ThreadTS = c.cb.TeamID, channel, user, threadTS
	c.res.Events = append(c.res.Events, Out{Kind: kind, Subject: schemas.InSubject(kind, c.cb.TeamID, channel), Env: env})
	return nil
}

// message normalizes a message or mention event, m (decoded by Event;
// decodeErr is why it did not decode).
func (c *callbackCtx) message(kind, typ string, m *slackMessage, decodeErr error) error {
	if decodeErr != nil {
		return malformed("%s event: %v", kind, decodeErr)
	}
	p := schemas.SlackMessage{EventID: c.cb.EventID, TS: m.TS, ChannelType: m.ChannelType, Subtype: m.Subtype}
	user := m.User
	switch m.Subtype {
	case "message_changed":
		if m.Message == nil {
			return malformed("message_changed without message")
		}
		if c.own(m.Message) || c.own(m.PreviousMessage) {
			c.res.Ignored = IgnoredOwnMessage
			return nil
		}
		user, c.res.UserTeam = m.Message.User, userTeamOf(m.Message)
		p.Text, p.ThreadTS, p.BotID = m.Message.Text, m.Message.ThreadTS, m.Message.BotID
		p.PreviousTS = m.Message.TS
		if p.PreviousTS == "" && m.PreviousMessage != nil {
			p.PreviousTS = m.PreviousMessage.TS
		}
		p.Files = schemaFiles(m.Message.Files)
	case "message_deleted":
		if c.own(m.PreviousMessage) {
			c.res.Ignored = IgnoredOwnMessage
			return nil
		}
		p.PreviousTS = m.DeletedTS
		if prev := m.PreviousMessage; prev != nil {
			user, p.ThreadTS, c.res.UserTeam = prev.User, prev.ThreadTS, userTeamOf(prev)
			if p.PreviousTS == "" {
				p.PreviousTS = prev.TS
			}
		}
		if p.PreviousTS == "" {
			return malformed("message_deleted without deleted_ts")
		}
	default:
		if c.own(m) {
			c.res.Ignored = IgnoredOwnMessage
			return nil
		}
		p.Text, p.ThreadTS, p.BotID = m.Text, m.ThreadTS, m.BotID
		p.Files = schemaFiles(m.Files)
		c.res.UserTeam = userTeamOf(m)
	}
	p.Mentioned = kind == schemas.KindMention || c.mentionsBot(p.Text)
	c.res.User = user
	// The envelope names the thread the conversation lives in: a reply's
	// thread, or the message itself when it starts one.
	thread := firstNonEmpty(p.ThreadTS, p.PreviousTS, p.TS)
	turn := c.messageTurn(m.Channel, m.TS)
	if err := c.add(kind, typ, c.cb.EventID, turn, m.Channel, user, thread, p); err != nil {
		return err
	}
	if m.Subtype == "message_changed" || m.Subtype == "message_deleted" {
		return nil // the files of an edited message were announced when it was posted
	}
	// A file shared with a message is part of the message's turn: its event
	// carries the message's turn, caused by the message, so one trace shows
	// the question and the stored file. (Its id stays the file's, so the
	// app_mention for the same message announces it only once; file_shared
	// for it is not published at all: see fileShared.)
	msg := c.res.Events[len(c.res.Events)-1].Env
	for _, f := range m.Files {
		if f.ID == "" {
			continue
		}
		fp := schemas.SlackFileShared{EventID: c.cb.EventID, TS: m.TS, File: f.schema()}
		if err := c.add(schemas.KindFile, schemas.TypeSlackFile, schemas.SlackFileEventID(c.cb.TeamID, m.Channel, f.ID), turn, m.Channel, user, thread, fp); err != nil {
			return err
		}
		c.res.Events[len(c.res.Events)-1].Env.CausationID = msg.ID
	}
	return nil
}

// userTeamOf is the author's home team: user_team (Slack Connect and
// Enterprise Grid messages), else the message's team, which Slack sets to
// the author's workspace.
func userTeamOf(m *slackMessage) string { return firstNonEmpty(m.UserTeam, m.Team) }

func schemaFiles(fs []slackFile) []schemas.SlackFile {
	if len(fs) == 0 {
		return nil
	}
	out := make([]schemas.SlackFile, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.schema())
	}
	return out
}

func (c *callbackCtx) fileShared() error {
	var e fileSharedEvent
	if err := json.Unmarshal(c.cb.Event, &e); err != nil {
		return malformed("file_shared event: %v", err)
	}
	file := e.File
	if file.ID == "" {
		file.ID = e.FileID
	}
	if file.ID == "" {
		return malformed("file_shared without file_id")
	}
	c.res.User = e.UserID
	if c.isBotUser(e.UserID) {
		c.res.Ignored = IgnoredOwnMessage // Maria's own uploads
		return nil
	}
	if e.ChannelID != "" {
		// A file shared in a conversation comes with a message (subtype
		// file_share, or the user's text) carrying it in files[]: Maria
		// subscribes to the message events of every conversation she is
		// in, and the message announces the file as part of its turn.
		// file_shared does not say which message that is and may arrive
		// first, when publishing it would make the file a turn of its own.
		c.res.Ignored = IgnoredFileInMessage
		return nil
	}
	p := schemas.SlackFileShared{EventID: c.cb.EventID, TS: e.EventTS, File: file.schema()}
	return c.add(schemas.KindFile, schemas.TypeSlackFile, schemas.SlackFileEventID(c.cb.TeamID, e.ChannelID, file.ID), c.eventTurn(), e.ChannelID, e.UserID, "", p)
}

func (c *callbackCtx) reaction() error {
	var e reactionEvent
	if err := json.Unmarshal(c.cb.Event, &e); err != nil {
		return malformed("reaction_added event: %v", err)
	}
	if e.Reaction == "" {
		return malformed("reaction_added without reaction")
	}
	c.res.User = e.User
	if c.isBotUser(e.User) {
		c.res.Ignored = IgnoredOwnMessage // Maria's own reactions
		return nil
	}
	p := schemas.SlackReaction{EventID: c.cb.EventID, Reaction: e.Reaction, ItemTS: e.Item.TS, ItemUser: e.ItemUser}
	// Slack does not say which thread the reacted message is in: ThreadTS stays empty.
	return c.add(schemas.KindReaction, schemas.TypeSlackReaction, c.cb.EventID, c.eventTurn(), e.Item.Channel, e.User, "", p)
}

func (c *callbackCtx) assistant(event string) error {
	var e assistantEvent
	if err := json.Unmarshal(c.cb.Event, &e); err != nil {
		return malformed("%s event: %v", event, err)
	}
	t := e.AssistantThread
	if t == nil || t.ChannelID == "" {
		return malformed("%s without assistant_thread.channel_id", event)
	}
	c.res.User = t.UserID
	p := schemas.SlackAssistant{EventID: c.cb.EventID, Event: event, ContextChannel: t.Context.ChannelID, ContextTeam: t.Context.TeamID}
	return c.add(schemas.KindAssistant, schemas.TypeSlackAssistant, c.cb.EventID, c.eventTurn(), t.ChannelID, t.UserID, t.ThreadTS, p)
}

// Command normalizes a slash command (HTTP form or Socket Mode payload).
func (n *Normalizer) Command(sc slack.SlashCommand) (*Result, error) {
	if sc.Command == "" {
		return nil, malformed("slash command without command")
	}
	if sc.TeamID == "" || sc.UserID == "" {
		return nil, malformed("slash command without team_id or user_id")
	}
	id := commandID(sc)
	p := schemas.SlackCommand{Command: sc.Command, Text: sc.Text, ResponseURL: sc.ResponseURL, TriggerID: sc.TriggerID,
		UserName: sc.UserName, ChannelName: sc.ChannelName}
	env, err := inbound(id, schemas.SlackInteractionTurn(sc.TeamID, id), schemas.TypeSlackCommand, p)
	if err != nil {
		return nil, err
	}
	env.Team, env.Channel, env.User = sc.TeamID, sc.ChannelID, sc.UserID
	return &Result{
		Events: []Out{{Kind: schemas.KindCommand, Subject: schemas.InSubject(schemas.KindCommand, sc.TeamID, sc.ChannelID), Env: env}},
		What:   "command " + sc.Command, Team: sc.TeamID, User: sc.UserID,
		Enterprise: sc.EnterpriseID, AppID: sc.APIAppID, EnterpriseInstall: sc.IsEnterpriseInstall,
	}, nil
}

// commandID is the dedup id of a slash command (schemas.SlackCommandKey).
func commandID(sc slack.SlashCommand) string {
	return schemas.SlackCommandKey{Team: sc.TeamID, Channel: sc.ChannelID, User: sc.UserID, Command: sc.Command,
		Text: sc.Text, ResponseURL: sc.ResponseURL, TriggerID: sc.TriggerID}.ID()
}

type interaction struct {
	Type string `json:"type"`
	Team *struct {
		ID string `json:"id"`
	} `json:"team"`
	Enterprise *struct {
		ID string `json:"id"`
	} `json:"enterprise"`
	APIAppID            string `json:"api_app_id"`
	IsEnterpriseInstall bool   `json:"is_enterprise_install"`
	User                *struct {
		ID     string `json:"id"`
		TeamID string `json:"team_id"`
	} `json:"user"`
	TriggerID   string `json:"trigger_id"`
	ResponseURL string `json:"response_url"`
	Container   *struct {
		Type      string `json:"type"`
		MessageTS string `json:"message_ts"`
		ThreadTS  string `json:"thread_ts"`
		ChannelID string `json:"channel_id"`
	} `json:"container"`
	Channel *struct {
		ID string `json:"id"`
	} `json:"channel"`
	Message *struct {
		TS       string `json:"ts"`
		ThreadTS string `json:"thread_ts"`
	} `json:"message"`
	Actions []struct {
		ActionID       string `json:"action_id"`
		BlockID        string `json:"block_id"`
		Value          string `json:"value"`
		ActionTS       string `json:"action_ts"`
		SelectedOption *struct {
			Value string `json:"value"`
		} `json:"selected_option"`
	} `json:"actions"`
}

// Interaction normalizes an interactivity payload (the form's payload
// field, or the Socket Mode interactive payload). block_actions become one
// action event per action (kind home when in the Home tab or a modal),
// view_submission a home event; other interaction types are acknowledged
// and ignored (Maria declares no shortcuts).
func (n *Normalizer) Interaction(body []byte) (*Result, error) {
	var in interaction
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, malformed("interaction payload: %v", err)
	}
	if in.Type == "" {
		return nil, malformed("interaction payload without type")
	}
	res := &Result{What: "interaction/" + in.Type, AppID: in.APIAppID, EnterpriseInstall: in.IsEnterpriseInstall}
	if in.User != nil {
		res.User, res.UserTeam = in.User.ID, in.User.TeamID
	}
	if in.Enterprise != nil {
		res.Enterprise = in.Enterprise.ID
	}
	switch {
	case in.Team != nil && in.Team.ID != "":
		res.Team = in.Team.ID
	case in.User != nil:
		res.Team = in.User.TeamID
	}
	if in.isView() {
		return n.viewInteraction(&in, body, res)
	}
	if in.Type != "block_actions" {
		res.Ignored = IgnoredUnsupportedInteraction
		return res, nil
	}
	if res.User == "" {
		return nil, malformed("block_actions without user.id")
	}
	if len(in.Actions) == 0 {
		return nil, malformed("block_actions without actions")
	}
	var channel, msgTS, threadTS string
	if in.Container != nil {
		channel, msgTS, threadTS = in.Container.ChannelID, in.Container.MessageTS, in.Container.ThreadTS
	}
	if channel == "" && in.Channel != nil {
		channel = in.Channel.ID
	}
	if in.Message != nil {
		msgTS = firstNonEmpty(msgTS, in.Message.TS)
		threadTS = firstNonEmpty(threadTS, in.Message.ThreadTS)
	}
	for _, a := range in.Actions {
		if a.ActionID == "" {
			return nil, malformed("block_actions action without action_id")
		}
		value := a.Value
		if value == "" && a.SelectedOption != nil {
			value = a.SelectedOption.Value
		}
		p := schemas.SlackAction{ActionID: a.ActionID, BlockID: a.BlockID, Value: value, MessageTS: msgTS,
			ResponseURL: in.ResponseURL, TriggerID: in.TriggerID}
		id := schemas.SlackActionID(res.Team, res.User, a.ActionTS, a.ActionID, a.BlockID, in.TriggerID)
		env, err := inbound(id, schemas.SlackInteractionTurn(res.Team, id), schemas.TypeSlackAction, p)
		if err != nil {
			return nil, err
		}
		env.Team, env.Channel, env.User, env.ThreadTS = res.Team, channel, res.User, firstNonEmpty(threadTS, msgTS)
		res.Events = append(res.Events, Out{Kind: schemas.KindAction, Subject: schemas.InSubject(schemas.KindAction, res.Team, channel), Env: env})
	}
	return res, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Package slackevents simulates Slack delivering events to Maria's
// ingress: it builds realistic payloads (Events API callbacks modelled on
// Slack's documented examples, slash command forms, block_actions
// interaction payloads), signs them like Slack does (X-Slack-Signature v0)
// and posts them to an ingress base URL (Client). SocketServer speaks the
// Socket Mode protocol (apps.connections.open + a websocket sending
// hello/events_api/slash_commands/interactive envelopes and collecting acks).
//
// The end-to-end suites and `maria demo` use it; it depends on nothing but
// the ingress package (for the ids ingress derives) and gorilla/websocket.
package slackevents

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults used when a Client leaves Team, BotUserID or AppID empty.
const (
	DefaultTeam      = "T0MARIA01"
	DefaultBotUserID = "U0MARIABOT"
	DefaultAppID     = "A0MARIAAPP"
	DefaultBotID     = "B0MARIABOT"
)

// Sign returns the X-Slack-Signature value for body sent at unix time ts:
// "v0=" + hex(HMAC-SHA256(secret, "v0:<ts>:<body>")).
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%d:", ts)
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

var tsCounter atomic.Uint64

// NewTS returns a fresh, unique Slack message timestamp ("1712345678.000123").
func NewTS() string {
	n := tsCounter.Add(1)
	return fmt.Sprintf("%d.%06d", time.Now().Unix(), n%1_000_000)
}

// NewEventID returns a fresh Events API event id ("Ev0…").
func NewEventID() string { return "Ev" + randUpper(10) }

// NewTriggerID returns a fresh trigger id, shaped like Slack's.
func NewTriggerID() string {
	return fmt.Sprintf("%d.%d.%s", time.Now().UnixNano()%1e10, time.Now().Unix(), randHex(16))
}

func randHex(n int) string {
	b := make([]byte, n/2+1)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func randUpper(n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Event is an inner Events API event (the "event" object).
type Event = map[string]any

// EventCallback wraps an inner event the way the Events API delivers it,
// modelled on Slack's documented example: token, team_id, api_app_id,
// event, type=event_callback, event_id, event_time, authorizations (the
// bot's installation) and event_context.
func EventCallback(team, appID, botUserID, eventID string, event Event) []byte {
	return Installation{Team: team, AppID: appID, BotUserID: botUserID}.EventCallback(eventID, event)
}

// Installation is the app installation a delivery comes through.
type Installation struct {
	Team, AppID, BotUserID string
	// Enterprise is the Enterprise Grid organisation (empty: none);
	// OrgWide an org-wide installation.
	Enterprise string
	OrgWide    bool
}

// enterprise is the enterprise id as Slack sends it: null without one.
func (i Installation) enterprise() any {
	if i.Enterprise == "" {
		return nil
	}
	return i.Enterprise
}

// EventCallback wraps event for this installation (see the function).
func (i Installation) EventCallback(eventID string, event Event) []byte {
	body := map[string]any{
		"token":      "ZZZZZZWSxiZZZ2yIvs3peJ",
		"team_id":    i.Team,
		"api_app_id": i.AppID,
		"event":      event,
		"type":       "event_callback",
		"event_id":   eventID,
		"event_time": time.Now().Unix(),
		"authorizations": []map[string]any{{
			"enterprise_id": i.enterprise(), "team_id": i.Team, "user_id": i.BotUserID, "is_bot": true, "is_enterprise_install": i.OrgWide,
		}},
		"is_ext_shared_channel": false,
		"event_context":         "4-" + randHex(40),
	}
	return mustJSON(body)
}

// URLVerification is the handshake Slack sends when the Request URL is saved.
func URLVerification(challenge string) []byte {
	return mustJSON(map[string]any{"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": challenge, "type": "url_verification"})
}

// MessageEvent is a "message" event as Slack sends it for channels
// (channelType "channel"), private channels ("group"), DMs ("im") and
// group DMs ("mpim"); threadTS empty for a top-level message.
func MessageEvent(team, channel, channelType, user, text, ts, threadTS string) Event {
	ev := Event{
		"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts,
		"channel_type": channelType, "team": team, "user_team": team, "client_msg_id": uuid(),
		"blocks": richTextBlocks(text),
	}
	if threadTS != "" {
		ev["thread_ts"] = threadTS
		ev["parent_user_id"] = user
	}
	return ev
}

// AppMentionEvent is an "app_mention" event (Slack's documented example,
// with the blocks and ids a current workspace adds).
func AppMentionEvent(team, channel, user, text, ts, threadTS string) Event {
	ev := Event{
		"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts,
		"team": team, "user_team": team, "client_msg_id": uuid(), "blocks": richTextBlocks(text),
	}
	if threadTS != "" {
		ev["thread_ts"] = threadTS
	}
	return ev
}

// File describes a file for MessageWithFiles; empty fields get defaults.
type File struct {
	ID, Name, Mimetype, Filetype string
	Size                         int64
	URLPrivate                   string
	// URLPrivateDownload defaults to URLPrivate with "download/" before
	// the file name, as Slack forms it (…/files-pri/T-F/download/name).
	URLPrivateDownload string
}

func (f File) object(team, user string) map[string]any {
	if f.ID == "" {
		f.ID = "F" + randUpper(10)
	}
	if f.Name == "" {
		f.Name = "file.txt"
	}
	if f.Mimetype == "" {
		f.Mimetype = "text/plain"
	}
	if f.Filetype == "" {
		f.Filetype = "text"
	}
	if f.URLPrivate == "" {
		f.URLPrivate = "https://files.slack.com/files-pri/" + team + "-" + f.ID + "/" + url.PathEscape(f.Name)
	}
	return map[string]any{
		"id": f.ID, "created": time.Now().Unix(), "timestamp": time.Now().Unix(), "name": f.Name, "title": f.Name,
		"mimetype": f.Mimetype, "filetype": f.Filetype, "pretty_type": strings.ToUpper(f.Filetype), "user": user,
		"user_team": team, "editable": false, "size": f.Size, "mode": "hosted", "is_external": false,
		"external_type": "", "is_public": true, "public_url_shared": false, "display_as_bot": false, "username": "",
		"url_private": f.URLPrivate, "url_private_download": f.downloadURL(),
		"permalink":  "https://maria-sim.slack.com/files/" + user + "/" + f.ID + "/" + url.PathEscape(f.Name),
		"is_starred": false, "has_rich_preview": false, "file_access": "visible",
	}
}

// downloadURL is url_private_download: Slack puts "download/" before the
// file name (https://files.slack.com/files-pri/T-F/download/name.pdf).
func (f File) downloadURL() string {
	if f.URLPrivateDownload != "" {
		return f.URLPrivateDownload
	}
	i := strings.LastIndexByte(f.URLPrivate, '/')
	if i < 0 {
		return f.URLPrivate
	}
	return f.URLPrivate[:i+1] + "download/" + f.URLPrivate[i+1:]
}

// MessageWithFilesEvent is a message with subtype file_share carrying files.
func MessageWithFilesEvent(team, channel, channelType, user, text, ts, threadTS string, files ...File) Event {
	ev := MessageEvent(team, channel, channelType, user, text, ts, threadTS)
	ev["subtype"] = "file_share"
	ev["upload"] = false
	ev["display_as_bot"] = false
	objs := make([]map[string]any, len(files))
	for i, f := range files {
		objs[i] = f.object(team, user)
	}
	ev["files"] = objs
	return ev
}

// MessageChangedEvent is Slack's message_changed for an edit of ts.
func MessageChangedEvent(team, channel, channelType, user, ts, oldText, newText, threadTS string) Event {
	msg := Event{"type": "message", "user": user, "text": newText, "ts": ts, "team": team, "user_team": team,
		"edited": map[string]any{"user": user, "ts": NewTS()}, "client_msg_id": uuid()}
	prev := Event{"type": "message", "user": user, "text": oldText, "ts": ts, "team": team, "user_team": team}
	if threadTS != "" {
		msg["thread_ts"], prev["thread_ts"] = threadTS, threadTS
	}
	evTS := NewTS()
	return Event{"type": "message", "subtype": "message_changed", "hidden": true, "channel": channel,
		"channel_type": channelType, "ts": evTS, "event_ts": evTS, "message": msg, "previous_message": prev}
}

// MessageDeletedEvent is Slack's message_deleted for ts.
func MessageDeletedEvent(team, channel, channelType, user, ts, oldText, threadTS string) Event {
	prev := Event{"type": "message", "user": user, "text": oldText, "ts": ts, "team": team, "user_team": team}
	if threadTS != "" {
		prev["thread_ts"] = threadTS
	}
	evTS := NewTS()
	return Event{"type": "message", "subtype": "message_deleted", "hidden": true, "channel": channel,
		"channel_type": channelType, "ts": evTS, "event_ts": evTS, "deleted_ts": ts, "previous_message": prev}
}

// FileSharedEvent is Slack's file_shared (only the file id is given).
func FileSharedEvent(channel, user, fileID string) Event {
	ts := NewTS()
	return Event{"type": "file_shared", "channel_id": channel, "file_id": fileID, "user_id": user,
		"file": map[string]any{"id": fileID}, "event_ts": ts}
}

// ReactionAddedEvent is Slack's reaction_added on a message.
func ReactionAddedEvent(channel, user, reaction, itemTS, itemUser string) Event {
	ts := NewTS()
	return Event{"type": "reaction_added", "user": user, "reaction": reaction, "item_user": itemUser,
		"item": map[string]any{"type": "message", "channel": channel, "ts": itemTS}, "event_ts": ts}
}

// AssistantThreadEvent is assistant_thread_started or
// assistant_thread_context_changed for the assistant pane thread
// (channel, threadTS) the user opened while looking at contextChannel.
func AssistantThreadEvent(eventType, team, channel, user, threadTS, contextChannel string) Event {
	ctx := map[string]any{"channel_id": contextChannel, "team_id": team, "enterprise_id": nil}
	return Event{"type": eventType, "assistant_thread": map[string]any{
		"user_id": user, "context": ctx, "channel_id": channel, "thread_ts": threadTS,
	}, "event_ts": NewTS()}
}

// CommandForm is a slash command as Slack form-posts it.
func CommandForm(team, appID, channel, user, command, text, triggerID string) url.Values {
	return url.Values{
		"token": {"gIkuvaNzQIHg97ATvDxqgjtO"}, "team_id": {team}, "team_domain": {"maria-sim"},
		"channel_id": {channel}, "channel_name": {"general"}, "user_id": {user}, "user_name": {"user-" + strings.ToLower(user)},
		"command": {command}, "text": {text}, "api_app_id": {appID}, "is_enterprise_install": {"false"},
		"response_url": {"https://hooks.slack.com/commands/" + team + "/" + randUpper(12) + "/" + randHex(24)},
		"trigger_id":   {triggerID},
	}
}

// Click describes one block_actions button click.
type Click struct {
	Channel, User string
	// MessageTS is the message holding the button; ThreadTS its thread (empty when top-level).
	MessageTS, ThreadTS string
	ActionID, BlockID   string
	Value               string
	// ActionTS and TriggerID are generated when empty.
	ActionTS, TriggerID string
	// UserTeam is the clicking user's home team (default: the team);
	// Enterprise the installation's organisation (default: none).
	UserTeam, Enterprise string
}

// BlockActionsPayload is the interaction payload (the form's payload field,
// or Socket Mode's interactive payload) for a button click, modelled on
// Slack's documented block_actions example.
func BlockActionsPayload(team, appID string, c Click) []byte {
	if c.ActionTS == "" {
		c.ActionTS = NewTS()
	}
	if c.TriggerID == "" {
		c.TriggerID = NewTriggerID()
	}
	if c.BlockID == "" {
		c.BlockID = "confirm_block"
	}
	container := map[string]any{"type": "message", "message_ts": c.MessageTS, "channel_id": c.Channel, "is_ephemeral": false}
	message := map[string]any{"type": "message", "user": DefaultBotUserID, "ts": c.MessageTS, "bot_id": DefaultBotID,
		"app_id": appID, "text": "Proposed change", "team": team}
	if c.ThreadTS != "" {
		container["thread_ts"] = c.ThreadTS
		message["thread_ts"] = c.ThreadTS
	}
	userTeam := c.UserTeam
	if userTeam == "" {
		userTeam = team
	}
	var enterprise any
	if c.Enterprise != "" {
		enterprise = map[string]any{"id": c.Enterprise, "name": "Maria Sim Org"}
	}
	return mustJSON(map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": c.User, "username": "user-" + strings.ToLower(c.User), "name": "user-" + strings.ToLower(c.User), "team_id": userTeam},
		"api_app_id": appID, "token": "9s8d9as89d8as9d8as989", "container": container, "trigger_id": c.TriggerID,
		"team": map[string]any{"id": team, "domain": "maria-sim"}, "enterprise": enterprise, "is_enterprise_install": false,
		"channel":      map[string]any{"id": c.Channel, "name": "general"},
		"message":      message,
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": "https://hooks.slack.com/actions/" + team + "/" + randUpper(12) + "/" + randHex(24),
		"actions": []map[string]any{{
			"action_id": c.ActionID, "block_id": c.BlockID, "text": map[string]any{"type": "plain_text", "text": c.ActionID, "emoji": true},
			"value": c.Value, "type": "button", "action_ts": c.ActionTS,
		}},
	})
}

// InteractionForm wraps an interaction payload as Slack form-posts it.
func InteractionForm(payload []byte) url.Values { return url.Values{"payload": {string(payload)}} }

func richTextBlocks(text string) []map[string]any {
	return []map[string]any{{"type": "rich_text", "block_id": randUpper(4), "elements": []map[string]any{{
		"type": "rich_text_section", "elements": []map[string]any{{"type": "text", "text": text}},
	}}}}
}

func uuid() string {
	h := randHex(32)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("slackevents: encode payload: %v", err)) // only maps of plain values: cannot fail
	}
	return b
}

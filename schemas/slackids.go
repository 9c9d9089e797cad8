package schemas

import "net/url"

// The HTTP paths where Slack posts to ingress. They are contract because the
// Slack simulator (tests/sim/slackevents) posts to the same paths ingress
// mounts, and the Slack app manifest names them.
const (
	SlackPathEvents       = "/slack/events"
	SlackPathCommands     = "/slack/commands"
	SlackPathInteractions = "/slack/interactions"
)

// The deterministic ids of inbound Slack events. They are the envelope ids
// ingress publishes (and so the stream's dedup keys); they live here because
// anything that must predict an id — the simulators, a test, a processor
// correlating a stored file — has to derive exactly the same one.

// SlackFileEventID is the id of a kind=file event: one file shared in one
// channel is one event, whichever delivery announced it first (the message
// carrying it, the app_mention for the same message, or file_shared), and
// Slack's retries of any of them are dropped by the stream's duplicates window.
func SlackFileEventID(team, channel, fileID string) string {
	return StableID("slack-file", team, channel, fileID)
}

// SlackActionID is the id of one click: Slack resends the same action_ts,
// action_id and user on a retry; trigger_id separates two clicks within the
// same action_ts resolution.
func SlackActionID(team, user, actionTS, actionID, blockID, triggerID string) string {
	return StableID("slack-action", team, user, actionTS, actionID, blockID, triggerID)
}

// SlackCommandKey is what identifies one slash command invocation.
type SlackCommandKey struct {
	Team, Channel, User, Command, Text, ResponseURL, TriggerID string
}

// SlackCommandKeyFromForm reads the key from the form Slack posts to
// SlackPathCommands.
func SlackCommandKeyFromForm(f url.Values) SlackCommandKey {
	return SlackCommandKey{
		Team: f.Get("team_id"), Channel: f.Get("channel_id"), User: f.Get("user_id"),
		Command: f.Get("command"), Text: f.Get("text"), ResponseURL: f.Get("response_url"), TriggerID: f.Get("trigger_id"),
	}
}

// ID is the id of a kind=command event: trigger_id is unique per invocation;
// without it, every field Slack sends identically on a retry.
func (k SlackCommandKey) ID() string {
	if k.TriggerID != "" {
		return StableID("slack-command", k.Team, k.TriggerID)
	}
	return StableID("slack-command", k.Team, k.Channel, k.User, k.Command, k.Text, k.ResponseURL)
}

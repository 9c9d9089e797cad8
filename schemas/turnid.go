package schemas

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// Turn ids: the correlation id of everything one user turn causes. Every
// turn id has one shape, whatever Slack delivered — "t-" and 26 lower-case
// base32 characters (128 bits of a SHA-256) — so operators and tools never
// have to guess what an id is. It is derived from the Slack event, never
// random, so Slack's retries and Socket Mode's redeliveries of one event
// give the same turn. The envelope ids (the stream's dedup keys) are not
// turn ids and did not change: see the ingress table in README.md.

// TurnIDPrefix starts every turn id.
const TurnIDPrefix = "t-"

// turnIDLen is the length of a turn id: the prefix and 16 bytes in base32
// without padding.
const turnIDLen = len(TurnIDPrefix) + 26

var turnEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// TurnID derives the turn id of an event of team identified by identity
// (a kind and the fields that identify the event within it).
func TurnID(team string, identity ...string) string {
	h := sha256.New()
	for _, p := range append([]string{"turn", team}, identity...) {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return TurnIDPrefix + strings.ToLower(turnEncoding.EncodeToString(h.Sum(nil)[:16]))
}

// IsTurnID reports whether s has the shape of a turn id.
func IsTurnID(s string) bool {
	if len(s) != turnIDLen || !strings.HasPrefix(s, TurnIDPrefix) {
		return false
	}
	_, err := turnEncoding.DecodeString(strings.ToUpper(s[len(TurnIDPrefix):]))
	return err == nil
}

// SlackMessageTurn is the turn of a message posted in channel at ts: its
// message event, the app_mention Slack sends for the same message, and
// the files it carries share it. For an edit or a deletion ts is the
// event's own ts (Slack gives every change a new one), so a change is a
// turn of its own.
func SlackMessageTurn(team, channel, ts string) string {
	return TurnID(team, "message", channel, ts)
}

// SlackEventTurn is the turn of any other Events API event (a reaction,
// an assistant thread event, a message without ts): one per event_id.
func SlackEventTurn(team, eventID string) string {
	return TurnID(team, "event", eventID)
}

// SlackInteractionTurn is the turn of a slash command, a click or a view
// submission, from the envelope id ingress derives for it (SlackActionID,
// SlackCommandKey.ID, SlackViewID), itself stable across Slack's retries.
func SlackInteractionTurn(team, envelopeID string) string {
	return TurnID(team, "interaction", envelopeID)
}

package schemas

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The claim contract: how a processor tells the AI "this message is mine,
// do not answer it". A processor publishes its rules, with liveness, into
// the KV bucket ClaimsBucket under ClaimKey(processor, instance) and
// re-puts them every ClaimRefresh; the AI watches the bucket and skips a
// message that a live rule matches. A rule is live while its entry is
// younger than ClaimTTL (the KV entry's server time), so a claim lapses on
// its own when its owner dies and the AI answers normally again. The check
// is a lookup in the AI's in-memory view: no request on the path of a turn.
const (
	// ClaimsBucket holds one Claim per running processor replica.
	ClaimsBucket = "maria_claims"
	// ClaimTTL is how long a claim lives after its last refresh (also the
	// bucket's TTL, which drops the keys of replicas gone for good).
	ClaimTTL = 15 * time.Second
	// ClaimRefresh is how often a live replica re-puts its claim.
	ClaimRefresh = 5 * time.Second
)

// Claim is the value a processor replica keeps under ClaimKey (claim.v1).
type Claim struct {
	// Processor is the claiming processor's name (its NATS user).
	Processor string `json:"processor"`
	// Instance tells replicas apart (random per process).
	Instance string `json:"instance"`
	// Rules: a message matching any of them is the processor's.
	Rules []ClaimRule `json:"rules"`
}

// ClaimRule matches an inbound event. Every field that is set must match;
// at least one of Command, Prefix, Contains and Channels is set.
type ClaimRule struct {
	// Kinds of maria.in.<kind> the rule applies to: message, mention,
	// command. Empty means all three.
	Kinds []string `json:"kinds,omitempty" jsonschema:"uniqueItems=true"`
	// Channels restricts the rule to these Slack channel ids.
	Channels []string `json:"channels,omitempty"`
	// Command is a slash command ("/time"): matches command events with
	// that command, compared case-insensitively.
	Command string `json:"command,omitempty"`
	// Prefix matches when the normalized text starts with it.
	Prefix string `json:"prefix,omitempty"`
	// Contains matches when the normalized text contains it.
	Contains string `json:"contains,omitempty"`
}

// claimKinds are the event kinds a claim can cover (the ones the AI answers
// from text).
var claimKinds = []string{KindMessage, KindMention, KindCommand}

// ClaimKey is where a replica keeps its claim: "<processor>.<instance>"
// (a processor's NATS user may write only below its own name).
func ClaimKey(processor, instance string) string { return processor + "." + instance }

// ClaimEvent is what a rule is matched against.
type ClaimEvent struct {
	Kind    string // KindMessage, KindMention or KindCommand
	Channel string
	Command string // slash command, for KindCommand
	Text    string // message text, or the command's text
}

var leadingMentions = regexp.MustCompile(`^\s*(<@[A-Z0-9]+(\|[^>]*)?>[\s,:]*)+`)

// NormalizeClaimText is the text rules see: leading <@U…> mentions removed,
// surrounding space trimmed, lower case. Processors in other languages
// implement the same three steps (schemas/README.md "Claims").
func NormalizeClaimText(s string) string {
	return strings.ToLower(strings.TrimSpace(leadingMentions.ReplaceAllString(s, "")))
}

// Validate reports a rule that could never match or would match everything.
func (r ClaimRule) Validate() error {
	for _, k := range r.Kinds {
		if !slices.Contains(claimKinds, k) {
			return fmt.Errorf("claim rule: kind %q, want one of %v", k, claimKinds)
		}
	}
	if r.Command == "" && r.Prefix == "" && r.Contains == "" && len(r.Channels) == 0 {
		return fmt.Errorf("claim rule: set command, prefix, contains or channels (a rule may not claim everything)")
	}
	if r.Command != "" && !strings.HasPrefix(r.Command, "/") {
		return fmt.Errorf("claim rule: command %q, want a slash command such as /time", r.Command)
	}
	return nil
}

// Matches tells whether the rule claims ev.
func (r ClaimRule) Matches(ev ClaimEvent) bool {
	kinds := r.Kinds
	if len(kinds) == 0 {
		kinds = claimKinds
	}
	if !slices.Contains(kinds, ev.Kind) {
		return false
	}
	if len(r.Channels) > 0 && !slices.Contains(r.Channels, ev.Channel) {
		return false
	}
	if r.Command != "" && (ev.Kind != KindCommand || !strings.EqualFold(r.Command, ev.Command)) {
		return false
	}
	text := NormalizeClaimText(ev.Text)
	if r.Prefix != "" && !strings.HasPrefix(text, strings.ToLower(r.Prefix)) {
		return false
	}
	return r.Contains == "" || strings.Contains(text, strings.ToLower(r.Contains))
}

// Matches tells whether any rule of the claim matches ev.
func (c Claim) Matches(ev ClaimEvent) bool {
	return slices.ContainsFunc(c.Rules, func(r ClaimRule) bool { return r.Matches(ev) })
}

// ClaimEventOf extracts what rules match from an inbound envelope; ok is
// false for kinds a claim cannot cover or an undecodable payload.
func ClaimEventOf(e *Envelope) (ev ClaimEvent, ok bool) {
	ev.Channel = e.Channel
	switch e.Type {
	case TypeSlackMessage, TypeSlackMention:
		m, err := DecodeData[SlackMessage](e)
		if err != nil {
			return ev, false
		}
		ev.Kind, ev.Text = KindMessage, m.Text
		if e.Type == TypeSlackMention {
			ev.Kind = KindMention
		}
	case TypeSlackCommand:
		c, err := DecodeData[SlackCommand](e)
		if err != nil {
			return ev, false
		}
		ev.Kind, ev.Command, ev.Text = KindCommand, c.Command, c.Text
	default:
		return ev, false
	}
	return ev, true
}

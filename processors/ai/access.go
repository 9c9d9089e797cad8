package ai

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/mariahq/maria/schemas"
	openai "github.com/sashabaranov/go-openai"
)

// Channel list entries besides channel ids.
const (
	// ChannelsDM enables direct messages with Maria and assistant threads
	// (channel ids starting with D, channel_type im or app_home).
	ChannelsDM = "dm"
	// ChannelsAll enables every channel.
	ChannelsAll = "*"
	// DefaultERPChannels is secure by default: ERP data is shown only in
	// direct messages until an admin lists channels.
	DefaultERPChannels = ChannelsDM
)

// ChannelList is where an ERP capability is enabled
// (MARIA_ERP_READ_CHANNELS, MARIA_ERP_WRITE_CHANNELS). The zero value
// enables nothing.
type ChannelList struct {
	all, dm bool
	ids     map[string]bool
}

var channelID = regexp.MustCompile(`^[CDG][A-Z0-9]+$`)

// ParseChannelList reads a comma-separated list of channel ids, "dm" and
// "*"; every invalid entry is reported (name is the variable, for messages).
func ParseChannelList(name, raw string) (ChannelList, []error) {
	l := ChannelList{ids: map[string]bool{}}
	var errs []error
	for _, e := range strings.Split(raw, ",") {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case e == ChannelsAll:
			l.all = true
		case strings.EqualFold(e, ChannelsDM):
			l.dm = true
		case channelID.MatchString(e):
			l.ids[e] = true
		case strings.HasPrefix(e, "#"):
			errs = append(errs, fmt.Errorf("%s: %q is a channel name; list channel ids (C0123ABCD: channel details → About), dm or *", name, e))
		default:
			errs = append(errs, fmt.Errorf("%s: %q is not a channel id (uppercase, starting with C, G or D, e.g. C0123ABCD), dm or *", name, e))
		}
	}
	return l, errs
}

// isDM reports whether a conversation is a direct message with Maria (or
// its assistant pane), from the channel id or the event's channel_type.
func isDM(channel, channelType string) bool {
	return strings.HasPrefix(channel, "D") || channelType == "im" || channelType == "app_home"
}

// Allows reports whether the list enables the conversation.
func (l ChannelList) Allows(channel, channelType string) bool {
	return l.all || l.ids[channel] || (l.dm && isDM(channel, channelType))
}

// covers reports whether every conversation o enables is enabled by l.
func (l ChannelList) covers(o ChannelList) []string {
	if l.all {
		return nil
	}
	var missing []string
	if o.all {
		missing = append(missing, ChannelsAll)
	}
	if o.dm && !l.dm {
		missing = append(missing, ChannelsDM)
	}
	for id := range o.ids {
		if !l.ids[id] && !(l.dm && isDM(id, "")) {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	return missing
}

// ERPPolicy decides who may use Maria's ERP tools, and where.
type ERPPolicy struct {
	// AllowGuests and AllowExternal opt guests and Slack Connect users in
	// (MARIA_ERP_ALLOW_GUESTS, MARIA_ERP_ALLOW_EXTERNAL; default false).
	AllowGuests   bool
	AllowExternal bool
	// Read and Write enable ERP reads and change proposals per conversation.
	// A write also needs Read.
	Read, Write ChannelList
	// fromSettings: the lists come from the workspace's settings (the App
	// Home), so a refusal points there rather than at the variables.
	fromSettings bool
}

// Refusal reasons (metric label maria_ai_erp_refusals_total{reason}).
const (
	refusedGuest    = "guest"
	refusedExternal = "external"
	refusedBot      = "bot"
	refusedUnknown  = "unknown"
	refusedChannel  = "channel"
)

// erpAccess is what one turn may do with the ERP, and why not.
type erpAccess struct {
	read, write bool
	// readReason/writeReason label a refusal; readWhy/writeWhy tell the user.
	readReason, writeReason string
	readWhy, writeWhy       string
}

// Access decides a turn's ERP access from the envelope's user kind (set by
// ingress; empty = nobody classified the user = unknown) and the
// conversation.
func (p ERPPolicy) Access(kind, channel, channelType string) erpAccess {
	if reason, why := p.userRefusal(kind); reason != "" {
		return erpAccess{readReason: reason, writeReason: reason, readWhy: why, writeWhy: why}
	}
	var a erpAccess
	if p.Read.Allows(channel, channelType) {
		a.read = true
	} else {
		a.readReason, a.readWhy = refusedChannel, channelRefusal("ERP access is", p.where("MARIA_ERP_READ_CHANNELS"), p.Read)
	}
	switch {
	case !a.read:
		a.writeReason, a.writeWhy = a.readReason, a.readWhy // writes require reads
	case p.Write.Allows(channel, channelType):
		a.write = true
	default:
		a.writeReason, a.writeWhy = refusedChannel, channelRefusal("ERP changes are", p.where("MARIA_ERP_WRITE_CHANNELS"), p.Write)
	}
	return a
}

// userRefusal says why a user kind may not use the ERP at all ("" = may).
// Exported to the proposal click path through UserRefusal.
func (p ERPPolicy) userRefusal(kind string) (reason, why string) {
	const outsiders = "Guests and people from other organisations cannot use Maria's ERP access, so I can't look up or change anything in Odoo for you. A member of the workspace can ask me instead."
	switch kind {
	case schemas.UserKindMember:
		return "", ""
	case schemas.UserKindGuest:
		if p.AllowGuests {
			return "", ""
		}
		return refusedGuest, outsiders
	case schemas.UserKindExternal:
		if p.AllowExternal {
			return "", ""
		}
		return refusedExternal, outsiders
	case schemas.UserKindBot:
		return refusedBot, "Bots and apps cannot use Maria's ERP access."
	}
	return refusedUnknown, "I couldn't confirm that you are a member of this workspace, so I can't use Maria's ERP access for you right now. Please try again in a minute; if it keeps happening, ask an admin."
}

// UserRefusal is the reason a user of this kind may not use Maria's ERP
// access (for example to confirm a proposal), or "" when they may.
func (p ERPPolicy) UserRefusal(kind string) string {
	_, why := p.userRefusal(kind)
	return why
}

// where names what an admin edits to enable a channel.
func (p ERPPolicy) where(variable string) string {
	if p.fromSettings {
		return "Maria's settings (App Home → Settings)"
	}
	return variable
}

func channelRefusal(what, variable string, l ChannelList) string {
	s := fmt.Sprintf("%s not enabled in this channel; ask an admin to add it to %s", what, variable)
	if l.dm {
		s += ", or ask me in a direct message"
	}
	return s + "."
}

// accessNote tells the model what it may not do in this turn, so it does
// not promise lookups or changes it has no tools for.
func accessNote(a erpAccess) string {
	switch {
	case !a.read:
		return "ERP access is not available in this conversation, and you have no tools: " + a.readWhy +
			" Do not claim to have looked anything up. If the user asks about ERP data, say briefly that you cannot access it here."
	case !a.write:
		return "You may read the ERP, but you cannot propose changes in this conversation (odoo_create and odoo_write are not available): " +
			a.writeWhy + " If the user asks for a change, say so briefly."
	}
	return ""
}

// toolsFor are the tool definitions a turn may use: none without read
// access, reads only without write access.
func toolsFor(a erpAccess) []openai.Tool {
	if !a.read {
		return nil
	}
	var out []openai.Tool
	for _, t := range ToolDefinitions() {
		if a.write || !isWriteTool(t.Function.Name) {
			out = append(out, t)
		}
	}
	return out
}

func isWriteTool(name string) bool {
	return name == ToolCreate || name == ToolWrite || name == ToolAction
}

// gate refuses a tool call the turn's access does not allow. It runs at
// the tool-runner boundary for every call, so a model that calls a tool it
// was not offered still reaches nothing: no query, no proposal.
func (a erpAccess) gate(name string) (reason, why string, refused bool) {
	if isWriteTool(name) {
		return a.writeReason, a.writeWhy, !a.write
	}
	return a.readReason, a.readWhy, !a.read
}

// accessLabel names the capability a tool needs (metric label).
func accessLabel(name string) string {
	if isWriteTool(name) {
		return "write"
	}
	return "read"
}

// refuse answers a call the turn may not make with an error for the model
// and remembers the reason for the user; nothing reaches the ERP.
func (r *toolRunner) refuse(name string) (toolOutcome, bool) {
	reason, why, refused := r.access.gate(name)
	if !refused {
		return toolOutcome{}, false
	}
	metricERPRefusals.WithLabelValues(accessLabel(name), reason).Inc()
	metricToolCalls.WithLabelValues(toolLabel(name), "refused").Inc()
	r.mu.Lock()
	if !slices.Contains(r.refusals, why) {
		r.refusals = append(r.refusals, why)
	}
	r.mu.Unlock()
	return errOutcomeKind(name, "", "not allowed here: "+why, "refused"), true
}

// Refusals are the reasons this turn's calls were refused, first first.
func (r *toolRunner) Refusals() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.refusals...)
}

// refusalNotice ends an answer that could not use the ERP with why and what
// to do, whatever the model said: a turn without read access always gets
// it, a refused change proposal too.
func refusalNotice(a erpAccess, refused []string) string {
	var whys []string
	if !a.read {
		whys = append(whys, a.readWhy)
	}
	for _, w := range refused {
		if !slices.Contains(whys, w) {
			whys = append(whys, w)
		}
	}
	if len(whys) == 0 {
		return ""
	}
	return "\n\n🔒 " + strings.Join(whys, "\n🔒 ")
}

package ai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mariahq/maria/schemas"
)

// What the user confirms is what is written: a proposal shows every value
// in full. A value longer than maxShownValue, or values that together would
// not fit a Slack section, are shortened in the message and attached in
// full as a JSON file in the thread (ProposalAttachment), and the message
// says so.
const (
	maxShownValue   = 200
	maxSectionChars = 2900
)

// Describe is a one-line, human description of a proposal's change, with
// the names of the records a write changes.
func Describe(p *Proposal) string {
	c := p.Command
	if c.Op == "create" {
		return fmt.Sprintf("create a `%s` record", c.Model)
	}
	ids := make([]string, len(c.IDs))
	for i, id := range c.IDs {
		ids[i] = fmt.Sprintf("#%d", id)
		if name := p.RecordNames[strconv.FormatInt(id, 10)]; name != "" && name != ids[i] {
			ids[i] += " “" + mrkdwnEscape(name) + "”"
		}
	}
	if c.Op == "action" {
		return fmt.Sprintf("run `%s` on `%s` %s", c.Method, c.Model, strings.Join(ids, ", "))
	}
	return fmt.Sprintf("update `%s` %s", c.Model, strings.Join(ids, ", "))
}

// valueLines lists the values, one "• field: value" per line, and whether
// some had to be shortened (then the full values go as an attachment).
func valueLines(p *Proposal) (string, bool) {
	full, short := p.valueText(0), p.valueText(maxShownValue)
	if full == short && len(full) <= maxSectionChars-200 {
		return full, false
	}
	note := fmt.Sprintf("\n_Some values are shortened here; every value is in full in the attached `%s`. Check it before you confirm._", AttachmentName(p))
	return truncate(short, maxSectionChars-200) + note, true
}

// valueText renders the values, each shortened to limit bytes (0: in full).
func (p *Proposal) valueText(limit int) string {
	values := p.Command.Values
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := jsonText(values[k])
		if limit > 0 {
			v = truncate(v, limit)
		}
		fmt.Fprintf(&b, "• `%s`: %s", k, mrkdwnEscape(v))
		if name := p.ValueNames[k]; name != "" {
			fmt.Fprintf(&b, " (“%s”)", mrkdwnEscape(name))
		}
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

// jsonText shows a value as JSON, with <, > and & as typed (mrkdwnEscape
// escapes them for Slack).
func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// mrkdwnEscape escapes the three characters Slack's mrkdwn treats as
// control (Slack shows the escaped text as typed), so a value cannot turn
// into a mention or a link and is shown as it will be written.
func mrkdwnEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// AttachmentName is the file name of a proposal's full values.
func AttachmentName(p *Proposal) string { return "proposal-" + p.ID[:min(len(p.ID), 12)] + ".json" }

// ProposalAttachment is the out.upload of a proposal's full change (op,
// model, ids, values) as indented JSON, or nil when the message shows
// every value in full already.
func ProposalAttachment(p *Proposal) *schemas.OutUpload {
	if _, long := valueLines(p); !long {
		return nil
	}
	body, err := json.MarshalIndent(map[string]any{"op": p.Command.Op, "model": p.Command.Model, "ids": p.Command.IDs,
		"values": p.Command.Values, "proposal_id": p.ID}, "", "  ")
	if err != nil {
		body = []byte(jsonText(p.Command))
	}
	return &schemas.OutUpload{Filename: AttachmentName(p), Title: "Proposed change (every value in full)", Content: body, ThreadTS: p.ThreadTS}
}

func section(text string) map[string]any {
	return map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": truncate(text, 2990)}}
}

func contextBlock(text string) map[string]any {
	return map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": truncate(text, 2900)}}}
}

func changeSection(p *Proposal) map[string]any {
	lines, _ := valueLines(p)
	return section(fmt.Sprintf("*Proposed change:* %s\n%s", Describe(p), lines))
}

// ProposalBlocks renders a pending proposal: the exact change and the
// Confirm / Cancel buttons (value = proposal id). The buttons' block_id
// carries the digest of the change shown, which Slack returns with the
// click: the erp service checks it against the command it executes.
func ProposalBlocks(p *Proposal) []any {
	blockID := "proposal_" + kvSafe(p.ID)
	if p.Digest != "" {
		blockID = schemas.ConfirmBlockID(p.Digest)
	}
	return []any{
		changeSection(p),
		contextBlock(fmt.Sprintf("Requested by <@%s>. Nothing changes in Odoo until <@%s> clicks Confirm.", p.User, p.User)),
		map[string]any{
			"type":     "actions",
			"block_id": blockID,
			"elements": []any{
				map[string]any{"type": "button", "action_id": ActionConfirm, "style": "primary", "value": p.ID,
					"text": map[string]any{"type": "plain_text", "text": "Confirm"}},
				map[string]any{"type": "button", "action_id": ActionCancel, "style": "danger", "value": p.ID,
					"text": map[string]any{"type": "plain_text", "text": "Cancel"}},
			},
		},
	}
}

// ProposalText is the notification text of a proposal message.
func ProposalText(p *Proposal) string {
	return fmt.Sprintf("Proposed change: %s — awaiting confirmation by <@%s>", Describe(p), p.User)
}

// DecidedBlocks renders a proposal after a click or a result: the change and
// a status line, without buttons.
func DecidedBlocks(p *Proposal, status string) []any {
	return []any{changeSection(p), contextBlock(status)}
}

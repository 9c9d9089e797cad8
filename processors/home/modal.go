package home

import (
	"fmt"
	"strings"

	"github.com/mariahq/maria/processors/settings"
	"github.com/mariahq/maria/schemas"
)

// Block ids of the settings modal's inputs (view_submission values).
const (
	blockTitle   = "title"
	blockPrompts = "prompts"
	blockRead    = "erp_read"
	blockWrite   = "erp_write"
	blockAllow   = "allow"
	actionInput  = "input"
	allowGuests  = "guests"
	allowExtern  = "external"
)

// SettingsModal is the settings form pre-filled with s.
func SettingsModal(s settings.Settings) map[string]any {
	var prompts []string
	for _, p := range s.SuggestedPrompts {
		prompts = append(prompts, p.Title+" | "+p.Message)
	}
	options := []any{option(allowGuests, "Guests may use the ERP"), option(allowExtern, "People from other organisations (Slack Connect) may use the ERP")}
	var initial []any
	if s.AllowGuests {
		initial = append(initial, options[0])
	}
	if s.AllowExternal {
		initial = append(initial, options[1])
	}
	checkboxes := map[string]any{"type": "checkboxes", "action_id": actionInput, "options": options}
	if len(initial) > 0 {
		checkboxes["initial_options"] = initial
	}
	return map[string]any{
		"type": "modal", "callback_id": CallbackSettings, "private_metadata": s.TeamID,
		"title": plain("Maria settings"), "submit": plain("Save"), "close": plain("Cancel"),
		"blocks": []any{
			input(blockTitle, "Assistant title", textInput(s.AssistantTitle, false), ""),
			input(blockPrompts, "Suggested prompts", textInput(strings.Join(prompts, "\n"), true),
				fmt.Sprintf("One per line, at most %d: title | message", settings.MaxPrompts)),
			input(blockRead, "Channels where Maria may read the ERP", textInput(strings.Join(s.ERPReadChannels, ", "), false),
				"Channel ids (C0123ABCD), dm for direct messages, * for everywhere; empty: nowhere"),
			input(blockWrite, "Channels where Maria may propose ERP changes", textInput(strings.Join(s.ERPWriteChannels, ", "), false),
				"Same syntax; a change also needs read access there"),
			optional(input(blockAllow, "Who else may use the ERP", checkboxes, "")),
		},
	}
}

func option(value, text string) map[string]any {
	return map[string]any{"text": plain(text), "value": value}
}

func textInput(initial string, multiline bool) map[string]any {
	el := map[string]any{"type": "plain_text_input", "action_id": actionInput, "multiline": multiline}
	if initial != "" {
		el["initial_value"] = initial
	}
	return el
}

func input(blockID, label string, element map[string]any, hint string) map[string]any {
	b := map[string]any{"type": "input", "block_id": blockID, "label": plain(label), "element": element, "optional": blockID != blockTitle}
	if hint != "" {
		b["hint"] = plain(hint)
	}
	return b
}

func optional(b map[string]any) map[string]any { b["optional"] = true; return b }

// ParseSettings reads a submitted settings modal into settings for team;
// problems are returned per block id (for response_action errors) and
// checked with parseChannels, the caller's channel-list syntax check.
func ParseSettings(team string, values map[string]map[string]schemas.ViewValue, parseChannels func(name, raw string) []error) (settings.Settings, map[string]string) {
	get := func(block string) schemas.ViewValue { return values[block][actionInput] }
	s := settings.Settings{TeamID: team, AssistantTitle: strings.TrimSpace(get(blockTitle).Value), SuggestedPrompts: []settings.Prompt{}}
	problems := map[string]string{}
	for _, line := range strings.Split(get(blockPrompts).Value, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		title, msg, ok := strings.Cut(line, "|")
		if !ok {
			title, msg = line, line
		}
		s.SuggestedPrompts = append(s.SuggestedPrompts, settings.Prompt{Title: strings.TrimSpace(title), Message: strings.TrimSpace(msg)})
	}
	s.ERPReadChannels, s.ERPWriteChannels = channels(get(blockRead).Value), channels(get(blockWrite).Value)
	for block, list := range map[string][]string{blockRead: s.ERPReadChannels, blockWrite: s.ERPWriteChannels} {
		if errs := parseChannels(block, strings.Join(list, ",")); len(errs) > 0 {
			problems[block] = errs[0].Error()
		}
	}
	for _, v := range get(blockAllow).Selected {
		s.AllowGuests = s.AllowGuests || v == allowGuests
		s.AllowExternal = s.AllowExternal || v == allowExtern
	}
	if err := s.Validate(); err != nil && len(problems) == 0 {
		if s.AssistantTitle == "" || len([]rune(s.AssistantTitle)) > settings.MaxTitle {
			problems[blockTitle] = fmt.Sprintf("1 to %d characters", settings.MaxTitle)
		} else {
			problems[blockPrompts] = err.Error()
		}
	}
	return s, problems
}

// channels splits a list of channel entries; empty means none (not nil:
// an admin who clears the list disables the capability everywhere).
func channels(raw string) []string {
	return append([]string{}, strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })...)
}

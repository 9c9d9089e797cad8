package demo

import (
	"encoding/json"
	"strings"
)

// block is the part of a Block Kit block the terminal shows.
type block struct {
	Type     string          `json:"type"`
	Text     *textObject     `json:"text"`
	Fields   []textObject    `json:"fields"`
	Elements json.RawMessage `json:"elements"`
}

type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// element is a context or actions element: a text object or a button.
type element struct {
	Type string          `json:"type"`
	Text json.RawMessage `json:"text"` // a string on mrkdwn elements, a text object on buttons
}

// Message renders a message as Slack shows it: its blocks when it has a
// section or a header (the text is then only the notification), else its
// text followed by its other blocks (a streamed answer with its record
// links). Buttons are listed with the prompt command that clicks them.
func (r Mrkdwn) Message(text string, rawBlocks json.RawMessage) string {
	var blocks []block
	if len(rawBlocks) > 0 {
		_ = json.Unmarshal(rawBlocks, &blocks) // unreadable blocks: the text alone
	}
	var parts []string
	if !hasBody(blocks) && strings.TrimSpace(text) != "" {
		parts = append(parts, r.Render(strings.TrimSpace(text)))
	}
	for _, b := range blocks {
		if s := r.block(b); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n")
}

func hasBody(blocks []block) bool {
	for _, b := range blocks {
		if b.Type == "section" || b.Type == "header" {
			return true
		}
	}
	return false
}

func (r Mrkdwn) block(b block) string {
	switch b.Type {
	case "section":
		var lines []string
		if b.Text != nil {
			lines = append(lines, r.textObject(*b.Text))
		}
		for _, f := range b.Fields {
			lines = append(lines, r.textObject(f))
		}
		return strings.Join(lines, "\n")
	case "header":
		if b.Text != nil {
			return r.paint(styleBold, b.Text.Text)
		}
	case "divider":
		return "────────"
	case "context":
		var texts []string
		for _, el := range r.elements(b.Elements) {
			var s string
			if json.Unmarshal(el.Text, &s) == nil && s != "" {
				texts = append(texts, r.textObject(textObject{Type: el.Type, Text: s}))
			}
		}
		return r.paint(styleDim, strings.Join(texts, "  "))
	case "actions":
		var buttons, commands []string
		for _, el := range r.elements(b.Elements) {
			var label textObject
			if el.Type == "button" && json.Unmarshal(el.Text, &label) == nil {
				buttons = append(buttons, "["+label.Text+"]")
				commands = append(commands, "/"+strings.ToLower(label.Text))
			}
		}
		if len(buttons) > 0 {
			return strings.Join(buttons, "  ") + "  " + r.paint(styleDim, "(type "+strings.Join(commands, " or ")+")")
		}
	}
	return ""
}

func (r Mrkdwn) elements(raw json.RawMessage) []element {
	var els []element
	_ = json.Unmarshal(raw, &els)
	return els
}

// textObject renders mrkdwn text; plain_text is shown as typed.
func (r Mrkdwn) textObject(t textObject) string {
	if t.Type == "plain_text" {
		return t.Text
	}
	return r.Render(t.Text)
}

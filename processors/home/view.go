// Package home builds Maria's App Home tab and the workspace settings
// modal as Block Kit JSON. The Home tab is a list of sections, each a
// function of who is looking; a processor registers more sections (for
// example "Connect your Odoo account") with Builder.Add.
package home

import (
	"context"
	"fmt"
)

// Viewer is who the Home tab is built for.
type Viewer struct {
	Team, User string
	// Admin may edit the workspace's settings (set by ingress, see
	// schemas.Envelope.UserAdmin).
	Admin bool
}

// Section returns its blocks for v (none to stay hidden). An error hides
// the section and is reported; the rest of the Home tab still shows.
type Section struct {
	Name   string
	Blocks func(ctx context.Context, v Viewer) ([]any, error)
}

// Builder composes the Home tab from its sections, in order.
type Builder struct{ sections []Section }

// Add appends a section.
func (b *Builder) Add(s Section) { b.sections = append(b.sections, s) }

// View is the Home tab (views.publish's view object) for v; failed
// sections are left out and returned as errors.
func (b *Builder) View(ctx context.Context, v Viewer) (map[string]any, []error) {
	var blocks []any
	var errs []error
	for _, s := range b.sections {
		bl, err := s.Blocks(ctx, v)
		if err != nil {
			errs = append(errs, fmt.Errorf("home section %s: %w", s.Name, err))
			continue
		}
		if len(bl) > 0 && len(blocks) > 0 {
			blocks = append(blocks, Divider())
		}
		blocks = append(blocks, bl...)
	}
	if len(blocks) > 100 {
		blocks = blocks[:100] // Slack's limit for a view
	}
	return map[string]any{"type": "home", "blocks": blocks}, errs
}

// Block Kit helpers.

// Header is a header block.
func Header(text string) map[string]any {
	return map[string]any{"type": "header", "text": plain(text)}
}

// Text is a section block of mrkdwn.
func Text(mrkdwn string) map[string]any {
	return map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": mrkdwn}}
}

// Context is a context block of mrkdwn.
func Context(mrkdwn string) map[string]any {
	return map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": mrkdwn}}}
}

// Divider is a divider block.
func Divider() map[string]any { return map[string]any{"type": "divider"} }

// Button is an actions block with one button.
func Button(blockID, actionID, text, value string) map[string]any {
	btn := map[string]any{"type": "button", "action_id": actionID, "text": plain(text)}
	if value != "" {
		btn["value"] = value
	}
	return map[string]any{"type": "actions", "block_id": blockID, "elements": []any{btn}}
}

func plain(s string) map[string]any {
	return map[string]any{"type": "plain_text", "text": s, "emoji": true}
}

package home

import (
	"context"
	"fmt"
	"strings"

	"github.com/mariahq/maria/schemas"
)

// Action and callback ids of the Home tab and the settings modal.
const (
	ActionOpenSettings = "home_settings"
	CallbackSettings   = "maria_settings"
)

// About says what Maria can do; title is the workspace's assistant title.
func About(title func(ctx context.Context, team string) (string, error)) Section {
	return Section{Name: "about", Blocks: func(ctx context.Context, v Viewer) ([]any, error) {
		t, err := title(ctx, v.Team)
		if err != nil {
			return nil, err
		}
		return []any{
			Header(t),
			Text("I answer questions about your company's Odoo ERP: sales orders and quotations, invoices and payments, " +
				"customers, products and stock, CRM leads. Ask me in a direct message, mention me in a channel where I'm enabled, " +
				"or use the assistant pane.\n\nI never change anything on my own: a change is a *proposal* that you confirm with a click."),
		}, nil
	}}
}

// Proposals lists the user's open proposals and the ERP changes they made
// recently; list returns them (newest first).
func Proposals(list func(ctx context.Context, team, user string) (open, done []schemas.Proposal, err error)) Section {
	return Section{Name: "proposals", Blocks: func(ctx context.Context, v Viewer) ([]any, error) {
		open, done, err := list(ctx, v.Team, v.User)
		if err != nil {
			return nil, err
		}
		blocks := []any{Header("Your open proposals")}
		if len(open) == 0 {
			blocks = append(blocks, Context("Nothing waits for your confirmation."))
		}
		for _, p := range capped(open, 10) {
			blocks = append(blocks, Text(fmt.Sprintf("• %s — waiting for your click in <#%s>", describe(p), p.Channel)))
		}
		blocks = append(blocks, Header("Recent ERP changes"))
		if len(done) == 0 {
			blocks = append(blocks, Context("No change confirmed recently."))
		}
		for _, p := range capped(done, 10) {
			mark := "✅"
			if p.Status == schemas.ProposalFailed {
				mark = "⚠️"
			}
			blocks = append(blocks, Text(fmt.Sprintf("%s %s", mark, describe(p))))
		}
		return blocks, nil
	}}
}

// SettingsButton offers workspace admins the settings modal.
func SettingsButton() Section {
	return Section{Name: "settings", Blocks: func(_ context.Context, v Viewer) ([]any, error) {
		if !v.Admin {
			return nil, nil
		}
		return []any{
			Header("Workspace settings"),
			Context("As a workspace admin you choose the assistant's title and suggested prompts, and where Maria may read and change ERP data."),
			Button("home_settings", ActionOpenSettings, "Settings", ""),
		}, nil
	}}
}

func capped(ps []schemas.Proposal, n int) []schemas.Proposal {
	if len(ps) > n {
		return ps[:n]
	}
	return ps
}

// describe names a proposal the way the proposal message did.
func describe(p schemas.Proposal) string {
	c := p.Command
	var target string
	switch {
	case len(c.IDs) > 0:
		var names []string
		for _, id := range c.IDs {
			if n := p.RecordNames[fmt.Sprint(id)]; n != "" {
				names = append(names, "“"+n+"”")
			} else {
				names = append(names, fmt.Sprintf("#%d", id))
			}
		}
		target = " " + strings.Join(names, ", ")
	case c.Values["name"] != nil:
		target = fmt.Sprintf(" “%v”", c.Values["name"])
	}
	return fmt.Sprintf("*%s %s*%s", c.Op, c.Model, target)
}

package ai

import (
	"context"
	"fmt"
	"strings"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/processors/settings"
	"github.com/mariahq/maria/schemas"
)

// settingsDefaults are a workspace's settings before an admin saves any:
// the environment's (MARIA_ASSISTANT_TITLE, MARIA_SUGGESTED_PROMPTS,
// MARIA_ERP_*), so a single-workspace setup behaves as its variables say.
func settingsDefaults(cfg Config) settings.Defaults {
	d := cfg.Settings.Defaults
	if d.AssistantTitle == "" { // a Config built in code, not loaded
		d.AssistantTitle = settings.DefaultTitle
	}
	if d.SuggestedPrompts == nil {
		d.SuggestedPrompts = settings.DefaultPrompts
	}
	d.ERPReadChannels, d.ERPWriteChannels = cfg.ERP.Read.entries(), cfg.ERP.Write.entries()
	d.AllowGuests, d.AllowExternal = cfg.ERP.AllowGuests, cfg.ERP.AllowExternal
	return d
}

// entries lists l in the MARIA_ERP_*_CHANNELS syntax.
func (l ChannelList) entries() []string {
	out := []string{}
	if l.all {
		out = append(out, ChannelsAll)
	}
	if l.dm {
		out = append(out, ChannelsDM)
	}
	for id := range l.ids {
		out = append(out, id)
	}
	return out
}

// teamSettings are team's effective settings; a store failure is a retry
// (who may read the ERP is not guessed).
func (p *Processor) teamSettings(ctx context.Context, team string) (settings.Settings, error) {
	s, err := p.settings.Effective(ctx, team)
	if err != nil {
		return settings.Settings{}, bus.Retry(fmt.Errorf("workspace settings: %w", err))
	}
	return s, nil
}

// policyFor is the ERP policy of team: its settings' channels and
// allow-lists (the environment's until an admin saved settings).
func (p *Processor) policyFor(ctx context.Context, team string) (ERPPolicy, error) {
	s, err := p.teamSettings(ctx, team)
	if err != nil {
		return ERPPolicy{}, err
	}
	return policyOf(s), nil
}

// policyOf reads settings as an ERP policy. Entries were checked when
// saved; an entry that no longer parses enables nothing (fails closed).
// Refusals point at the App Home once an admin saved settings, at the
// variables before.
func policyOf(s settings.Settings) ERPPolicy {
	read, _ := ParseChannelList("erp_read_channels", strings.Join(s.ERPReadChannels, ","))
	write, _ := ParseChannelList("erp_write_channels", strings.Join(s.ERPWriteChannels, ","))
	return ERPPolicy{AllowGuests: s.AllowGuests, AllowExternal: s.AllowExternal, Read: read, Write: write, fromSettings: !s.UpdatedAt.IsZero()}
}

// checkChannels is the modal's syntax check of a channel list.
func checkChannels(name, raw string) []error {
	_, errs := ParseChannelList(name, raw)
	return errs
}

// prompts are the settings' suggested prompts as egress sends them.
func prompts(s settings.Settings) []schemas.Prompt {
	return append([]schemas.Prompt(nil), s.SuggestedPrompts...)
}

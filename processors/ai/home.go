package ai

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/processors/home"
	"github.com/mariahq/maria/processors/settings"
	"github.com/mariahq/maria/schemas"
)

// homeSubjects prefixes the App Home events (kind home).
var homeSubjects = strings.TrimSuffix(schemas.InKindFilter(schemas.KindHome), ">")

// homeBuilder is the Home tab: what Maria does, the user's proposals and
// recent changes, and the settings button for admins.
func (p *Processor) homeBuilder() *home.Builder {
	b := &home.Builder{}
	b.Add(home.About(func(ctx context.Context, team string) (string, error) {
		s, err := p.settings.Effective(ctx, team)
		return s.AssistantTitle, err
	}))
	b.Add(p.identitySection())
	b.Add(home.Proposals(p.proposals.ForUser))
	b.Add(home.SettingsButton())
	return b
}

// onHome handles the Home tab and its modals.
func (p *Processor) onHome(ctx context.Context, m *bus.Msg) error {
	switch m.Env.Type {
	case schemas.TypeSlackHome:
		return p.publishHome(ctx, m, "home")
	case schemas.TypeSlackAction:
		a, err := schemas.DecodeData[schemas.SlackAction](m.Env)
		if err != nil {
			return bus.Permanent(err)
		}
		switch a.ActionID {
		case home.ActionOpenSettings:
			return p.openSettings(ctx, m, a)
		case schemas.ActionERPConnect:
			return p.onConnectClick(ctx, m, schemas.OutSubject(m.Env.Team, m.Env.User), a)
		case schemas.ActionERPDisconnect:
			if _, err := p.disconnect(ctx, m); err != nil {
				return err
			}
			return p.publishHome(ctx, m, "home-disconnected")
		}
		metricEvents.WithLabelValues("home", "ignored_action").Inc()
		return nil // another processor's Home section
	case schemas.TypeSlackView:
		v, err := schemas.DecodeData[schemas.SlackView](m.Env)
		if err != nil {
			return bus.Permanent(err)
		}
		if v.CallbackID != home.CallbackSettings {
			metricEvents.WithLabelValues("home", "ignored_view").Inc()
			return nil
		}
		return p.saveSettings(ctx, m, v)
	}
	metricEvents.WithLabelValues("home", "ignored_type").Inc()
	return nil
}

// publishHome publishes the user's Home tab (child key: one per cause).
func (p *Processor) publishHome(ctx context.Context, m *bus.Msg, key string) error {
	v := home.Viewer{Team: m.Env.Team, User: m.Env.User, Admin: m.Env.UserAdmin}
	view, errs := p.home.View(ctx, v)
	for _, err := range errs {
		m.Log.Warn().Err(err).Msg("home: a section failed; published without it")
	}
	_, err := m.Publish(ctx, schemas.OutSubject(m.Env.Team, m.Env.User), key, schemas.TypeOutViewPublish,
		schemas.OutViewPublish{User: m.Env.User, View: view})
	if err == nil {
		metricEvents.WithLabelValues("home", "published").Inc()
	}
	return err
}

// notAdmin tells a non-admin why nothing happened, in their DM with Maria
// (egress opens none: ephemeral in the App Home channel needs it, so the
// Home tab itself is re-published instead, without the settings).
func (p *Processor) notAdmin(ctx context.Context, m *bus.Msg, what string) error {
	metricEvents.WithLabelValues("home", "refused_not_admin").Inc()
	m.Log.Warn().Str("user", m.Env.User).Str("kind", m.Env.UserKind).Msg("home: " + what + " refused: not a workspace admin")
	return p.publishHome(ctx, m, "home-refused")
}

// openSettings answers an admin's Settings click with the modal. The
// click's trigger id is valid for 3 seconds, so nothing slow happens in
// between: the settings come from the cache.
func (p *Processor) openSettings(ctx context.Context, m *bus.Msg, a *schemas.SlackAction) error {
	if !m.Env.UserAdmin {
		return p.notAdmin(ctx, m, "opening settings")
	}
	if a.TriggerID == "" {
		return bus.Permanent(errors.New("settings click without trigger_id"))
	}
	s, err := p.teamSettings(ctx, m.Env.Team)
	if err != nil {
		return err
	}
	_, err = m.Publish(ctx, schemas.OutSubject(m.Env.Team, m.Env.User), "settings-modal", schemas.TypeOutViewOpen,
		schemas.OutViewOpen{TriggerID: a.TriggerID, View: home.SettingsModal(s)})
	if err == nil {
		metricEvents.WithLabelValues("home", "settings_opened").Inc()
	}
	return err
}

// saveSettings stores an admin's submitted settings, audits the change
// and re-publishes their Home tab. The submission was already answered
// (ingress: empty 200, the modal closed); a refused or invalid one
// changes nothing and is audited with its reason.
func (p *Processor) saveSettings(ctx context.Context, m *bus.Msg, v *schemas.SlackView) error {
	team := m.Env.Team
	audit := func(outcome, detail string) error {
		_, err := m.Publish(ctx, schemas.AuditSubject("settings"), "audit", schemas.TypeAudit,
			schemas.Audit{Action: "settings", Actor: m.Env.User, Detail: detail, Outcome: outcome})
		return err
	}
	if !m.Env.UserAdmin {
		if err := audit("refused_not_admin", "settings of "+team+" submitted by a non-admin; nothing saved"); err != nil {
			return err
		}
		return p.notAdmin(ctx, m, "saving settings")
	}
	next, problems := home.ParseSettings(team, v.Values, checkChannels)
	if len(problems) > 0 {
		var why []string
		for block, p := range problems {
			why = append(why, block+": "+p)
		}
		metricEvents.WithLabelValues("home", "settings_invalid").Inc()
		return audit("invalid", strings.Join(why, "; "))
	}
	next.UpdatedBy, next.UpdatedAt = m.Env.User, p.now().UTC()
	store := p.settings.Store()
	var changed []string
	for attempt := 0; ; attempt++ {
		cur, rev, found, err := store.Get(ctx, team)
		if err != nil {
			return bus.Retry(fmt.Errorf("settings: %w", err))
		}
		if !found {
			cur = p.settings.Defaults().For(team)
		}
		changed = settings.Changes(p.settings.Defaults().Fill(cur), next)
		if _, err = store.Put(ctx, next, rev); err == nil {
			break
		}
		if !errors.Is(err, settings.ErrConflict) || attempt >= 5 {
			return bus.Retry(fmt.Errorf("save settings: %w", err))
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	p.settings.Forget(team) // this replica at once; the others through the store's watch
	metricEvents.WithLabelValues("home", "settings_saved").Inc()
	detail := "changed: none"
	if len(changed) > 0 {
		detail = "changed: " + strings.Join(changed, ", ")
	}
	if err := audit("saved", detail); err != nil {
		return err
	}
	return p.publishHome(ctx, m, "home-saved")
}

// Package settings is a workspace's own configuration of Maria: the
// assistant's title and suggested prompts, the channels where ERP reads and
// writes are enabled, and whether guests and Slack Connect users may use
// the ERP. Workspace admins edit them in the App Home tab; until they do,
// a workspace gets the defaults from the environment, so a single-workspace
// installation behaves exactly as its variables say.
//
// Settings live in a Store: JetStream KV by default (NATSStore), DynamoDB
// with MARIA_STORAGE=aws (DynamoStore); both pass settingstest.Run. A
// Cache in front of the store serves every turn from memory and forgets a
// team's entry when the store says it changed.
package settings

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mariahq/maria/schemas"
)

// Prompt is one suggested prompt of the assistant pane.
type Prompt = schemas.Prompt

// Settings of one workspace. A nil channel list means "the default"
// (the environment's); an empty one enables nothing.
type Settings struct {
	TeamID           string   `json:"team_id"`
	AssistantTitle   string   `json:"assistant_title"`
	SuggestedPrompts []Prompt `json:"suggested_prompts"`
	// ERPReadChannels and ERPWriteChannels list channel ids, "dm" and "*"
	// (the syntax of MARIA_ERP_READ_CHANNELS).
	ERPReadChannels  []string `json:"erp_read_channels"`
	ERPWriteChannels []string `json:"erp_write_channels"`
	// AllowGuests and AllowExternal let guests and Slack Connect users use
	// the ERP (MARIA_ERP_ALLOW_GUESTS / _EXTERNAL).
	AllowGuests   bool      `json:"allow_guests"`
	AllowExternal bool      `json:"allow_external"`
	UpdatedBy     string    `json:"updated_by,omitempty"`
	UpdatedAt     time.Time `json:"updated_at,omitzero"`
}

// Limits of what an admin can store (Slack's own limits: a thread title,
// four suggested prompts).
const (
	MaxTitle   = 100
	MaxPrompts = 4
	MaxPrompt  = 300
)

// Validate reports every problem of s at once.
func (s Settings) Validate() error {
	var errs []error
	if s.TeamID == "" {
		errs = append(errs, errors.New("settings: no team"))
	}
	if t := strings.TrimSpace(s.AssistantTitle); t == "" || len([]rune(t)) > MaxTitle {
		errs = append(errs, fmt.Errorf("assistant title: 1 to %d characters", MaxTitle))
	}
	if len(s.SuggestedPrompts) > MaxPrompts {
		errs = append(errs, fmt.Errorf("suggested prompts: at most %d", MaxPrompts))
	}
	for i, p := range s.SuggestedPrompts {
		if strings.TrimSpace(p.Title) == "" || strings.TrimSpace(p.Message) == "" ||
			len([]rune(p.Title)) > MaxPrompt || len([]rune(p.Message)) > MaxPrompt {
			errs = append(errs, fmt.Errorf("suggested prompt %d: a title and a message of 1 to %d characters", i+1, MaxPrompt))
		}
	}
	return errors.Join(errs...)
}

// Defaults are what a workspace gets before an admin saves settings.
type Defaults struct {
	AssistantTitle   string
	SuggestedPrompts []Prompt
	// ERPReadChannels / ERPWriteChannels as the environment lists them.
	ERPReadChannels, ERPWriteChannels []string
	AllowGuests, AllowExternal        bool
}

// For is the defaults as the settings of team.
func (d Defaults) For(team string) Settings {
	return Settings{TeamID: team, AssistantTitle: d.AssistantTitle, SuggestedPrompts: slices.Clone(d.SuggestedPrompts),
		ERPReadChannels: slices.Clone(d.ERPReadChannels), ERPWriteChannels: slices.Clone(d.ERPWriteChannels),
		AllowGuests: d.AllowGuests, AllowExternal: d.AllowExternal}
}

// Fill completes stored settings with the defaults where they say
// "default" (nil lists, empty title).
func (d Defaults) Fill(s Settings) Settings {
	if s.AssistantTitle == "" {
		s.AssistantTitle = d.AssistantTitle
	}
	if s.SuggestedPrompts == nil {
		s.SuggestedPrompts = slices.Clone(d.SuggestedPrompts)
	}
	if s.ERPReadChannels == nil {
		s.ERPReadChannels = slices.Clone(d.ERPReadChannels)
	}
	if s.ERPWriteChannels == nil {
		s.ERPWriteChannels = slices.Clone(d.ERPWriteChannels)
	}
	return s
}

// Changes names the fields that differ between a and b (audit detail).
func Changes(a, b Settings) []string {
	var out []string
	add := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	add("assistant_title", a.AssistantTitle != b.AssistantTitle)
	add("suggested_prompts", !slices.Equal(a.SuggestedPrompts, b.SuggestedPrompts))
	add("erp_read_channels", !slices.Equal(a.ERPReadChannels, b.ERPReadChannels))
	add("erp_write_channels", !slices.Equal(a.ERPWriteChannels, b.ERPWriteChannels))
	add("allow_guests", a.AllowGuests != b.AllowGuests)
	add("allow_external", a.AllowExternal != b.AllowExternal)
	return out
}

// Backend names (MARIA_STORAGE).
const (
	BackendNATS = "nats"
	BackendAWS  = "aws"
)

// ErrConflict: the settings changed since they were read (compare-and-set lost).
var ErrConflict = errors.New("settings changed concurrently")

// Store keeps one Settings per team.
type Store interface {
	// Backend is "nats" or "aws".
	Backend() string
	// Get returns team's settings and their revision; found is false when
	// none were saved.
	Get(ctx context.Context, team string) (s Settings, rev uint64, found bool, err error)
	// Put saves s for s.TeamID if its revision is still rev (0: none saved
	// yet), else ErrConflict; it returns the new revision.
	Put(ctx context.Context, s Settings, rev uint64) (uint64, error)
}

// Watcher is a Store that tells when a team's settings change (in any
// replica): the Cache forgets the team at once instead of after its TTL.
type Watcher interface {
	Watch(ctx context.Context, changed func(team string)) error
}

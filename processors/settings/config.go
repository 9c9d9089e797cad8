package settings

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/storage/awsstore"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultTitle is the assistant thread's title before an admin sets one.
const DefaultTitle = "Maria · Odoo assistant"

// DefaultPrompts are generic: they name no record of any company (a demo
// sets its own through MARIA_SUGGESTED_PROMPTS).
var DefaultPrompts = []Prompt{
	{Title: "What can you do?", Message: "What can you do?"},
	{Title: "My open quotations", Message: "Show my open quotations"},
	{Title: "Unpaid invoices", Message: "Which customer invoices are still unpaid?"},
	{Title: "New lead", Message: "Create a new lead"},
}

// Config is where settings are stored and the defaults.
type Config struct {
	// Backend: nats (default) or aws [MARIA_STORAGE].
	Backend string
	// Table is the DynamoDB table on aws [MARIA_DYNAMODB_TABLE].
	Table string
	// AWS is the SDK configuration (AWS_* variables).
	AWS awsstore.ClientConfig
	// CacheTTL [MARIA_SETTINGS_CACHE_TTL].
	CacheTTL time.Duration
	// Defaults' title and prompts [MARIA_ASSISTANT_TITLE,
	// MARIA_SUGGESTED_PROMPTS]; the ERP fields are the caller's.
	Defaults Defaults
}

// LoadConfig reads the settings configuration from env, recording every
// problem there. The ERP defaults are filled by the caller (the AI
// processor parses MARIA_ERP_*).
func LoadConfig(env *config.Env) Config {
	c := Config{
		Backend:  env.OneOf("MARIA_STORAGE", BackendNATS, BackendNATS, BackendAWS),
		CacheTTL: env.Duration("MARIA_SETTINGS_CACHE_TTL", DefaultCacheTTL),
		AWS:      awsstore.FromEnv(env),
	}
	c.Defaults.AssistantTitle = strings.TrimSpace(env.String("MARIA_ASSISTANT_TITLE", DefaultTitle))
	if n := len([]rune(c.Defaults.AssistantTitle)); n == 0 || n > MaxTitle {
		env.Fail(fmt.Errorf("MARIA_ASSISTANT_TITLE: 1 to %d characters", MaxTitle))
	}
	c.Defaults.SuggestedPrompts = DefaultPrompts
	if raw := env.String("MARIA_SUGGESTED_PROMPTS", ""); raw != "" {
		var ps []Prompt
		if err := json.Unmarshal([]byte(raw), &ps); err != nil {
			env.Fail(fmt.Errorf(`MARIA_SUGGESTED_PROMPTS: want a JSON list like [{"title":"Order status","message":"What is the status of my last order?"}]: %v`, err))
		} else if err := (Settings{TeamID: "-", AssistantTitle: "-", SuggestedPrompts: ps}).Validate(); err != nil {
			env.Fail(fmt.Errorf("MARIA_SUGGESTED_PROMPTS: %w", err))
		} else {
			c.Defaults.SuggestedPrompts = ps
		}
	}
	if c.Backend == BackendAWS {
		c.Table = env.Required("MARIA_DYNAMODB_TABLE", "the DynamoDB table for records and settings, with MARIA_STORAGE=aws")
	}
	return c
}

// Open opens the configured store.
func Open(ctx context.Context, c Config, js jetstream.JetStream, replicas int) (Store, error) {
	if c.Backend != BackendAWS {
		return OpenNATS(ctx, js, replicas)
	}
	_, ddb, err := awsstore.Clients(ctx, c.AWS, false)
	if err != nil {
		return nil, fmt.Errorf("settings store: %w", err)
	}
	return &DynamoStore{DDB: ddb, Table: c.Table}, nil
}

package app

import (
	"context"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/ai"
)

// The AI processor: questions in Slack → OpenAI with ERP tools → streamed
// answers, proposals for ERP changes, and reports of their results.
func init() {
	RegisterConfigured("ai", func(env *config.Env) Factory {
		// Problems (e.g. neither OPENAI_API_KEY nor OPENAI_BASE_URL) are
		// recorded in env; Start reports them all before anything runs.
		cfg := ai.LoadConfig(env)
		return func(ctx context.Context, d bus.Deps) (bus.Service, error) {
			p, err := ai.New(ctx, d.Bus, cfg, ai.Options{})
			if err != nil {
				return nil, err
			}
			return p.Service(), nil
		}
	})
}

package app

import (
	"context"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/storage"
)

// The storage processor: shared files → object storage (JetStream Object
// Store or S3), thread history → KV or DynamoDB, served on
// maria.history.query. MARIA_STORAGE picks the backend.
func init() {
	RegisterConfigured("storage", func(env *config.Env) Factory {
		cfg := storage.LoadConfig(env) // problems recorded in env
		mw := loadMultiWorkspace(env)
		return func(ctx context.Context, d bus.Deps) (bus.Service, error) {
			blobs, records, err := storage.Open(ctx, cfg, d.Bus)
			if err != nil {
				return nil, err
			}
			svc := storage.New(cfg, d.Bus, blobs, records, d.Log)
			if mw.enabled() {
				// Files are downloaded with their own workspace's token.
				_, tokens, err := mw.open(ctx, d)
				if err != nil {
					return nil, err
				}
				svc.SetTokens(tokens)
			}
			if d.HTTP != nil {
				d.HTTP.AddCheck("storage", svc.Check)
			}
			return svc, nil
		}
	})
}

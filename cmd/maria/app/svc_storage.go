package app

import (
	"context"
	"errors"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/processors/storage"
)

// The storage processor: shared files → object storage (JetStream Object
// Store or S3), thread history → KV or DynamoDB, served on
// maria.history.query. MARIA_STORAGE picks the backend.
func init() {
	Register("storage", func(ctx context.Context, d bus.Deps) (bus.Service, error) {
		cfg := storage.LoadConfig(d.Env)
		if d.Env.Err() != nil {
			// Start reports every configuration problem together.
			return nil, errors.New("not started: configuration errors")
		}
		blobs, records, err := storage.Open(ctx, cfg, d.Bus)
		if err != nil {
			return nil, err
		}
		svc := storage.New(cfg, d.Bus, blobs, records, d.Log)
		if d.HTTP != nil {
			d.HTTP.AddCheck("storage", svc.Check)
		}
		return svc, nil
	})
}

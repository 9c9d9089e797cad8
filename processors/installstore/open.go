package installstore

import (
	"context"
	"fmt"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/installs"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/mariahq/maria/processors/storage/awsstore"
	"github.com/mariahq/maria/processors/storage/store"
	"github.com/nats-io/nats.go/jetstream"
)

// Config picks the backend of the installations.
type Config struct {
	// Backend: nats (default) or aws [MARIA_STORAGE].
	Backend string
	// Table is the DynamoDB table on aws [MARIA_DYNAMODB_TABLE].
	Table string
	// AWS is the SDK configuration (AWS_* variables).
	AWS awsstore.ClientConfig
}

// LoadConfig reads the backend from env; required says the installations
// are used at all (multi-workspace mode), so the table is only demanded then.
func LoadConfig(env *config.Env, required bool) Config {
	c := Config{Backend: env.OneOf("MARIA_STORAGE", store.BackendNATS, store.BackendNATS, store.BackendAWS)}
	if required && c.Backend == store.BackendAWS {
		c.AWS = awsstore.FromEnv(env)
		c.Table = env.Required("MARIA_DYNAMODB_TABLE", "the DynamoDB table for installations, with MARIA_STORAGE=aws")
	}
	return c
}

// Open returns the configured store, its tokens sealed with ring.
func Open(ctx context.Context, c Config, js jetstream.JetStream, replicas int, ring *sealed.Keyring) (installs.Store, error) {
	if c.Backend != store.BackendAWS {
		return installs.OpenKV(ctx, js, replicas, ring)
	}
	_, ddb, err := awsstore.Clients(ctx, c.AWS, false)
	if err != nil {
		return nil, fmt.Errorf("installation store: %w", err)
	}
	return &DynamoStore{DDB: ddb, Table: c.Table, Ring: ring}, nil
}

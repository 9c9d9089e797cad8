package identity

import (
	"context"
	"fmt"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/storage/awsstore"
	"github.com/mariahq/maria/processors/storage/store"
	"github.com/nats-io/nats.go/jetstream"
)

// Config picks the backend of the connected accounts.
type Config struct {
	// Backend: nats (default: the KV bucket Bucket) or aws [MARIA_STORAGE].
	Backend string
	// Table is the DynamoDB table on aws [MARIA_DYNAMODB_TABLE].
	Table string
	// AWS is the SDK configuration (AWS_* variables).
	AWS awsstore.ClientConfig
}

// LoadConfig reads the backend from env, recording problems there.
func LoadConfig(env *config.Env) Config {
	c := Config{Backend: env.OneOf("MARIA_STORAGE", store.BackendNATS, store.BackendNATS, store.BackendAWS)}
	if c.Backend == store.BackendAWS {
		c.AWS = awsstore.FromEnv(env)
		c.Table = env.Required("MARIA_DYNAMODB_TABLE", "the DynamoDB table for records, settings and connected Odoo accounts, with MARIA_STORAGE=aws")
	}
	return c
}

// Open returns the configured backend.
func Open(ctx context.Context, c Config, js jetstream.JetStream, replicas int) (Raw, error) {
	if c.Backend != store.BackendAWS {
		return OpenNATSKV(ctx, js, replicas)
	}
	_, ddb, err := awsstore.Clients(ctx, c.AWS, false)
	if err != nil {
		return nil, fmt.Errorf("odoo identity store: %w", err)
	}
	return &Dynamo{DDB: ddb, Table: c.Table}, nil
}

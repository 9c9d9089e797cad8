// Package kv is Maria's state in JetStream key-value buckets: opening a
// bucket from a small validated Config, a typed JSON view of a bucket with
// compare-and-set updates on revisions (Store), and idempotency records
// that make an effect happen once under at-least-once delivery.
//
// Services open their buckets here rather than through raw JetStream calls,
// so every bucket is declared the same way (file storage, history and
// replicas checked) and every read-modify-write is a CAS loop.
package kv

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Config declares a bucket.
type Config struct {
	// Bucket is the name: letters, digits, '-' and '_'.
	Bucket string
	// Description says whose state it is (shown by `nats kv ls`).
	Description string
	// TTL expires keys not written for that long; zero keeps them.
	TTL time.Duration
	// History is how many revisions a key keeps (default 1, at most 64).
	History int
	// Replicas of the bucket's stream (default 1, at most 5).
	Replicas int
}

// bucketName is what JetStream accepts as a bucket name.
var bucketName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// validate checks c and fills the defaults.
func (c *Config) validate() error {
	var errs []error
	if !bucketName.MatchString(c.Bucket) {
		errs = append(errs, fmt.Errorf("bucket name %q: want letters, digits, '-' or '_'", c.Bucket))
	}
	if c.TTL < 0 {
		errs = append(errs, fmt.Errorf("bucket %s: negative TTL %s", c.Bucket, c.TTL))
	}
	if c.History == 0 {
		c.History = 1
	}
	if c.History < 1 || c.History > jetstream.KeyValueMaxHistory {
		errs = append(errs, fmt.Errorf("bucket %s: history %d, want 1..%d", c.Bucket, c.History, jetstream.KeyValueMaxHistory))
	}
	c.Replicas = max(1, c.Replicas)
	if c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("bucket %s: %d replicas, want at most 5", c.Bucket, c.Replicas))
	}
	return errors.Join(errs...)
}

// Open creates the bucket c declares, or updates it to c when it exists
// (every replica of a service may call it at start), on file storage.
func Open(ctx context.Context, js jetstream.JetStream, c Config) (jetstream.KeyValue, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	b, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      c.Bucket,
		Description: c.Description,
		TTL:         c.TTL,
		History:     uint8(c.History),
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("kv bucket %s: %w", c.Bucket, err)
	}
	return b, nil
}

// Bind opens an existing bucket without declaring it: for a service with a
// read-only view of another's bucket (erp reads ai's proposals), whose
// NATS user may not create it.
func Bind(ctx context.Context, js jetstream.JetStream, bucket string) (jetstream.KeyValue, error) {
	b, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("kv bucket %s: %w", bucket, err)
	}
	return b, nil
}

package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the NATS KV bucket of connected Odoo accounts.
const Bucket = "maria_erp_identities"

// NATSKV is the default backend: one key per person, "<team>.<user>"
// (Slack ids are letters and digits, valid KV key tokens).
type NATSKV struct{ kv jetstream.KeyValue }

// OpenNATSKV creates (or opens) the bucket.
func OpenNATSKV(ctx context.Context, js jetstream.JetStream, replicas int) (*NATSKV, error) {
	if replicas <= 0 {
		replicas = 1
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: Bucket, History: 1, Replicas: replicas,
		Description: "Maria: each Slack user's connected Odoo account, sealed"})
	if err != nil {
		return nil, fmt.Errorf("identity bucket %s: %w", Bucket, err)
	}
	return &NATSKV{kv: kv}, nil
}

// Key is where a person's record lives in the bucket.
func Key(team, user string) string { return team + "." + user }

func (n *NATSKV) Get(ctx context.Context, team, user string) ([]byte, bool, error) {
	e, err := n.kv.Get(ctx, Key(team, user))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return e.Value(), true, nil
}

func (n *NATSKV) Put(ctx context.Context, team, user string, value []byte) error {
	_, err := n.kv.Put(ctx, Key(team, user), value)
	return err
}

// Delete purges the key, so no earlier revision (with the sealed key)
// stays in the bucket's history.
func (n *NATSKV) Delete(ctx context.Context, team, user string) error {
	err := n.kv.Purge(ctx, Key(team, user))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	return err
}

package installs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the NATS KV bucket of installations.
const Bucket = schemas.InstallsBucket

// linkKey holds which enterprise a team belongs to (org-wide installs).
func linkKey(team string) string { return "link." + team }

type link struct {
	Enterprise string `json:"enterprise"`
}

// KVStore keeps installations in a JetStream KV bucket, the default
// backend: one key per install (TeamKey / EnterpriseKey), compare-and-set
// on the key's revision.
type KVStore struct {
	raw   kv.Store[json.RawMessage]
	links kv.Store[link]
	ring  *sealed.Keyring
}

var _ Store = (*KVStore)(nil)

// OpenKV declares the bucket (every replica may) and returns the store.
func OpenKV(ctx context.Context, js jetstream.JetStream, replicas int, ring *sealed.Keyring) (*KVStore, error) {
	b, err := kv.Open(ctx, js, kv.Config{Bucket: Bucket, Description: "Slack installations of Maria (tokens sealed)", Replicas: replicas})
	if err != nil {
		return nil, fmt.Errorf("installations: %w", err)
	}
	return &KVStore{raw: kv.Typed[json.RawMessage](b), links: kv.Typed[link](b), ring: ring}, nil
}

func (s *KVStore) Save(ctx context.Context, in Installation) (Record, error) {
	raw, err := Encode(ctx, s.ring, in)
	if err != nil {
		return Record{}, err
	}
	rev, err := s.raw.Set(ctx, in.Key(), raw)
	if err != nil {
		return Record{}, fmt.Errorf("save %s: %w", in, err)
	}
	return Record{Installation: in, Revision: rev}, nil
}

func (s *KVStore) get(ctx context.Context, key string) (Record, error) {
	e, found, err := s.raw.Get(ctx, key)
	if err != nil {
		return Record{}, fmt.Errorf("installation %s: %w", key, err)
	}
	if !found {
		return Record{}, fmt.Errorf("installation %s: %w", key, ErrNotInstalled)
	}
	in, err := Decode(ctx, s.ring, key, e.Value)
	if err != nil {
		return Record{}, err
	}
	return Record{Installation: in, Revision: e.Revision}, nil
}

func (s *KVStore) Find(ctx context.Context, team string) (Record, error) {
	rec, err := s.get(ctx, TeamKey(team))
	if !errors.Is(err, ErrNotInstalled) {
		return rec, err
	}
	l, found, lerr := s.links.Get(ctx, linkKey(team))
	if lerr != nil {
		return Record{}, fmt.Errorf("installation of %s: %w", team, lerr)
	}
	if !found {
		return Record{}, err
	}
	return s.FindEnterprise(ctx, l.Value.Enterprise)
}

func (s *KVStore) FindEnterprise(ctx context.Context, enterprise string) (Record, error) {
	return s.get(ctx, EnterpriseKey(enterprise))
}

func (s *KVStore) Link(ctx context.Context, team, enterprise string) error {
	if _, err := s.links.Set(ctx, linkKey(team), link{Enterprise: enterprise}); err != nil {
		return fmt.Errorf("link %s to %s: %w", team, enterprise, err)
	}
	return nil
}

func (s *KVStore) Replace(ctx context.Context, rec Record, next Installation) (Record, error) {
	if next.Key() != rec.Key() {
		return Record{}, fmt.Errorf("replace %s with %s: not the same installation", rec.Installation, next)
	}
	raw, err := Encode(ctx, s.ring, next)
	if err != nil {
		return Record{}, err
	}
	rev, err := s.raw.Put(ctx, next.Key(), raw, rec.Revision)
	if errors.Is(err, kv.ErrConflict) {
		return Record{}, fmt.Errorf("replace %s: %w", next, ErrConflict)
	}
	if err != nil {
		return Record{}, fmt.Errorf("replace %s: %w", next, err)
	}
	return Record{Installation: next, Revision: rev}, nil
}

func (s *KVStore) Delete(ctx context.Context, key string) error {
	if err := s.raw.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete installation: %w", err)
	}
	return nil
}

package settings

import (
	"context"
	"errors"
	"fmt"

	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the KV bucket of the NATS store; the key is the team id.
const Bucket = "maria_settings"

// NATSStore keeps settings in a JetStream KV bucket.
type NATSStore struct {
	b    jetstream.KeyValue
	recs kv.Store[Settings]
}

var _ interface {
	Store
	Watcher
} = (*NATSStore)(nil)

// OpenNATS opens (or creates) the bucket. History keeps the last 8
// revisions of a team's settings for inspection; the audit trail is the
// record of who changed what.
func OpenNATS(ctx context.Context, js jetstream.JetStream, replicas int) (*NATSStore, error) {
	b, err := kv.Open(ctx, js, kv.Config{Bucket: Bucket, Description: "maria: per-workspace settings (App Home)", History: 8, Replicas: replicas})
	if err != nil {
		return nil, fmt.Errorf("settings bucket: %w", err)
	}
	return &NATSStore{b: b, recs: kv.Typed[Settings](b)}, nil
}

// Backend is "nats".
func (s *NATSStore) Backend() string { return BackendNATS }

// Get reads team's settings.
func (s *NATSStore) Get(ctx context.Context, team string) (Settings, uint64, bool, error) {
	e, found, err := s.recs.Get(ctx, schemas.Token(team))
	if err != nil || !found {
		return Settings{}, 0, false, err
	}
	return e.Value, e.Revision, true, nil
}

// Put saves st conditioned on rev.
func (s *NATSStore) Put(ctx context.Context, st Settings, rev uint64) (uint64, error) {
	var next uint64
	var err error
	if rev == 0 {
		next, err = s.recs.Create(ctx, schemas.Token(st.TeamID), st)
	} else {
		next, err = s.recs.Put(ctx, schemas.Token(st.TeamID), st, rev)
	}
	if errors.Is(err, kv.ErrConflict) {
		return 0, fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return next, err
}

// Watch calls changed for every team whose settings change after it
// started, until ctx ends.
func (s *NATSStore) Watch(ctx context.Context, changed func(team string)) error {
	w, err := s.b.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		return fmt.Errorf("watch settings: %w", err)
	}
	if err := kv.Follow(ctx, w, func(e jetstream.KeyValueEntry) { changed(e.Key()) }); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	return nil
}

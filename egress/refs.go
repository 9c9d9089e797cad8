package egress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mariahq/maria/bus/kv"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// refBucket holds ref → ts mappings, stream state and delivery markers.
const refBucket = "maria_egress_refs"

// Stream modes of a ref.
const (
	modeMessage  = "message"  // a chat.postMessage
	modeStream   = "stream"   // native chat streaming
	modeFallback = "fallback" // post-then-update (streaming unavailable)
)

// refRecord is what a ref resolves to.
type refRecord struct {
	TS      string `json:"ts"`
	Channel string `json:"channel"`
	Mode    string `json:"mode"`
	// Fallback streams: the full text so far, the append/stop command ids
	// already applied (idempotency), when Slack was last updated and how
	// much of Text it shows.
	Text      string    `json:"text,omitempty"`
	Applied   []string  `json:"applied,omitempty"`
	LastFlush time.Time `json:"last_flush,omitzero"`
	Flushed   int       `json:"flushed,omitempty"`
	Stopped   bool      `json:"stopped,omitempty"`
	// Native streams: how many bytes of markdown the stream holds (start
	// and the appends in Applied), so an uncertain append is judged by the
	// length it must have reached, not by a suffix earlier text may share.
	Streamed int `json:"streamed,omitempty"`
	revision uint64
}

func (r *refRecord) applied(id string) bool {
	for _, a := range r.Applied {
		if a == id {
			return true
		}
	}
	return false
}

// store wraps the KV bucket.
type store struct{ kv jetstream.KeyValue }

func openStore(ctx context.Context, js jetstream.JetStream, ttl time.Duration, replicas int) (*store, error) {
	b, err := kv.Open(ctx, js, kv.Config{
		Bucket: refBucket, Description: "egress: ref → Slack ts, fallback stream state, delivery markers",
		TTL: ttl, Replicas: replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("egress ref bucket: %w", err)
	}
	return &store{kv: b}, nil
}

// refKey scopes a ref to its conversation turn: two turns may both say "r1".
func refKey(env *schemas.Envelope, ref string) string {
	return "ref_" + schemas.StableID(env.Team, env.Channel, env.CorrelationID, ref)
}

func (s *store) getRef(ctx context.Context, env *schemas.Envelope, ref string) (*refRecord, error) {
	e, err := s.kv.Get(ctx, refKey(env, ref))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ref %q: %w", ref, err)
	}
	var r refRecord
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, fmt.Errorf("ref %q: corrupt record: %w", ref, err)
	}
	r.revision = e.Revision()
	return &r, nil
}

// putRef writes a ref unconditionally (the first successful post wins; a
// redelivery writes the same value).
func (s *store) putRef(ctx context.Context, env *schemas.Envelope, ref string, r *refRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := s.kv.Put(ctx, refKey(env, ref), b); err != nil {
		return fmt.Errorf("store ref %q: %w", ref, err)
	}
	return nil
}

// updateRef writes r if nobody changed it since it was read.
func (s *store) updateRef(ctx context.Context, env *schemas.Envelope, ref string, r *refRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	rev, err := s.kv.Update(ctx, refKey(env, ref), b, r.revision)
	if err != nil {
		return fmt.Errorf("update ref %q: %w", ref, err)
	}
	r.revision = rev
	return nil
}

// marker is a note about one command kept across deliveries.
type marker struct {
	Since  time.Time `json:"since"`
	FileID string    `json:"file_id,omitempty"`
}

func markerKey(kind, id string) string { return kind + "_" + schemas.StableID(id) }

func (s *store) getMarker(ctx context.Context, kind, id string) (*marker, error) {
	e, err := s.kv.Get(ctx, markerKey(kind, id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("marker: %w", err)
	}
	var m marker
	if err := json.Unmarshal(e.Value(), &m); err != nil {
		return nil, fmt.Errorf("marker: %w", err)
	}
	return &m, nil
}

func (s *store) putMarker(ctx context.Context, kind, id string, m marker) error {
	b, _ := json.Marshal(m)
	if _, err := s.kv.Put(ctx, markerKey(kind, id), b); err != nil {
		return fmt.Errorf("marker: %w", err)
	}
	return nil
}

func (s *store) deleteMarker(ctx context.Context, kind, id string) error {
	if err := s.kv.Delete(ctx, markerKey(kind, id)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("marker: %w", err)
	}
	return nil
}

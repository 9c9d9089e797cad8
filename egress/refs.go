package egress

import (
	"context"
	"fmt"
	"time"

	"github.com/mariahq/maria/bus/kv"
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

// store holds refs and markers in one bucket, through typed views whose
// compare-and-set writes are kv.Store's.
type store struct {
	refs    kv.Store[refRecord]
	markers kv.Store[marker]
	// bucket also holds the partition group's membership heartbeats.
	bucket jetstream.KeyValue
}

func openStore(ctx context.Context, js jetstream.JetStream, ttl time.Duration, replicas int) (*store, error) {
	b, err := kv.Open(ctx, js, kv.Config{
		Bucket: refBucket, Description: "egress: ref → Slack ts, fallback stream state, delivery markers",
		TTL: ttl, Replicas: replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("egress ref bucket: %w", err)
	}
	return &store{refs: kv.Typed[refRecord](b), markers: kv.Typed[marker](b), bucket: b}, nil
}

// refKey scopes a ref to its conversation turn: two turns may both say "r1".
func refKey(env *schemas.Envelope, ref string) string {
	return "ref_" + schemas.StableID(env.Team, env.Channel, env.CorrelationID, ref)
}

// getRef returns the ref's record, or nil when none is stored yet.
func (s *store) getRef(ctx context.Context, env *schemas.Envelope, ref string) (*refRecord, error) {
	e, found, err := s.refs.Get(ctx, refKey(env, ref))
	if err != nil {
		return nil, fmt.Errorf("ref %q: %w", ref, err)
	}
	if !found {
		return nil, nil
	}
	r := e.Value
	r.revision = e.Revision
	return &r, nil
}

// putRef writes a ref unconditionally (the first successful post wins; a
// redelivery writes the same value).
func (s *store) putRef(ctx context.Context, env *schemas.Envelope, ref string, r *refRecord) error {
	if _, err := s.refs.Set(ctx, refKey(env, ref), *r); err != nil {
		return fmt.Errorf("store ref %q: %w", ref, err)
	}
	return nil
}

// updateRef writes r if nobody changed it since it was read (kv.ErrConflict
// otherwise: read again).
func (s *store) updateRef(ctx context.Context, env *schemas.Envelope, ref string, r *refRecord) error {
	rev, err := s.refs.Put(ctx, refKey(env, ref), *r, r.revision)
	if err != nil {
		return fmt.Errorf("update ref %q: %w", ref, err)
	}
	r.revision = rev
	return nil
}

// changeRef is the compare-and-set loop on a stored ref: change edits the
// current record and reports whether it changed anything (false: nothing
// to write). A ref not stored yet is a refPendingError.
func (s *store) changeRef(ctx context.Context, env *schemas.Envelope, ref string, change func(*refRecord) bool) error {
	_, err := s.refs.Update(ctx, refKey(env, ref), func(r refRecord, found bool) (refRecord, error) {
		if !found {
			return r, &refPendingError{ref: ref}
		}
		if !change(&r) {
			return r, kv.ErrNoChange
		}
		return r, nil
	})
	if err != nil {
		return fmt.Errorf("update ref %q: %w", ref, err)
	}
	return nil
}

// marker is a note about one command kept across deliveries.
type marker struct {
	Since  time.Time `json:"since"`
	FileID string    `json:"file_id,omitempty"`
}

func markerKey(kind, id string) string { return kind + "_" + schemas.StableID(id) }

func (s *store) getMarker(ctx context.Context, kind, id string) (*marker, error) {
	e, found, err := s.markers.Get(ctx, markerKey(kind, id))
	if err != nil {
		return nil, fmt.Errorf("marker: %w", err)
	}
	if !found {
		return nil, nil
	}
	return &e.Value, nil
}

func (s *store) putMarker(ctx context.Context, kind, id string, m marker) error {
	if _, err := s.markers.Set(ctx, markerKey(kind, id), m); err != nil {
		return fmt.Errorf("marker: %w", err)
	}
	return nil
}

func (s *store) deleteMarker(ctx context.Context, kind, id string) error {
	if err := s.markers.Delete(ctx, markerKey(kind, id)); err != nil {
		return fmt.Errorf("marker: %w", err)
	}
	return nil
}

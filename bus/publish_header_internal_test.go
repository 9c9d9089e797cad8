package bus

import (
	"testing"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

// envelopeHeader's fields share one backing array: each must be exactly
// what Header.Set writes, and growing one (Header.Add) must not overwrite
// the next.
func TestEnvelopeHeader(t *testing.T) {
	for _, env := range []*schemas.Envelope{
		{ID: "id", Type: "t", Source: "s", CorrelationID: "c", CausationID: "p"},
		{ID: "id", Type: "t", Source: "s", CorrelationID: "c"},
	} {
		want := nats.Header{}
		want.Set(schemas.HeaderMsgID, env.ID)
		want.Set(schemas.HeaderType, env.Type)
		want.Set(schemas.HeaderSource, env.Source)
		want.Set(schemas.HeaderCorrelationID, env.CorrelationID)
		if env.CausationID != "" {
			want.Set(schemas.HeaderCausationID, env.CausationID)
		}
		h := envelopeHeader(env)
		if len(h) != len(want) {
			t.Fatalf("%d fields, want %d: %v", len(h), len(want), h)
		}
		for k, v := range want {
			if got := h.Values(k); len(got) != 1 || got[0] != v[0] {
				t.Errorf("%s = %v, want %v", k, got, v)
			}
		}
		h.Add(schemas.HeaderMsgID, "other")
		if got := h.Get(schemas.HeaderType); got != env.Type {
			t.Errorf("adding to %s changed %s to %q", schemas.HeaderMsgID, schemas.HeaderType, got)
		}
	}
}

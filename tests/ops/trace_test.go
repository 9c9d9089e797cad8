package ops_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/schemas"
)

// A conversation turn published across MARIA_IN → MARIA_OUT → MARIA_ERP →
// MARIA_DELIVERED (child envelopes sharing the correlation id) is traced hop
// by hop in order, with latencies, and nothing of another turn.
func TestTraceListsEveryHopInOrder(t *testing.T) {
	b := bustest.New(t)
	ctx := ctxT(t)
	root, _ := publishMessage(t, b, "Ev-trace", "C1", "create a lead")
	publishMessage(t, b, "Ev-other", "C1", "unrelated") // another turn
	step := func(parent *schemas.Envelope, typ, subject string, data any) *schemas.Envelope {
		time.Sleep(2 * time.Millisecond) // distinct store times (order is what is asserted)
		c, err := parent.Child("k", typ, "test", data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Publish(ctx, subject, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	post := step(root, schemas.TypeOutPost, schemas.OutSubject("T1", "C1"), schemas.OutPost{Text: "Create lead Acme?"})
	cmd := step(post, schemas.TypeERPCommand, schemas.ERPCommandSubject("crm.lead"), map[string]any{"model": "crm.lead"})
	res := step(cmd, schemas.TypeERPResult, schemas.ERPResultSubject("crm.lead"), map[string]any{"ok": true})
	upd := step(res, schemas.TypeOutUpdate, schemas.OutSubject("T1", "C1"), map[string]any{"ts": "1.2", "text": "done"})
	del := step(upd, schemas.TypeDelivered, schemas.DeliveredSubject("T1", "C1"), map[string]any{"ts": "1.3", "command_type": schemas.TypeOutUpdate})

	hops, err := ops.Trace(ctx, b.JetStream(), root.CorrelationID, time.Now().Add(-time.Hour), ops.TraceStreams())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ id, stream string }{{root.ID, schemas.StreamIn}, {post.ID, schemas.StreamOut}, {cmd.ID, schemas.StreamERP},
		{res.ID, schemas.StreamERP}, {upd.ID, schemas.StreamOut}, {del.ID, schemas.StreamDelivered}}
	if len(hops) != len(want) {
		t.Fatalf("got %d hops, want %d: %+v", len(hops), len(want), hops)
	}
	for i, h := range hops {
		if h.Message.ID != want[i].id || h.Stream != want[i].stream || h.N != i+1 {
			t.Fatalf("hop %d: %s %s, want %s %s", i+1, h.Stream, h.Message.ID, want[i].stream, want[i].id)
		}
		if i > 0 && (h.SincePrev <= 0 || h.SinceFirst != h.Time.Sub(hops[0].Time) || h.SincePrev != h.Time.Sub(hops[i-1].Time)) {
			t.Fatalf("hop %d latencies %v %v", i+1, h.SincePrev, h.SinceFirst)
		}
	}
	if hops[1].Message.CausationID != root.ID || hops[1].Message.Source != "test" || hops[1].Message.Type != schemas.TypeOutPost {
		t.Fatalf("hop 2 decoded as %+v", hops[1].Message)
	}
	var out bytes.Buffer
	ops.PrintTrace(&out, hops, false)
	if !strings.Contains(out.String(), "6 hops") || !strings.Contains(out.String(), "MARIA_DELIVERED:1") {
		t.Fatalf("trace output:\n%s", out.String())
	}
	// --since after the turn: nothing.
	if hops, err := ops.Trace(ctx, b.JetStream(), root.CorrelationID, time.Now().Add(time.Minute), ops.TraceStreams()); err != nil || len(hops) != 0 {
		t.Fatalf("future since: %d hops, %v", len(hops), err)
	}
}

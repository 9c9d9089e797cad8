package failover

import (
	"context"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
)

// A data dir from before the short timings holds durables with a 30–60 s
// ack wait and a 30 s pinned TTL: starting the processors updates them in
// place (same durable, no lost position).
func TestExistingDurablesTakeTheShortTimings(t *testing.T) {
	b := bustest.New(t)
	ctx := context.Background()
	noop := func(context.Context, *bus.Msg) error { return nil }
	old := bus.FromSpec(spec(t, "egress", "update-egress"), noop)
	old.Stream, old.Subjects = schemas.StreamOut, []string{schemas.SubjectOutAll}
	old.AckWait, old.Pinned, old.PinnedTTL = 30*time.Second, true, 30*time.Second
	if _, err := b.JetStream().CreateOrUpdateConsumer(ctx, old.Stream, old.ConsumerConfig()); err != nil {
		t.Fatal(err)
	}

	cur := old
	cur.AckWait, cur.PinnedTTL = schemas.FailoverAckWait, schemas.EgressPinnedTTL
	run(t, b, cur)
	bustest.Eventually(t, 10*time.Second, func() bool {
		c, err := b.JetStream().Consumer(ctx, cur.Stream, cur.Name)
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		return err == nil && info.Config.AckWait == schemas.FailoverAckWait && info.Config.PinnedTTL == schemas.EgressPinnedTTL
	}, "the existing durable still has its old ack wait or pinned TTL")
}

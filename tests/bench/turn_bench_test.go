// Package bench measures Maria end to end; results are recorded in
// RESULTS.md beside this file (speed targets are checked here, never by
// timed assertions in tests).
package bench

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

// noDoorLimits lifts ingress' per-user and per-workspace rate limits and
// the AI's daily token budgets: one benchmark user sends far more than a
// person would (with the defaults, events past the burst are dead-lettered
// as rate limited and turns past the budget get the "budget spent" reply,
// as they should).
var noDoorLimits = map[string]string{"MARIA_INGRESS_USER_RATE": "0", "MARIA_INGRESS_TEAM_RATE": "0",
	"MARIA_AI_USER_DAILY_TOKENS": "1000000000", "MARIA_AI_TEAM_DAILY_TOKENS": "1000000000",
	// Every turn has a channel of its own: all are enabled for the ERP read.
	"MARIA_ERP_READ_CHANNELS": "*", "MARIA_ERP_WRITE_CHANNELS": "*"}

// BenchmarkConversationTurn is one whole turn through the production
// wiring: a signed app_mention POSTed to ingress → MARIA_IN → ai (model
// simulator streaming, one ERP read through maria.erp.query → erp → Odoo
// simulator) → MARIA_OUT → egress → Slack simulator → maria.delivered with
// the stream stopped. It reports the latency of that chain per turn; the
// simulators answer at once, so this is the pipeline's own overhead.
func BenchmarkConversationTurn(b *testing.B) {
	ctx := context.Background()
	e, err := demo.Start(ctx, demo.Options{DataDir: b.TempDir(), LogOutput: io.Discard, Overrides: noDoorLimits})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	creds, err := nats.NkeyOptionFromSeed(e.NATSCreds()) // the embedded server admits no anonymous client
	if err != nil {
		b.Fatal(err)
	}
	nc, err := nats.Connect(e.NATSURL(), creds)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	answered := make(chan string, 1024)
	sub, err := nc.Subscribe(schemas.SubjectDeliveredAll, func(m *nats.Msg) {
		env, err := schemas.Decode(m.Data)
		if err != nil {
			return
		}
		if d, err := schemas.DecodeData[schemas.Delivered](env); err == nil && d.CommandType == schemas.TypeOutStreamStop {
			answered <- env.CorrelationID
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	_ = nc.Flush()

	b.ResetTimer()
	cpu0 := processCPU()
	defer func() {
		// Maria and the embedded nats-server together (one process); see
		// RESULTS.md for the split measured by profile.
		b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/turn")
	}()
	for i := 0; i < b.N; i++ {
		// A new channel per turn: every turn is a fresh conversation, so
		// memory does not grow across iterations.
		t, err := e.Mention(ctx, fmt.Sprintf("CBENCH%05d", i), "U0BENCH", demo.QuestionOrder, "")
		if err != nil {
			b.Fatal(err)
		}
		deadline := time.After(30 * time.Second)
	wait:
		for {
			select {
			case id := <-answered:
				if id == t.ID {
					break wait
				}
			case <-deadline:
				b.Fatalf("turn %d not answered within 30s", i)
			}
		}
	}
}

// BenchmarkIngressAck is what Slack waits for (it retries after 3 s): a
// signed Events API POST verified, normalized, stored in MARIA_IN with its
// PubAck, and answered 200. Only ingress runs, so nothing downstream
// competes for the CPU.
func BenchmarkIngressAck(b *testing.B) {
	ctx := context.Background()
	e, err := demo.Start(ctx, demo.Options{DataDir: b.TempDir(), LogOutput: io.Discard, Overrides: noDoorLimits, Services: []string{"ingress"}})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Mention(ctx, "CBENCH", "U0BENCH", demo.QuestionOrder, ""); err != nil {
			b.Fatal(err)
		}
	}
}

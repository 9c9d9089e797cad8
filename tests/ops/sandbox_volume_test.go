package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/schemas"
)

// volumeEvents is the size of the recorded workload: enough that the
// replay's pipelined publishing, its chunked reads (more than one chunk)
// and the settle detection are exercised at volume.
const volumeEvents = 600

// A busy workspace's traffic, recorded by the demo, replayed into a
// sandbox on its own simulators the way `maria replay --to sandbox
// --simulate --json` does: every event is published in order, every
// service runs, the sandbox settles, and every correlation — questions
// answered through ai and erp, thanks answered by the example processor,
// chatter left alone — comes out exactly as in the original run.
func TestSandboxReplayOfAWorkloadReproducesIt(t *testing.T) {
	e, err := demo.Start(ctxT(t), demo.Options{DataDir: t.TempDir(), SettleTimeout: 30 * time.Second, Overrides: map[string]string{
		// One test sends far more than a person would.
		"MARIA_INGRESS_USER_RATE": "0", "MARIA_INGRESS_TEAM_RATE": "0",
		"MARIA_AI_USER_DAILY_TOKENS": "1000000000", "MARIA_AI_TEAM_DAILY_TOKENS": "1000000000", "MARIA_ERP_READ_CHANNELS": "*"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	ctx := ctxT(t)
	questions, thanks := 0, 0
	for i := range volumeEvents {
		channel := fmt.Sprintf("C0VOL%02d", i%16)
		var err error
		switch {
		case i%20 == 0:
			questions++
			_, err = e.Mention(ctx, fmt.Sprintf("C0ASK%04d", i), demo.ScriptUser, demo.QuestionOrder, "")
		case i%20 == 10:
			// The example processor counts thanks per user: one each, as
			// the order in which threads are handled is not replayed.
			thanks++
			_, err = e.Reply(ctx, channel, fmt.Sprintf("U0THANKS%04d", i), "thanks Maria!", "")
		default:
			_, err = e.Reply(ctx, channel, demo.ScriptUser, fmt.Sprintf("standup notes, item %d", i), "")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	bustest.Eventually(t, 60*time.Second, func() bool {
		return streamLastSeq(t, e.Observer, schemas.StreamIn) == volumeEvents && everyConsumerIdle(ctx, e.Observer)
	}, "original run over")

	p, err := ops.PlanReplay(ops.ReplayRequest{Stream: schemas.StreamIn, FromSeq: 1, To: "sandbox", Simulate: true, JSON: true,
		Timeout: 30 * time.Second, Environ: map[string]string{}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	runErr := ops.RunReplay(ctx, e.Observer, p, ops.Console{Out: &out, Err: &errOut, Width: 160})
	var rep ops.SandboxReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v (%v)\nstderr:\n%s", err, runErr, errOut.String())
	}
	if runErr != nil {
		var text bytes.Buffer
		rep.Diffs = differing(rep.Diffs)
		ops.PrintSandboxReport(&text, &rep, 200, false)
		t.Fatalf("%v\n%s", runErr, text.String())
	}
	t.Logf("%d events: %s", volumeEvents, rep.Timings)
	if rep.Replay.Published != volumeEvents || rep.Replay.Duplicates != 0 || rep.Replay.Resume != 0 {
		t.Fatalf("replay %+v", rep.Replay)
	}
	for _, s := range []string{"ai", "egress", "erp", "example"} {
		if !contains(rep.Services, s) {
			t.Fatalf("services %v (skipped %v)", rep.Services, rep.Skipped)
		}
	}
	if rep.QuietError != "" || rep.Differences != 0 || len(rep.Diffs) != volumeEvents || len(rep.DeadLetters) != 0 {
		t.Fatalf("quiet %q, %d differences in %d correlations, %d dead letters", rep.QuietError, rep.Differences, len(rep.Diffs), len(rep.DeadLetters))
	}
	// Both runs did the work, not just nothing alike: the sandbox answered
	// every question with a stream and every thanks with a post.
	answered, posted := 0, 0
	for _, d := range rep.Diffs {
		for _, l := range compared(d.Lines) {
			if l.Sandbox == nil || l.Original == nil || l.Mark != ops.MarkSame {
				t.Fatalf("correlation %s: %+v", d.CorrelationID, l)
			}
			switch l.Sandbox.Type {
			case schemas.TypeOutStreamStop:
				answered++
			case schemas.TypeOutPost:
				posted++
			}
		}
	}
	if answered != questions || posted != thanks {
		t.Fatalf("sandbox answered %d of %d questions and %d of %d thanks", answered, questions, posted, thanks)
	}
}

func differing(ds []ops.CorrelationDiff) []ops.CorrelationDiff {
	var out []ops.CorrelationDiff
	for _, d := range ds {
		if d.Differences > 0 {
			out = append(out, d)
		}
	}
	return out
}

// everyConsumerIdle reports whether no consumer of any stream has work left.
func everyConsumerIdle(ctx context.Context, b *bus.Bus) bool {
	names := b.JetStream().StreamNames(ctx)
	for name := range names.Name() {
		st, err := b.JetStream().Stream(ctx, name)
		if err != nil {
			return false
		}
		cl := st.ListConsumers(ctx)
		for ci := range cl.Info() {
			if ci.NumPending > 0 || ci.NumAckPending > 0 {
				return false
			}
		}
		if cl.Err() != nil {
			return false
		}
	}
	return names.Err() == nil
}

package egress_test

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mariahq/maria/egress"
	"github.com/mariahq/maria/schemas"
)

// Slack acts and then answers 500 (or fails before acting on a chunk the
// stream already ends with): whatever the call, every thread gets exactly
// one answer message, with its whole text once, and every stream is
// stopped.
func TestAmbiguousSlackFailuresAnswerOnce(t *testing.T) {
	const threads = 6
	chunks := []string{"Yes. ", "Yes. ", "The order ships ", "*tomorrow*."}
	want := strings.Join(chunks, "")
	cases := []struct {
		name     string
		noStream bool // post-then-update instead of native streaming
		inject   func(r *rig)
	}{
		{"startStream acts then 500", false, func(r *rig) { r.sim.FailAfterActing("chat.startStream", threads, 500) }},
		{"appendStream acts then 500", false, func(r *rig) { r.sim.FailAfterActing("chat.appendStream", threads, 500) }},
		{"appendStream 500 before acting on a repeated chunk", false, func(r *rig) {
			// The first appends (the second "Yes. ") fail without acting: they
			// must still be made although the text already ends with them.
			r.sim.FailN("chat.appendStream", threads, 500)
		}},
		{"stopStream acts then 500", false, func(r *rig) { r.sim.FailAfterActing("chat.stopStream", threads, 500) }},
		{"postMessage acts then 500", true, func(r *rig) { r.sim.FailAfterActing("chat.postMessage", threads, 500) }},
		{"update acts then 500", true, func(r *rig) { r.sim.FailAfterActing("chat.update", threads, 500) }},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			ch := fmt.Sprintf("D0AMB%d", i)
			if tc.noStream {
				r.sim.DisableStreaming(ch, "")
			}
			qs := make([]string, threads)
			for k := range qs {
				qs[k] = r.sim.AddUserMessage(ch, "U0ASKER", fmt.Sprintf("question %d", k), "")
			}
			tc.inject(r)
			stops := make([]*schemas.Envelope, threads)
			for k, q := range qs {
				cmds := r.streamTurn(ch, q, chunks)
				stops[k] = cmds[len(cmds)-1]
			}
			for _, s := range stops {
				r.waitDelivered(s.ID)
			}
			for k, q := range qs {
				answers := r.sim.Thread(ch, q)
				if len(answers) != 1 {
					t.Fatalf("thread %d got %d answers: %q", k, len(answers), texts(answers))
				}
				if answers[0].Text != want {
					t.Errorf("thread %d answer = %q, want %q", k, answers[0].Text, want)
				}
			}
			if open := r.sim.OpenStreams(ch); len(open) != 0 {
				t.Errorf("%d streams never stopped: %q", len(open), texts(open))
			}
			if n := len(r.dlq()); n != 0 {
				t.Errorf("%d dead letters", n)
			}
		})
	}
}

// The replica dies after chat.startStream acted, before the delivery was
// recorded: the claim goes stale, and the redelivery finds the stream in
// the thread and continues it instead of starting a second one.
func TestCrashAfterStreamStartContinuesTheStream(t *testing.T) {
	var fired atomic.Bool
	r := newRig(t, func(o *egress.Options) {
		o.Hooks.AfterEffect = func(env *schemas.Envelope) error {
			if env.Type == schemas.TypeOutStreamStart && fired.CompareAndSwap(false, true) {
				return errors.New("simulated crash")
			}
			return nil
		}
	})
	chunks := []string{"", "The order ", "ships ", "*tomorrow*."}
	q := r.sim.AddUserMessage("D0CRASHSTREAM", "U0ASKER", "when?", "")
	cmds := r.streamTurn("D0CRASHSTREAM", q, chunks)
	r.waitDelivered(cmds[len(cmds)-1].ID)
	if !fired.Load() {
		t.Fatal("crash hook never fired")
	}
	answers := r.sim.Thread("D0CRASHSTREAM", q)
	if len(answers) != 1 || answers[0].Text != strings.Join(chunks, "") || answers[0].Streaming {
		t.Fatalf("answers = %+v", answers)
	}
	if n := len(r.sim.CallsTo("chat.startStream")); n != 1 {
		t.Errorf("%d chat.startStream calls, want 1", n)
	}
}

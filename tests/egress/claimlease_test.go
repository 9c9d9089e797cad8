package egress_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/egress"
	"github.com/mariahq/maria/schemas"
)

// leaseStale is the claims' stale timeout in these tests: shorter than the
// slow call below, as the default (10 s) is shorter than the longest call a
// live replica may make (MARIA_EGRESS_SLACK_TIMEOUT, 20 s).
const leaseStale = 1200 * time.Millisecond

// otherReplica is a second holder of egress' delivery claims, as another
// replica's Idempotency on the same bucket.
func otherReplica(t *testing.T, r *rig) *kv.Idempotency {
	t.Helper()
	cfg := egress.DefaultConfig(token, r.sim.URL())
	idem, err := bustest.Client(t, r.b, nil).Idempotency(context.Background(), "maria_egress", cfg.IdempotencyTTL, leaseStale)
	if err != nil {
		t.Fatal(err)
	}
	return idem
}

// A live replica renews its claim during a Slack call that outlasts the
// stale timeout: another replica never takes the claim over meanwhile (it
// would reconcile, find nothing yet and post a second time).
func TestSlowCallKeepsItsClaim(t *testing.T) {
	r := newRig(t, func(o *egress.Options) {
		o.Config.IdempotencyStale = leaseStale
		o.Config.CallTimeout = 10 * time.Second
	})
	other := otherReplica(t, r)
	r.sim.Slow("chat.postMessage", 3*leaseStale)
	env := r.publish("C0LEASE", "", schemas.TypeOutPost, schemas.OutPost{Text: "slow but once"})

	// Egress claimed the command: its call is under way (the simulator
	// records a call when it answers).
	bustest.Eventually(t, 10*time.Second, func() bool {
		rec, found, err := other.Get(context.Background(), env.ID)
		return err == nil && found && rec.State == "pending"
	}, "egress never claimed the command")
	start := time.Now()
	for len(r.deliveredFor(env.ID)) == 0 && time.Since(start) < 10*time.Second {
		rec, done, err := other.Begin(context.Background(), env.ID)
		switch {
		case done:
			// finished between the two checks
		case errors.Is(err, kv.ErrInFlight):
		default:
			t.Fatalf("%s into the call, another replica got the claim (rec %+v, err %v): it was not renewed",
				time.Since(start).Round(time.Millisecond), rec, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.waitDelivered(env.ID)
	if got := texts(r.sim.BotMessages("C0LEASE")); len(got) != 1 {
		t.Fatalf("bot messages = %v, want one", got)
	}
}

// A replica killed mid-call leaves its claim pending and unrenewed: the
// command is delivered by the live replica about one stale timeout later —
// seconds — and once.
func TestDeadReplicasClaimIsTakenOverInSeconds(t *testing.T) {
	r := newRig(t, func(o *egress.Options) { o.Config.IdempotencyStale = leaseStale })
	dead := otherReplica(t, r)
	env, err := schemas.New("", schemas.TypeOutPost, "test", schemas.OutPost{Text: "after the crash"})
	if err != nil {
		t.Fatal(err)
	}
	env.Team, env.Channel = team, "C0DEAD"
	if _, _, err := dead.Begin(context.Background(), env.ID); err != nil {
		t.Fatal(err)
	}
	claimed := time.Now()
	if _, err := r.b.Publish(context.Background(), schemas.OutSubject(team, "C0DEAD"), env); err != nil {
		t.Fatal(err)
	}
	r.waitDelivered(env.ID)
	if took := time.Since(claimed); took < leaseStale || took > leaseStale+3*time.Second {
		t.Errorf("delivered %s after the dead replica's claim; want just after the stale timeout %s", took.Round(time.Millisecond), leaseStale)
	}
	if got := texts(r.sim.BotMessages("C0DEAD")); len(got) != 1 {
		t.Fatalf("bot messages = %v, want one", got)
	}
	if len(r.sim.CallsTo("conversations.history")) == 0 {
		t.Error("the taken-over claim was not reconciled before posting")
	}
}

// The default leaves a standby waiting seconds, not minutes, and loads
// without MARIA_EGRESS_SLACK_TIMEOUT having to be shorter.
func TestDefaultStaleIsSeconds(t *testing.T) {
	cfg := egress.DefaultConfig(token, "http://127.0.0.1:1/api/")
	if cfg.IdempotencyStale > 10*time.Second || cfg.IdempotencyStale >= cfg.CallTimeout {
		t.Fatalf("default stale %s (call timeout %s): want ≤ 10 s, under the call timeout now that claims are renewed", cfg.IdempotencyStale, cfg.CallTimeout)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

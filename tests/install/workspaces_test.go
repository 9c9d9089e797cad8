package install

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/installs"
	"github.com/mariahq/maria/egress"
	"github.com/mariahq/maria/schemas"
)

// startEgress runs egress in multi-workspace mode (no SLACK_BOT_TOKEN).
func (r *rig) startEgress(tokens *installs.Tokens) {
	r.t.Helper()
	cfg := egress.DefaultConfig("", r.sim.URL())
	cfg.MultiWorkspace, cfg.MaxAttempts, cfg.CallTimeout = true, 3, 2*time.Second
	ctx, cancel := context.WithCancel(context.Background())
	e, err := egress.New(ctx, r.b, egress.Options{Config: cfg, Tokens: tokens})
	if err != nil {
		cancel()
		r.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	r.t.Cleanup(func() { cancel(); <-done })
}

func (r *rig) post(team, channel, text string) *schemas.Envelope {
	r.t.Helper()
	env, err := schemas.New("", schemas.TypeOutPost, "test", schemas.OutPost{Text: text})
	if err != nil {
		r.t.Fatal(err)
	}
	env.Team, env.Channel = team, channel
	if _, err := r.b.Publish(context.Background(), schemas.OutSubject(team, channel), env); err != nil {
		r.t.Fatal(err)
	}
	return env
}

// Two installed workspaces talking at once: every answer goes out with its
// own workspace's token (the simulator refuses a channel of another
// workspace), and none lands in the other's channel.
func TestWorkspacesIsolated(t *testing.T) {
	r := newRig(t)
	r.installTeam("T0ACME")
	r.installTeam("T0BETA")
	tokens := &installs.Tokens{Store: r.store, Refresher: r.refresher()}
	r.startEgress(tokens)
	const n = 10
	for i := range n {
		r.post("T0ACME", "C0ACME", fmt.Sprintf("acme %d", i))
		r.post("T0BETA", "C0BETA", fmt.Sprintf("beta %d", i))
	}
	bustest.Eventually(t, 30*time.Second, func() bool {
		return len(r.sim.BotMessages("C0ACME")) == n && len(r.sim.BotMessages("C0BETA")) == n
	}, "posts: acme %d, beta %d", len(r.sim.BotMessages("C0ACME")), len(r.sim.BotMessages("C0BETA")))
	for _, c := range r.sim.CallsTo("chat.postMessage") {
		want := map[string]string{"C0ACME": "T0ACME", "C0BETA": "T0BETA"}[c.Channel]
		if !c.OK() || c.Team != want {
			t.Errorf("chat.postMessage to %s with a token of %q (error %q), want %s's", c.Channel, c.Team, c.Error, want)
		}
	}
	for ch, other := range map[string]string{"C0ACME": "beta", "C0BETA": "acme"} {
		for _, m := range r.sim.BotMessages(ch) {
			if strings.HasPrefix(m.Text, other) {
				t.Errorf("%s got %q", ch, m.Text)
			}
		}
	}
}

// An uninstall deletes the tokens and stops work for that workspace: its
// pending commands are dead-lettered with the reason, the other workspace
// goes on.
func TestUninstallStopsWork(t *testing.T) {
	r := newRig(t)
	r.installTeam("T0ACME")
	r.installTeam("T0BETA")
	dlq := bustest.Subscribe(t, r.b, "maria.dlq."+schemas.StreamOut+".>")
	tokens := &installs.Tokens{Store: r.store, Refresher: r.refresher()}
	r.startEgress(tokens)
	r.post("T0BETA", "C0BETA", "before")
	bustest.Eventually(t, 20*time.Second, func() bool { return len(r.sim.BotMessages("C0BETA")) == 1 }, "first post")

	lc := &installs.Lifecycle{Store: r.store, Tokens: tokens}
	if err := lc.Uninstalled(context.Background(), "T0BETA", "", false); err != nil {
		t.Fatal(err)
	}
	r.sim.Revoke("T0BETA")
	after := r.post("T0BETA", "C0BETA", "after")
	r.post("T0ACME", "C0ACME", "still here")
	bustest.Eventually(t, 20*time.Second, func() bool { return len(dlq()) == 1 }, "dead letters: %d", len(dlq()))
	m := dlq()[0]
	env, _ := schemas.Decode(m.Data)
	if reason := m.Header.Get(schemas.HeaderDLQReason); env.ID != after.ID || !strings.Contains(reason, "no installation") {
		t.Fatalf("dead letter %s: %s", env.ID, reason)
	}
	bustest.Eventually(t, 20*time.Second, func() bool { return len(r.sim.BotMessages("C0ACME")) == 1 }, "the other workspace stopped too")
	if n := len(r.sim.BotMessages("C0BETA")); n != 1 {
		t.Fatalf("%d posts in the uninstalled workspace, want only the one before", n)
	}
	if _, err := r.store.Find(context.Background(), "T0BETA"); err == nil {
		t.Fatal("tokens still stored after the uninstall")
	}
}

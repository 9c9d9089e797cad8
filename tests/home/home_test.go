// Package home tests the App Home tab and per-workspace settings end to
// end: every service as `maria run` wires them (the demo environment), on
// the Slack, OpenAI and Odoo simulators, driven with signed Slack requests.
package home

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/processors/home"
	"github.com/mariahq/maria/processors/settings"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/mariahq/maria/tests/sim/slacksim"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	sales = "C0SALES"
	north = "C0NORTH"
	alice = "U0ALICE" // a member
	admin = "U0ADMIN" // a workspace admin
)

func start(t *testing.T) *demo.Env {
	t.Helper()
	var logs io.Writer = io.Discard
	if os.Getenv("MARIA_TEST_LOG") == "1" {
		logs = os.Stderr
	}
	e, err := demo.Start(context.Background(), demo.Options{DataDir: t.TempDir(), LogOutput: logs, SettleTimeout: 30 * time.Second,
		Overrides: map[string]string{"MARIA_ERP_READ_CHANNELS": sales + "," + north + ",dm", "MARIA_ERP_WRITE_CHANNELS": sales + ",dm"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	e.Slack.AddUserAs(admin, slacksim.User{Name: "ada", RealName: "Ada Admin", Admin: true})
	e.Slack.AddUser(alice, "alice", "Alice", "alice@example.com")
	return e
}

// result holds a (value, error) pair: ok(f()).get(t) fails the test on error.
type result[T any] struct {
	v   T
	err error
}

func ok[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) get(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// homeOf waits for user's Home tab to satisfy ok.
func homeOf(t *testing.T, e *demo.Env, user string, ok func(string) bool, what string) slacksim.View {
	t.Helper()
	var v slacksim.View
	bustest.Eventually(t, 20*time.Second, func() bool {
		var found bool
		v, found = e.Slack.Home(user)
		return found && ok(v.Text())
	}, "home tab of %s: %s", user, what)
	return v
}

// auditSettings reads the settings audit entries from MARIA_AUDIT.
func auditSettings(t *testing.T, e *demo.Env) []schemas.Audit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := e.Observer.JetStream().OrderedConsumer(ctx, schemas.StreamAudit, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{schemas.AuditSubject("settings")}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []schemas.Audit
	for range info.NumPending {
		m, err := c.Next(jetstream.FetchMaxWait(2 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		env, err := schemas.Decode(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		a, err := schemas.DecodeData[schemas.Audit](env)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *a)
	}
	return out
}

func TestHomeShowsOpenProposal(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	q := ok(e.Mention(ctx, sales, alice, demo.QuestionLead, "")).get(t)
	if _, err := e.Settle(ctx, q.ID, demo.Answered); err != nil {
		t.Fatal(err)
	}
	if _, _, found := e.FindButton(sales, q.ThreadTS, "erp_confirm"); !found {
		t.Fatalf("no proposal:\n%s", e.Slack.Transcript())
	}
	ok(e.Events.AppHomeOpened(ctx, alice, "D0ALICE", "")).get(t)
	v := homeOf(t, e, alice, func(s string) bool { return strings.Contains(s, "waiting for your click") }, "the open proposal")
	if !strings.Contains(v.Text(), "create crm.lead") || !strings.Contains(v.Text(), "<#"+sales+">") {
		t.Fatalf("home tab does not show the proposal:\n%s", v.Text())
	}
	if strings.Contains(v.Text(), "Workspace settings") {
		t.Fatalf("a member sees the admin's settings button:\n%s", v.Text())
	}
}

func TestAdminSavesSettingsAndTheyAreHonoured(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	ok(e.Events.AppHomeOpened(ctx, admin, "D0ADMIN", "")).get(t)
	v := homeOf(t, e, admin, func(s string) bool { return strings.Contains(s, "Workspace settings") }, "the settings button")

	// The Settings click opens the modal (views.open inside the trigger's 3 s).
	ok(e.Events.ClickInView(ctx, slackevents.ViewClick{User: admin, ViewID: v.ID, ActionID: home.ActionOpenSettings})).get(t)
	bustest.Eventually(t, 10*time.Second, func() bool { return len(e.Slack.Modals()) == 1 }, "settings modal")
	modal := e.Slack.Modals()[0]
	if !strings.Contains(modal.Text(), "Maria settings") || !strings.Contains(modal.Text(), north) {
		t.Fatalf("modal not pre-filled with the defaults:\n%s", modal.Text())
	}

	// Submit: C0NORTH removed from the read channels.
	d := ok(e.Events.SubmitView(ctx, slackevents.Submission{User: admin, ViewID: modal.ID, CallbackID: home.CallbackSettings,
		Values: map[string]map[string]any{
			"title":     {"input": slackevents.TextInput("Acme ERP helper")},
			"prompts":   {"input": slackevents.TextInput("Quotes | Show my open quotations")},
			"erp_read":  {"input": slackevents.TextInput(sales + ", dm")},
			"erp_write": {"input": slackevents.TextInput("dm")},
			"allow":     {"input": slackevents.Selected()},
		}})).get(t)
	if d.Status != 200 || strings.TrimSpace(d.Body) != "" {
		t.Fatalf("view_submission answered %d %q, want an empty 200 (the modal closes)", d.Status, d.Body)
	}
	homeOf(t, e, admin, func(s string) bool { return strings.Contains(s, "Acme ERP helper") }, "re-published with the new title")

	st, _, found, err := settingsStore(t, e).Get(ctx, teamOf(e))
	if err != nil || !found {
		t.Fatalf("settings not stored: %v", err)
	}
	if st.AssistantTitle != "Acme ERP helper" || strings.Join(st.ERPReadChannels, ",") != sales+",dm" || st.UpdatedBy != admin {
		t.Fatalf("stored %+v", st)
	}
	audits := auditSettings(t, e)
	if len(audits) != 1 || audits[0].Actor != admin || audits[0].Outcome != "saved" || !strings.Contains(audits[0].Detail, "erp_read_channels") {
		t.Fatalf("audit %+v", audits)
	}

	// The next ERP question in C0NORTH is refused: no Odoo read.
	reads := e.Odoo.Calls("*")
	q := ok(e.Mention(ctx, north, alice, demo.QuestionOrder, "")).get(t)
	if _, err := e.Settle(ctx, q.ID, demo.Answered); err != nil {
		t.Fatal(err)
	}
	answer := texts(e.Slack.Thread(north, q.ThreadTS))
	if !strings.Contains(answer, "not enabled in this channel") || !strings.Contains(answer, "App Home") {
		t.Fatalf("no refusal in %s:\n%s", north, answer)
	}
	if e.Odoo.Calls("*") != reads {
		t.Fatal("Odoo was read in a channel the settings disabled")
	}
}

func TestNonAdminCannotOpenOrSubmitSettings(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	ok(e.Events.AppHomeOpened(ctx, alice, "D0ALICE", "")).get(t)
	v := homeOf(t, e, alice, func(s string) bool { return strings.Contains(s, "Your open proposals") }, "home")
	ok(e.Events.ClickInView(ctx, slackevents.ViewClick{User: alice, ViewID: v.ID, ActionID: home.ActionOpenSettings})).get(t)
	ok(e.Events.SubmitView(ctx, slackevents.Submission{User: alice, ViewID: "V0FORGED", CallbackID: home.CallbackSettings,
		Values: map[string]map[string]any{
			"title":    {"input": slackevents.TextInput("Hijacked")},
			"erp_read": {"input": slackevents.TextInput("*")},
		}})).get(t)
	bustest.Eventually(t, 20*time.Second, func() bool { return len(auditSettings(t, e)) == 1 }, "the refusal's audit entry")
	if a := auditSettings(t, e)[0]; a.Outcome != "refused_not_admin" || a.Actor != alice {
		t.Fatalf("audit %+v", a)
	}
	if n := len(e.Slack.Modals()); n != 0 {
		t.Fatalf("%d modals opened for a non-admin", n)
	}
	if _, _, found, err := settingsStore(t, e).Get(ctx, teamOf(e)); err != nil || found {
		t.Fatalf("a non-admin's submission was stored (found=%v, %v)", found, err)
	}
}

func settingsStore(t *testing.T, e *demo.Env) settings.Store {
	t.Helper()
	s, err := settings.OpenNATS(context.Background(), e.Observer.JetStream(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// teamOf is the workspace the demo's Slack requests come from.
func teamOf(e *demo.Env) string {
	if e.Events.Team != "" {
		return e.Events.Team
	}
	return slackevents.DefaultTeam
}

func texts(ms []slacksim.Message) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Text + "\n")
	}
	return b.String()
}

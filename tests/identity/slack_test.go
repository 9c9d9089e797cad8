package identity_test

// "Connect your Odoo account" through Slack, end to end: every service as
// `maria run` wires them (the demo environment) on the Slack, OpenAI and
// Odoo simulators, driven with signed Slack requests — the button under a
// refused answer, `/maria connect`, the modal and its submission, the
// answers that follow as the person's own Odoo user, `/maria disconnect`.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/processors/erp"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/odoosim"
	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

const (
	sales   = "C0SALES"
	marc    = "U0MARC"  // Odoo's salesperson "demo": own orders, no invoices
	sofia   = "U0SOFIA" // Odoo's manager "sofia": everything
	unpaid  = "Which invoices are unpaid?"
	twoSale = "What is the status of S00044 and S00042?"
)

// logSink collects the services' logs for the secrets check.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
	tee io.Writer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tee != nil {
		_, _ = l.tee.Write(p)
	}
	return l.buf.Write(p)
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func startSlack(t *testing.T, policy string) (*demo.Env, *logSink) {
	t.Helper()
	logs := &logSink{}
	if os.Getenv("MARIA_TEST_LOG") == "1" {
		logs.tee = os.Stderr
	}
	e, err := demo.Start(context.Background(), demo.Options{DataDir: t.TempDir(), LogOutput: logs, SettleTimeout: 30 * time.Second,
		Overrides: map[string]string{"MARIA_ERP_READ_CHANNELS": sales + ",dm", "MARIA_ERP_WRITE_CHANNELS": sales + ",dm",
			"MARIA_ERP_IDENTITY_POLICY": policy}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	if e.Odoo == nil {
		t.Skip("a real Odoo is configured: the simulator's users are needed")
	}
	// The Slack profiles carry the Odoo users' emails: Maria suggests the login.
	e.Slack.AddUser(marc, "marc", "Marc Demo", e.Odoo.Account(odoosim.SalespersonLogin).Email)
	e.Slack.AddUser(sofia, "sofia", "Sofia Manager", e.Odoo.Account(odoosim.ManagerLogin).Email)
	return e, logs
}

// ask mentions Maria in #sales and returns the answer's text and thread.
func ask(t *testing.T, e *demo.Env, user, question string) (string, string) {
	t.Helper()
	ctx := context.Background()
	q, err := e.Mention(ctx, sales, user, question, "")
	if err != nil {
		t.Fatal(err)
	}
	seen, err := e.Settle(ctx, q.ID, demo.Answered)
	if err != nil {
		t.Fatalf("%s asking %q: %v\n%s", user, question, err, e.Slack.Transcript())
	}
	var texts []string
	for _, m := range e.Replies(q, seen) {
		texts = append(texts, m.Text)
	}
	return strings.Join(texts, "\n"), q.ThreadTS
}

// modal waits for the n-th modal opened (1-based) and checks it is the
// connect form.
func modal(t *testing.T, e *demo.Env, n int) slacksim.View {
	t.Helper()
	bustest.Eventually(t, 10*time.Second, func() bool { return len(e.Slack.Modals()) >= n }, "connect modal #%d", n)
	v := e.Slack.Modals()[n-1]
	var view struct {
		CallbackID string `json:"callback_id"`
	}
	_ = json.Unmarshal(v.JSON, &view)
	if view.CallbackID != schemas.ERPConnectCallbackID {
		t.Fatalf("modal #%d is not the connect form: %s", n, v.JSON)
	}
	return v
}

// submit sends the connect form and returns Slack's answer (the
// view_submission's response body).
func submit(t *testing.T, e *demo.Env, user string, v slacksim.View, login, key string) map[string]any {
	t.Helper()
	out, err := e.SubmitConnect(context.Background(), user, v, login, key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestConnectYourOdooAccountThroughSlack(t *testing.T) {
	e, logs := startSlack(t, erp.PolicyPersonal)
	ctx := context.Background()
	demoUser, manager := e.Odoo.Account(odoosim.SalespersonLogin), e.Odoo.Account(odoosim.ManagerLogin)

	// Unconnected under "personal": told to connect, with the button.
	text, thread := ask(t, e, marc, unpaid)
	if !strings.Contains(text, "/maria connect") || strings.Contains(text, "INV/") {
		t.Fatalf("unconnected salesperson's answer:\n%s", text)
	}
	m, b, found := e.FindButton(sales, thread, schemas.ActionERPConnect)
	if !found {
		t.Fatalf("no connect button under the answer:\n%s", e.Slack.Transcript())
	}
	if _, err := e.Click(ctx, marc, m, b); err != nil {
		t.Fatal(err)
	}
	form := modal(t, e, 1)
	if !strings.Contains(form.Text(), demoUser.Login) {
		t.Fatalf("the login is not suggested from the Slack profile's email:\n%s", form.Text())
	}

	// A bad key keeps the modal open with Odoo's refusal under the key.
	rep := submit(t, e, marc, form, demoUser.Login, "not-the-key")
	if rep["response_action"] != "errors" || !strings.Contains(jsonString(rep), "did not accept") {
		t.Fatalf("bad key answered %v", rep)
	}
	// The good key connects: the modal says as whom.
	rep = submit(t, e, marc, form, demoUser.Login, demoUser.APIKey)
	if rep["response_action"] != "update" || !strings.Contains(jsonString(rep), demoUser.Name) {
		t.Fatalf("good key answered %v", rep)
	}

	// As the salesperson: own orders only (Odoo's record rule), and
	// invoices refused with Odoo's reason.
	text, _ = ask(t, e, marc, twoSale)
	if !strings.Contains(text, "S00044") || strings.Contains(text, "S00042") && !strings.Contains(text, "no matching") {
		t.Fatalf("salesperson's orders:\n%s", text)
	}
	text, _ = ask(t, e, marc, unpaid)
	if !strings.Contains(text, "your Odoo user demo may not read account.move") {
		t.Fatalf("salesperson's invoices:\n%s", text)
	}

	// The manager connects with /maria connect and sees everything.
	if d, err := e.Events.Command(ctx, sales, sofia, "/maria", "connect"); err != nil || d.Status != 200 {
		t.Fatalf("/maria connect: %v %d", err, d.Status)
	}
	form = modal(t, e, 2)
	if !strings.Contains(form.Text(), manager.Login) {
		t.Fatalf("manager's login not suggested:\n%s", form.Text())
	}
	if rep := submit(t, e, sofia, form, manager.Login, manager.APIKey); rep["response_action"] != "update" {
		t.Fatalf("manager's key answered %v", rep)
	}
	if text, _ := ask(t, e, sofia, twoSale); !strings.Contains(text, "S00044") || !strings.Contains(text, "S00042") || strings.Contains(text, "no matching") {
		t.Fatalf("manager's orders:\n%s", text)
	}
	if text, _ := ask(t, e, sofia, unpaid); !strings.Contains(text, "INV/") {
		t.Fatalf("manager's unpaid invoices:\n%s", text)
	}

	// /maria disconnect forgets the key: back to "connect first".
	if d, err := e.Events.Command(ctx, sales, marc, "/maria", "disconnect"); err != nil || d.Status != 200 {
		t.Fatalf("/maria disconnect: %v %d", err, d.Status)
	}
	bustest.Eventually(t, 10*time.Second, func() bool {
		for _, eph := range e.Slack.Ephemerals() {
			if eph.User == marc && strings.Contains(eph.Text, "forgotten") {
				return true
			}
		}
		return false
	}, "disconnect confirmation")
	if text, _ := ask(t, e, marc, twoSale); !strings.Contains(text, "/maria connect") {
		t.Fatalf("after disconnect:\n%s", text)
	}

	// The keys never left ingress in clear: not in any stream, not in a log.
	for _, key := range []string{demoUser.APIKey, manager.APIKey, "not-the-key"} {
		if where := inStreams(t, e, key); where != "" {
			t.Errorf("an API key is in stream %s", where)
		}
		if strings.Contains(logs.String(), key) {
			t.Errorf("an API key is in the logs")
		}
	}
	// The submission itself (the login with the key) was never published
	// (the form Maria opened is in MARIA_OUT, as views.open's command).
	if where := inStreams(t, e, `"`+schemas.ERPConnectCallbackID+`"`); where != "" && !strings.HasPrefix(where, schemas.StreamOut+" ") {
		t.Errorf("the connect form's submission is in stream %s", where)
	}
}

func TestHomeTabConnectsAndDisconnects(t *testing.T) {
	e, _ := startSlack(t, erp.PolicyReadOnlyService)
	ctx := context.Background()
	demoUser := e.Odoo.Account(odoosim.SalespersonLogin)
	homeOf := func(want string) slacksim.View {
		t.Helper()
		var v slacksim.View
		bustest.Eventually(t, 20*time.Second, func() bool {
			var found bool
			v, found = e.Slack.Home(marc)
			return found && strings.Contains(v.Text(), want)
		}, "home tab with %q", want)
		return v
	}
	if _, err := e.Events.AppHomeOpened(ctx, marc, "D0MARC", ""); err != nil {
		t.Fatal(err)
	}
	v := homeOf("Connect your Odoo account")
	if _, err := e.Events.ClickInView(ctx, slackevents.ViewClick{User: marc, ViewID: v.ID, ActionID: schemas.ActionERPConnect}); err != nil {
		t.Fatal(err)
	}
	if rep := submit(t, e, marc, modal(t, e, 1), demoUser.Login, demoUser.APIKey); rep["response_action"] != "update" {
		t.Fatalf("connect answered %v", rep)
	}
	if _, err := e.Events.AppHomeOpened(ctx, marc, "D0MARC", v.ID); err != nil {
		t.Fatal(err)
	}
	v = homeOf("Connected as *" + demoUser.Name + "*")
	if _, err := e.Events.ClickInView(ctx, slackevents.ViewClick{User: marc, ViewID: v.ID, ActionID: schemas.ActionERPDisconnect}); err != nil {
		t.Fatal(err)
	}
	homeOf("Connect your Odoo account")
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// inStreams names the first stream holding s in a message body, "" if none.
func inStreams(t *testing.T, e *demo.Env, s string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	js := e.Observer.JetStream()
	for name := range js.StreamNames(ctx).Name() {
		st, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
			m, err := st.GetMsg(ctx, seq)
			if err != nil {
				continue // deleted, or purged (the identity bucket after disconnect)
			}
			if bytes.Contains(m.Data, []byte(s)) {
				return name + " (" + m.Subject + ")"
			}
		}
	}
	return ""
}

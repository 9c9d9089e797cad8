package install

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/processors/ai"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

// sharedChannel is the channel id both workspaces use: ids are only unique
// within a workspace (and a Slack Connect channel has one id in all).
const (
	sharedChannel = "C0SHARED"
	asker         = "U0ALICE" // the same user id in both: only the workspace differs
	// questionUnpaid is answered from the ERP, naming invoices (INV/…), never S00042.
	questionUnpaid = "Which invoices are unpaid?"
)

// pipeline is every service (app.Start, as `maria run`) in multi-workspace
// mode against the simulators, with two workspaces installed through the
// OAuth flow.
type pipeline struct {
	*demo.Env
	acme, beta *slackevents.Client
}

func startPipeline(t *testing.T) *pipeline {
	t.Helper()
	var logs io.Writer = io.Discard
	if os.Getenv("MARIA_TEST_LOG") == "1" {
		logs = os.Stderr
	}
	ctx := context.Background()
	e, err := demo.Start(ctx, demo.Options{DataDir: t.TempDir(), MultiWorkspace: true, LogOutput: logs, SettleTimeout: 60 * time.Second,
		Overrides: map[string]string{"MARIA_ERP_READ_CHANNELS": sharedChannel, "MARIA_ERP_WRITE_CHANNELS": sharedChannel}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	p := &pipeline{Env: e}
	if p.acme, err = e.InstallWorkspace(ctx, slacksim.Workspace{TeamID: "T0ACME", TeamName: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if p.beta, err = e.InstallWorkspace(ctx, slacksim.Workspace{TeamID: "T0BETA", TeamName: "Beta"}); err != nil {
		t.Fatal(err)
	}
	return p
}

// send delivers ev from workspace c and returns its turn.
func (p *pipeline) send(t *testing.T, c *slackevents.Client, ev slackevents.Event, text, thread string) *demo.Turn {
	t.Helper()
	d, err := c.Event(context.Background(), ev)
	if err != nil || d.Status != 200 {
		t.Fatalf("%s: event answered %d %s (%v)", c.Team, d.Status, d.Body, err)
	}
	return &demo.Turn{ID: p.turnOf(t, d.ID), Channel: sharedChannel, ThreadTS: thread, User: asker, Text: text, Started: time.Now()}
}

// turnOf is the turn (correlation id) of the envelope id a delivery got.
func (p *pipeline) turnOf(t *testing.T, id string) string {
	t.Helper()
	turn, err := p.TurnOf(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return turn
}

func (p *pipeline) settle(t *testing.T, turn *demo.Turn, done func([]demo.Seen) bool) []demo.Seen {
	t.Helper()
	seen, err := p.Settle(context.Background(), turn.ID, done)
	if err != nil {
		t.Fatalf("turn %q: %v\n%s", turn.Text, err, p.Slack.Transcript())
	}
	return seen
}

// said is everything Maria sent to Slack with team's token since call
// number from (texts, blocks, stream chunks), as one string.
func (p *pipeline) said(team string, from int) string {
	var b strings.Builder
	for _, c := range p.Slack.Calls()[from:] {
		if c.Team == team && c.Channel == sharedChannel && c.OK() {
			for _, vs := range c.Params {
				b.WriteString(strings.Join(vs, " ") + "\n")
			}
		}
	}
	return b.String()
}

// history is what the model was shown in the requests since number from.
func (p *pipeline) history(from int) string {
	var b strings.Builder
	for _, r := range p.OpenAI.Requests()[from:] {
		for _, m := range r.Messages {
			b.WriteString(m.Role + ": " + m.Text() + "\n")
		}
	}
	return b.String()
}

// Two installed workspaces talking to Maria at once through the whole
// pipeline (ingress → ai → erp → egress → Slack), in a channel with the
// same id and a thread with the same ts: each gets its own answer, posted
// with its own token; memory, proposals and stored files never cross.
func TestPipelineKeepsWorkspacesApart(t *testing.T) {
	p := startPipeline(t)
	// The simulator keeps one message list per channel id: the thread's root
	// is one message both workspaces' events point at.
	thread := p.Slack.AddUserMessage(sharedChannel, asker, "<@"+slacksim.BotUserID+"> hello", "")

	// 1. Both ask at once, in "the same" thread.
	var wg sync.WaitGroup
	turns := map[string]*demo.Turn{}
	var mu sync.Mutex
	for c, q := range map[*slackevents.Client]string{p.acme: demo.QuestionOrder, p.beta: questionUnpaid} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			text := c.MentionText(q)
			turn := p.send(t, c, slackevents.AppMentionEvent(c.Team, sharedChannel, asker, text, thread, ""), q, thread)
			mu.Lock()
			turns[c.Team] = turn
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, turn := range turns {
		p.settle(t, turn, demo.Answered)
	}
	acmeSaid, betaSaid := p.said("T0ACME", 0), p.said("T0BETA", 0)
	// The order answer names S00042, the unpaid invoices INV/…; each only
	// with its own workspace's token.
	if !strings.Contains(acmeSaid, "S00042") || strings.Contains(acmeSaid, "INV/") {
		t.Fatalf("Acme's answer, with Acme's token, is not its order:\n%s", acmeSaid)
	}
	if !strings.Contains(betaSaid, "INV/") || strings.Contains(betaSaid, "S00042") {
		t.Fatalf("Beta's answer, with Beta's token, is not its invoices:\n%s", betaSaid)
	}
	for _, c := range p.Slack.Calls() {
		if c.Channel == sharedChannel && c.OK() && c.Team != "T0ACME" && c.Team != "T0BETA" {
			t.Errorf("%s in the channel with a token of %q", c.Method, c.Team)
		}
	}

	// 2. Memory: Beta's follow-up sees Beta's question, never Acme's; Acme's
	// sees its own (the check can fail).
	calls, reqs := len(p.Slack.Calls()), len(p.OpenAI.Requests())
	f := p.send(t, p.beta, slackevents.MessageEvent("T0BETA", sharedChannel, "channel", asker, demo.QuestionFollowUp, slackevents.NewTS(), thread),
		demo.QuestionFollowUp, thread)
	p.settle(t, f, demo.Answered)
	seen := p.history(reqs)
	if !strings.Contains(seen, questionUnpaid) {
		t.Fatalf("Beta's follow-up lacks Beta's earlier question:\n%s", seen)
	}
	if strings.Contains(seen, demo.QuestionOrder) || strings.Contains(seen, "S00042") {
		t.Fatalf("Beta's follow-up was shown Acme's conversation:\n%s", seen)
	}
	if said := p.said("T0ACME", calls); said != "" {
		t.Fatalf("Beta's follow-up made Acme's token speak:\n%s", said)
	}
	reqs = len(p.OpenAI.Requests())
	f = p.send(t, p.acme, slackevents.MessageEvent("T0ACME", sharedChannel, "channel", asker, demo.QuestionFollowUp, slackevents.NewTS(), thread),
		demo.QuestionFollowUp, thread)
	p.settle(t, f, demo.Answered)
	if seen := p.history(reqs); !strings.Contains(seen, demo.QuestionOrder) || strings.Contains(seen, questionUnpaid) {
		t.Fatalf("Acme's follow-up should see Acme's question and only it:\n%s", seen)
	}

	// 3. A proposal made in Acme cannot be confirmed from Beta, even by a
	// user with the same id clicking the same button.
	leads := p.Odoo.Count("crm.lead")
	l := p.send(t, p.acme, slackevents.MessageEvent("T0ACME", sharedChannel, "channel", asker, demo.QuestionLead, slackevents.NewTS(), thread),
		demo.QuestionLead, thread)
	p.settle(t, l, demo.Answered)
	msg, confirm, found := p.FindButton(sharedChannel, thread, ai.ActionConfirm)
	if !found {
		t.Fatalf("no proposal in Acme:\n%s", p.Slack.Transcript())
	}
	calls = len(p.Slack.Calls())
	d, err := p.beta.ClickAction(context.Background(), slackevents.Click{Channel: sharedChannel, User: asker, MessageTS: msg.TS,
		ThreadTS: msg.ThreadTS, ActionID: confirm.ActionID, BlockID: confirm.BlockID, Value: confirm.Value})
	if err != nil || d.Status != 200 {
		t.Fatalf("Beta's click: %d %v", d.Status, err)
	}
	clicked := p.settle(t, &demo.Turn{ID: p.turnOf(t, d.ID), Text: "Beta clicks Acme's Confirm"}, demo.AnyDelivered)
	if n := len(demo.OfType(clicked, schemas.TypeERPCommand)); n != 0 || p.Odoo.Count("crm.lead") != leads {
		t.Fatalf("Beta's click wrote to the ERP (%d commands, leads %d → %d)", n, leads, p.Odoo.Count("crm.lead"))
	}
	if said := p.said("T0BETA", calls); !strings.Contains(said, "expired or is unknown") {
		t.Fatalf("Beta's clicker was not told, with Beta's token:\n%s", said)
	}
	if said := p.said("T0ACME", calls); said != "" {
		t.Fatalf("Beta's click changed Acme's proposal:\n%s", said)
	}
	d, err = p.acme.ClickAction(context.Background(), slackevents.Click{Channel: sharedChannel, User: asker, MessageTS: msg.TS,
		ThreadTS: msg.ThreadTS, ActionID: confirm.ActionID, BlockID: confirm.BlockID, Value: confirm.Value})
	if err != nil || d.Status != 200 {
		t.Fatalf("Acme's click: %d %v", d.Status, err)
	}
	p.settle(t, &demo.Turn{ID: p.turnOf(t, d.ID), Text: "Acme clicks Confirm"}, demo.ERPDone)
	if n := p.Odoo.Count("crm.lead"); n != leads+1 {
		t.Fatalf("Acme's own click: leads %d → %d, want one more", leads, n)
	}

	// 4. The same file (one id: a Slack Connect channel) shared in both is
	// downloaded with each workspace's token and stored once per workspace,
	// each copy readable only by its own.
	f0 := p.Slack.AddFile("terms.txt", "text/plain", []byte("Payment within 30 days."))
	file := slackevents.File{ID: f0.ID, Name: f0.Name, Mimetype: f0.Mimetype, Filetype: f0.Filetype, Size: f0.Size,
		URLPrivate: f0.URLPrivate, URLPrivateDownload: f0.URLPrivateDownload}
	for _, c := range []*slackevents.Client{p.acme, p.beta} {
		ev := slackevents.MessageWithFilesEvent(c.Team, sharedChannel, "channel", asker, "", slackevents.NewTS(), thread, file)
		p.settle(t, p.send(t, c, ev, "shares terms.txt", thread), demo.Stored)
	}
	byTeam := map[string]int{}
	for _, c := range p.Slack.CallsTo("files.download") {
		if c.Params.Get("file_id") == f0.ID && c.OK() {
			byTeam[c.Team]++
		}
	}
	if byTeam["T0ACME"] != 1 || byTeam["T0BETA"] != 1 || len(byTeam) != 2 {
		t.Fatalf("downloads of the shared file by workspace: %v, want one each", byTeam)
	}
	for team, want := range map[string]bool{"T0ACME": true, "T0BETA": true, "T0OTHER": false} {
		if fc := p.readFile(t, team, f0.ID); fc.Found != want || want && !strings.Contains(fc.Text, "30 days") {
			t.Errorf("%s reads the file: %+v, want found=%v", team, fc, want)
		}
	}
}

// readFile asks storage for a stored file as team's reader (maria.files.read).
func (p *pipeline) readFile(t *testing.T, team, id string) schemas.FileContent {
	t.Helper()
	body, _ := json.Marshal(schemas.FileRead{Team: team, FileID: id, MaxChars: 1000})
	msg, err := p.Observer.Conn().Request(schemas.SubjectFileRead, body, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var fc schemas.FileContent
	if err := json.Unmarshal(msg.Data, &fc); err != nil {
		t.Fatal(err)
	}
	return fc
}

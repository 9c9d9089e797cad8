package ops_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/natsconn"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/processors/example"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/odoosim"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

// operatorEnv is what an operator's shell would hold: real-looking Slack and
// Odoo settings pointing at the simulators, so any leak would show there.
func operatorEnv(t *testing.T, live *bus.Bus) (map[string]string, *slacksim.Sim, *odoosim.Server) {
	slack := slacksim.New("xoxb-live-token")
	t.Cleanup(slack.Close)
	odoo := odoosim.New(t)
	return map[string]string{
		"NATS_URL":             live.ClientURL(),
		"NATS_CREDS":           live.ClientCreds(),
		"SLACK_BOT_TOKEN":      slack.Token(),
		"SLACK_API_URL":        slack.URL(),
		"SLACK_SIGNING_SECRET": "s3cret",
		"ODOO_URL":             odoo.URL,
		"ODOO_DB":              odoo.DB,
		"ODOO_USERNAME":        odoo.User,
		"ODOO_PASSWORD":        odoo.Password,
		"MARIA_LOG_LEVEL":      "debug",
	}, slack, odoo
}

// The incident loop on the example processor: the original run replied to
// "thanks" (and, say, the AI answered the question); replaying both inputs
// into the sandbox yields the same reply in the sandbox, nothing at all
// on the live bus, no Slack call, no Odoo write, and a side-by-side report
// marking the answer the sandbox did not reproduce.
func TestSandboxReplayReproducesWithoutSideEffects(t *testing.T) {
	live := bustest.New(t)
	ctx := ctxT(t)
	// The original run.
	pctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	svc, err := example.Service(pctx, live)
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- svc.Run(pctx) }()
	thanks, _ := publishMessage(t, live, "Ev-thanks", "C1", "thanks Maria!")
	question, _ := publishMessage(t, live, "Ev-q", "C1", "what is S00042?")
	// Done when the example's reply is stored and its consumer is idle (idle
	// alone can be read before the consumer has counted what was published).
	bustest.Eventually(t, 10*time.Second, func() bool {
		return streamLastSeq(t, live, schemas.StreamOut) >= 1 && consumerIdle(ctx, live, schemas.StreamIn, example.Durable)
	}, "original run done")
	cancel()
	<-done
	answer, err := question.Child("answer", schemas.TypeOutPost, "ai", schemas.OutPost{Text: "S00042 is confirmed"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := live.Publish(ctx, schemas.OutSubject("T1", "C1"), answer); err != nil {
		t.Fatal(err)
	}
	outBefore := streamLastSeq(t, live, schemas.StreamOut)
	if outBefore != 2 {
		t.Fatalf("original run produced %d out messages, want 2", outBefore)
	}

	environ, slack, odoo := operatorEnv(t, live)
	sel, err := ops.Select(ctx, live.JetStream(), schemas.StreamIn, ops.Window{FromSeq: 1})
	if err != nil {
		t.Fatal(err)
	}
	liveTraffic := bustest.Subscribe(t, live, "maria.>")
	var logs bytes.Buffer
	rep, err := ops.SandboxReplay(ctx, live, schemas.StreamIn, sel, ops.SandboxReplayOptions{
		Sandbox: ops.SandboxOptions{Environ: environ, LogOutput: &syncWriter{w: &logs}},
		Replay:  ops.ReplayOptions{RunID: "sb1"},
		Quiet:   300 * time.Millisecond, Timeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, logs.String())
	}
	if !contains(rep.Services, "example") || contains(rep.Services, "ingress") {
		t.Fatalf("services %v (skipped %v)", rep.Services, rep.Skipped)
	}
	if !contains(rep.Consumers, "example-thanks") || rep.Replay.Published != 2 || rep.QuietError != "" {
		t.Fatalf("report %+v", rep)
	}
	// Nothing reached production: no new message on the live server, no
	// Slack call, no Odoo write.
	if got := streamLastSeq(t, live, schemas.StreamOut); got != outBefore {
		t.Fatalf("live MARIA_OUT grew from %d to %d", outBefore, got)
	}
	if msgs := liveTraffic(); len(msgs) != 0 {
		t.Fatalf("%d messages published on the live bus during the sandbox replay, first %s", len(msgs), msgs[0].Subject)
	}
	if calls := slack.Calls(); len(calls) != 0 {
		t.Fatalf("Slack received %d calls, first %+v", len(calls), calls[0])
	}
	if len(rep.SlackBlocked) != 0 {
		t.Fatalf("sandbox services called Slack: %v", rep.SlackBlocked)
	}
	for _, w := range []string{"create", "write", "unlink"} {
		if n := odoo.Calls("crm.lead." + w); n != 0 {
			t.Fatalf("Odoo got %d crm.lead.%s", n, w)
		}
	}

	// The comparison, per correlation id.
	if len(rep.Diffs) != 2 {
		t.Fatalf("diffs %+v", rep.Diffs)
	}
	byCorr := map[string]ops.CorrelationDiff{}
	for _, d := range rep.Diffs {
		byCorr[d.CorrelationID] = d
	}
	td := compared(byCorr[thanks.CorrelationID].Lines)
	if len(td) != 1 || td[0].Mark != ops.MarkSame || td[0].Sandbox.Type != schemas.TypeOutPost || td[0].Sandbox.ID != td[0].Original.ID {
		t.Fatalf("thanks diff %+v", byCorr[thanks.CorrelationID])
	}
	qd := compared(byCorr[question.CorrelationID].Lines)
	if len(qd) != 1 || qd[0].Mark != ops.MarkOnlyOld || qd[0].Original.ID != answer.ID || byCorr[question.CorrelationID].Differences != 1 {
		t.Fatalf("question diff %+v", byCorr[question.CorrelationID])
	}
	var out bytes.Buffer
	ops.PrintSandboxReport(&out, rep, 140, false)
	text := out.String()
	for _, want := range []string{"ORIGINAL RUN", "SANDBOX", "= out.post.v1 maria.out.T1.C1", "- out.post.v1 maria.out.T1.C1", "2 correlation(s), 1 difference(s)"} {
		if !strings.Contains(text, want) {
			t.Fatalf("report lacks %q:\n%s", want, text)
		}
	}
}

// The sandbox's configuration closes every way out, whatever the operator's
// environment says.
func TestSandboxEnvDisablesSideEffects(t *testing.T) {
	env := ops.SandboxEnv(map[string]string{
		"NATS_URL": "nats://prod:4222", "NATS_CREDS": "/secrets/prod.creds", "SLACK_BOT_TOKEN": "xoxb-real", "SLACK_APP_TOKEN": "xapp-real",
		"SLACK_API_URL": "https://slack.com/api/", "MARIA_STORAGE": "aws", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIA",
		"ODOO_URL": "https://erp.example.com", "OPENAI_API_KEY": "sk-keep", "MARIA_EGRESS_DRY_RUN": "false",
	}, "nats://127.0.0.1:9999", "/tmp/sb", "http://127.0.0.1:1/api/", "http://127.0.0.1:2")
	want := map[string]string{
		"NATS_URL": "nats://127.0.0.1:9999", "SLACK_BOT_TOKEN": ops.SandboxSlackToken, "SLACK_API_URL": "http://127.0.0.1:1/api/",
		"MARIA_STORAGE": "nats", "MARIA_EGRESS_DRY_RUN": "true", "MARIA_ERP_READ_ONLY": "true", "ODOO_URL": "http://127.0.0.1:2",
		"ODOO_PUBLIC_URL": "https://erp.example.com", "OPENAI_API_KEY": "sk-keep", "MARIA_HTTP_ADDR": "127.0.0.1:0",
		"NATS_CREDS": natsconn.EmbeddedCreds("/tmp/sb", natsconn.Operator), // the sandbox server's operator, never the real bus'
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	for _, k := range []string{"SLACK_APP_TOKEN", "AWS_REGION", "AWS_ACCESS_KEY_ID"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s kept in the sandbox", k)
		}
	}
}

// An ERP command replayed into the sandbox never writes to Odoo: the erp
// service (if configurable) runs read-only behind the Odoo guard.
func TestSandboxReplayOfERPCommandWritesNothing(t *testing.T) {
	live := bustest.New(t)
	ctx := ctxT(t)
	root, _ := publishMessage(t, live, "Ev-lead", "C1", "create a lead")
	cmd, err := root.Child("confirm", schemas.TypeERPCommand, "ai", schemas.ERPCommand{Op: "create", Model: "crm.lead",
		Values: map[string]any{"name": "Acme"}, ConfirmedBy: "U1", ProposalID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := live.Publish(ctx, schemas.ERPCommandSubject("crm.lead"), cmd); err != nil {
		t.Fatal(err)
	}
	environ, slack, odoo := operatorEnv(t, live)
	leadsBefore := odoo.Count("crm.lead")
	sel, err := ops.Select(ctx, live.JetStream(), schemas.StreamERP, ops.Window{FromSeq: 1})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	rep, err := ops.SandboxReplay(ctx, live, schemas.StreamERP, sel, ops.SandboxReplayOptions{
		Sandbox: ops.SandboxOptions{Environ: environ, LogOutput: &syncWriter{w: &logs}},
		Replay:  ops.ReplayOptions{RunID: "sb2"}, Quiet: 300 * time.Millisecond, Timeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	t.Logf("services %v, skipped %v, consumers %v, odoo refused %v", rep.Services, rep.Skipped, rep.Consumers, rep.OdooRefused)
	var out bytes.Buffer
	ops.PrintSandboxReport(&out, rep, 150, false)
	t.Log("\n" + out.String())
	if n := odoo.Calls("crm.lead.create"); n != 0 || odoo.Count("crm.lead") != leadsBefore {
		t.Fatalf("Odoo got %d crm.lead.create calls (leads %d → %d)", n, leadsBefore, odoo.Count("crm.lead"))
	}
	if len(slack.Calls()) != 0 {
		t.Fatalf("Slack called: %+v", slack.Calls())
	}
	if contains(rep.Services, "erp") {
		// The erp service answered the command, with a failure.
		if len(rep.Diffs) != 1 || len(rep.Diffs[0].Lines) != 1 {
			t.Fatalf("diff %+v", rep.Diffs)
		}
		res := rep.Diffs[0].Lines[0].Sandbox
		if res == nil || res.Type != schemas.TypeERPResult || !strings.Contains(res.Data, `"ok":false`) || !strings.Contains(res.Data, "refused: sandbox (read-only)") {
			t.Fatalf("sandbox erp result %+v", res)
		}
	}
	if streamLastSeq(t, live, schemas.StreamERP) != 1 {
		t.Fatal("the live MARIA_ERP grew")
	}
}

func compared(lines []ops.DiffLine) []ops.DiffLine {
	var out []ops.DiffLine
	for _, l := range lines {
		if l.Mark != ops.MarkContext {
			out = append(out, l)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

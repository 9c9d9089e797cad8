package ops_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/cmd/maria/smoke"
)

// smokeConfig points `maria smoke` at a demo environment: its real ingress
// over HTTP, its Slack simulator, its secrets.
func smokeConfig(e *demo.Env, timeout time.Duration) smoke.Config {
	return smoke.Config{IngressURL: "http://" + e.HTTPAddr, Channel: demo.ScriptChannel, User: demo.ScriptUser,
		SigningSecret: e.Vars["SLACK_SIGNING_SECRET"], BotToken: e.Vars["SLACK_BOT_TOKEN"], APIURL: e.Slack.URL(),
		AppID: demo.AppID, Timeout: timeout, PollEvery: 50 * time.Millisecond}
}

// The smoke check passes against ingress, ai and egress running as
// separate services: the signed mention comes back as Maria's help in the
// anchor's thread. With egress stopped the reply waits in MARIA_OUT and
// the check fails with that reason; a wrong signing secret fails on
// ingress' 401. Egress back: the queued reply reaches the thread.
func TestSmokePassesAndFailsWithTheReason(t *testing.T) {
	e, err := demo.Start(ctxT(t), demo.Options{DataDir: t.TempDir(), Split: true, SettleTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)

	res, err := smoke.Run(context.Background(), smokeConfig(e, 30*time.Second))
	if err != nil {
		t.Fatalf("smoke against a healthy deployment: %v\n%s", err, e.Slack.Transcript())
	}
	if res.Latency <= 0 || res.EventID == "" || !strings.Contains(strings.ToLower(res.Reply), "odoo") {
		t.Fatalf("result %+v", res)
	}
	replies := threadReplies(e, res.Thread)
	if len(replies) != 1 || replies[0] != res.Reply {
		t.Fatalf("thread %s holds %q, want the one reply\n%s", res.Thread, replies, e.Slack.Transcript())
	}
	t.Logf("healthy: replied in %s", res.Latency)

	bad := smokeConfig(e, 10*time.Second)
	bad.SigningSecret = "not-the-secret"
	if _, err := smoke.Run(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "answered 401") {
		t.Fatalf("wrong signing secret: %v", err)
	}

	if err := e.StopService("egress"); err != nil {
		t.Fatal(err)
	}
	res, err = smoke.Run(context.Background(), smokeConfig(e, 3*time.Second))
	if err == nil {
		t.Fatalf("smoke passed with egress stopped: %+v", res)
	}
	if !strings.Contains(err.Error(), "no reply from Maria") || !strings.Contains(err.Error(), res.Thread) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("reason %q", err)
	}
	t.Logf("egress stopped: %v", err)

	if err := e.StartService(ctxT(t), "egress"); err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, 30*time.Second, func() bool { return len(threadReplies(e, res.Thread)) == 1 },
		"the reply queued while egress was down reaches the thread")
}

// threadReplies lists the texts of the bot's replies in the thread anchor
// of the script channel (the anchor itself excluded).
func threadReplies(e *demo.Env, anchor string) []string {
	var out []string
	for _, m := range e.Slack.Messages(demo.ScriptChannel) {
		if m.ThreadTS == anchor && m.TS != anchor && m.User == demo.BotUserID {
			out = append(out, m.Text)
		}
	}
	return out
}

package ops

import (
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

const secretURL = "https://hooks.slack.com/actions/T1/123/SECRETtoken"

func TestRedactCapabilities(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"action", `{"action_id":"erp_confirm","response_url":"` + secretURL + `","trigger_id":"13345224609.738474920.8088930838d88f008e0"}`,
			`{"action_id":"erp_confirm","response_url":"[redacted]","trigger_id":"[redacted]"}`},
		{"nested envelope", `{"id":"e1","data":{"text":"hi","response_url":"` + secretURL + `"},"n":12345678901234567890}`,
			`{"data":{"response_url":"[redacted]","text":"hi"},"id":"e1","n":12345678901234567890}`},
		{"none", `{"text":"hi"}`, `{"text":"hi"}`},
		{"empty kept", `{"response_url":""}`, `{"response_url":""}`},
		{"not json", `response_url=` + secretURL, `response_url=` + secretURL},
	} {
		if got := string(RedactCapabilities([]byte(c.in), Redacted)); got != c.want {
			t.Errorf("%s: got %s want %s", c.name, got, c.want)
		}
	}
	if got := string(SandboxCapabilities([]byte(`{"response_url":"`+secretURL+`","trigger_id":"x"}`), "http://127.0.0.1:9/api/response_url")); got != `{"response_url":"http://127.0.0.1:9/api/response_url","trigger_id":"[redacted]"}` {
		t.Errorf("sandbox: %s", got)
	}
}

// tail, trace, diff and the dry-run listing show messages through Describe
// and FormatTail: no capability may appear, raw or not.
func TestTailAndDescribeRedactCapabilities(t *testing.T) {
	env, err := schemas.New("", schemas.TypeSlackCommand, "ingress", schemas.SlackCommand{Command: "/maria", Text: "hi",
		ResponseURL: secretURL, TriggerID: "trigger-secret"})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := env.Marshal()
	msg := &nats.Msg{Subject: "maria.in.command.T1.C1", Header: nats.Header{}, Data: body}
	for _, raw := range []bool{false, true} {
		out := FormatTail(msg, time.Now(), TailOptions{Raw: raw, Width: 1000})
		if strings.Contains(out, "SECRETtoken") || strings.Contains(out, "trigger-secret") || !strings.Contains(out, Redacted) {
			t.Errorf("raw=%v: %s", raw, out)
		}
	}
	if in := Describe(msg.Header, body); strings.Contains(in.Data, "SECRET") || !strings.Contains(in.Data, `"text":"hi"`) {
		t.Errorf("describe: %s", in.Data)
	}
	bad := &nats.Msg{Subject: "maria.in.command.T1.C1", Header: nats.Header{}, Data: []byte(`{"response_url":"` + secretURL + `"}`)}
	if out := FormatTail(bad, time.Now(), TailOptions{Width: 1000}); strings.Contains(out, "SECRET") {
		t.Errorf("invalid envelope: %s", out)
	}
}

package ingress

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

func testConfig() Config {
	return Config{SigningSecret: testSecret, APIURL: DefaultAPIURL, MaxBody: 64 << 10, PublishTimeout: 1500 * time.Millisecond,
		UserRate: 0, TeamRate: 0}
}

func startIngress(t *testing.T, cfg Config) (string, *bus.Bus) {
	t.Helper()
	b := bustest.New(t)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	in := New(cfg, b, bustest.Logger(t), nil)
	mux := http.NewServeMux()
	in.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, b
}

type post struct {
	path, contentType string
	body              []byte
	ts                time.Time
	secret            string
	noSig             bool
	retry             int
	method            string
}

func do(t *testing.T, base string, p post) (int, string) {
	t.Helper()
	if p.ts.IsZero() {
		p.ts = time.Now()
	}
	if p.secret == "" {
		p.secret = testSecret
	}
	if p.method == "" {
		p.method = http.MethodPost
	}
	req, err := http.NewRequest(p.method, base+p.path, bytes.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", p.contentType)
	if !p.noSig {
		m := hmac.New(sha256.New, []byte(p.secret))
		fmt.Fprintf(m, "v0:%d:", p.ts.Unix())
		m.Write(p.body)
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(p.ts.Unix(), 10))
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	}
	if p.retry > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(p.retry))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func form(vals map[string]string) []byte {
	f := url.Values{}
	for k, v := range vals {
		f.Set(k, v)
	}
	return []byte(f.Encode())
}

func TestHTTPRejectsBeforePublishing(t *testing.T) {
	base, b := startIngress(t, testConfig())
	mention := readTestdata(t, "app_mention.json")
	cases := []struct {
		name    string
		p       post
		status  int
		outcome string
	}{
		{"no signature", post{path: schemas.SlackPathEvents, contentType: ctJSON, body: mention, noSig: true}, 401, OutcomeBadSignature},
		{"wrong secret", post{path: schemas.SlackPathEvents, contentType: ctJSON, body: mention, secret: "not-the-secret"}, 401, OutcomeBadSignature},
		{"stale timestamp", post{path: schemas.SlackPathEvents, contentType: ctJSON, body: mention, ts: time.Now().Add(-6 * time.Minute)}, 401, OutcomeStale},
		{"future timestamp", post{path: schemas.SlackPathEvents, contentType: ctJSON, body: mention, ts: time.Now().Add(6 * time.Minute)}, 401, OutcomeStale},
		{"oversized body", post{path: schemas.SlackPathEvents, contentType: ctJSON, body: bytes.Repeat([]byte(" "), 65<<10)}, 413, OutcomeTooLarge},
		{"malformed json", post{path: schemas.SlackPathEvents, contentType: ctJSON, body: []byte(`{"type":"event_callback","event_id":`)}, 400, OutcomeBadRequest},
		{"wrong content type", post{path: schemas.SlackPathEvents, contentType: "text/plain", body: mention}, 415, OutcomeBadMedia},
		{"command without command", post{path: schemas.SlackPathCommands, contentType: ctForm, body: form(map[string]string{"team_id": "T1", "user_id": "U1"})}, 400, OutcomeBadRequest},
		{"command as json", post{path: schemas.SlackPathCommands, contentType: ctJSON, body: []byte(`{}`)}, 415, OutcomeBadMedia},
		{"interaction without payload", post{path: schemas.SlackPathInteractions, contentType: ctForm, body: form(map[string]string{"x": "y"})}, 400, OutcomeBadRequest},
		{"interaction bad payload", post{path: schemas.SlackPathInteractions, contentType: ctForm, body: form(map[string]string{"payload": "{"})}, 400, OutcomeBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ep := map[string]string{schemas.SlackPathEvents: EndpointEvents, schemas.SlackPathCommands: EndpointCommands, schemas.SlackPathInteractions: EndpointInteractions}[c.p.path]
			before := testutil.ToFloat64(metricRequests.WithLabelValues(ep, c.outcome))
			status, body := do(t, base, c.p)
			if status != c.status {
				t.Fatalf("status %d (%s), want %d", status, body, c.status)
			}
			if got := testutil.ToFloat64(metricRequests.WithLabelValues(ep, c.outcome)) - before; got != 1 {
				t.Errorf("outcome %s counted %v times", c.outcome, got)
			}
		})
	}
	if status, _ := do(t, base, post{path: schemas.SlackPathEvents, method: http.MethodGet}); status != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", status)
	}
	// Publishing happens before the answer, so once every request is
	// answered nothing can still arrive.
	if n := bustest.StreamMsgs(t, b, schemas.StreamIn) + bustest.StreamMsgs(t, b, schemas.StreamDLQ); n != 0 {
		t.Fatalf("%d messages stored after rejected requests", n)
	}
}

func TestHTTPPublishesAndDedupsRetries(t *testing.T) {
	base, b := startIngress(t, testConfig())
	status, body := do(t, base, post{path: schemas.SlackPathEvents, contentType: ctJSON, body: []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)})
	if status != 200 || body != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("url_verification: %d %q", status, body)
	}
	mention := readTestdata(t, "app_mention.json")
	for retry := 0; retry <= 3; retry++ {
		if status, body := do(t, base, post{path: schemas.SlackPathEvents, contentType: ctJSON, body: mention, retry: retry}); status != 200 {
			t.Fatalf("retry %d: %d %s", retry, status, body)
		}
	}
	if n := bustest.StreamMsgs(t, b, schemas.StreamIn); n != 1 {
		t.Fatalf("stream holds %d messages after 4 deliveries of one event, want 1", n)
	}
	st, _ := b.JetStream().Stream(context.Background(), schemas.StreamIn)
	raw, err := st.GetLastMsgForSubject(context.Background(), "maria.in.mention.T123ABC456.C123ABC456")
	if err != nil {
		t.Fatal(err)
	}
	env, err := schemas.Decode(raw.Data)
	if err != nil || env.ID != "Ev123ABC456" || raw.Header.Get(schemas.HeaderMsgID) != "Ev123ABC456" || env.Type != schemas.TypeSlackMention {
		t.Fatalf("stored %+v (%v)", env, err)
	}
	// Own messages are acknowledged and not stored.
	if status, _ := do(t, base, post{path: schemas.SlackPathEvents, contentType: ctJSON, body: readTestdata(t, "message_own_bot.json")}); status != 200 {
		t.Fatalf("own message: %d", status)
	}
	if n := bustest.StreamMsgs(t, b, schemas.StreamIn); n != 1 {
		t.Fatalf("own message stored: %d messages", n)
	}
}

func TestHTTPBusDownAnswers503(t *testing.T) {
	cfg := testConfig()
	cfg.PublishTimeout = 300 * time.Millisecond
	base, b := startIngress(t, cfg)
	b.StopEmbeddedServer()
	before := testutil.ToFloat64(metricRequests.WithLabelValues(EndpointEvents, OutcomeUnavailable))
	status, _ := do(t, base, post{path: schemas.SlackPathEvents, contentType: ctJSON, body: readTestdata(t, "app_mention.json")})
	if status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", status)
	}
	if testutil.ToFloat64(metricRequests.WithLabelValues(EndpointEvents, OutcomeUnavailable))-before != 1 {
		t.Error("unavailable not counted")
	}
	// A command with the bus down is not acknowledged either.
	status, _ = do(t, base, post{path: schemas.SlackPathCommands, contentType: ctForm, body: form(map[string]string{
		"command": "/maria", "team_id": "T1", "user_id": "U1", "channel_id": "C1", "text": "hi", "trigger_id": "1.2.3"})})
	if status != http.StatusServiceUnavailable {
		t.Fatalf("command: status %d, want 503", status)
	}
}

func TestHTTPRateLimitDeadLetters(t *testing.T) {
	cfg := testConfig()
	cfg.UserRate, cfg.UserBurst = 1, 1
	cfg.TeamRate, cfg.TeamBurst = 1, 3
	base, b := startIngress(t, cfg)
	dlq := bustest.Subscribe(t, b, schemas.DLQSubject(schemas.StreamIn, DLQRateLimited))
	cmd := func(user, trigger string) (int, string) {
		return do(t, base, post{path: schemas.SlackPathCommands, contentType: ctForm, body: form(map[string]string{
			"command": "/maria", "team_id": "T1", "user_id": user, "channel_id": "C1", "text": "hi", "trigger_id": trigger})})
	}
	if st, _ := cmd("U1", "t1"); st != 200 {
		t.Fatalf("first command: %d", st)
	}
	before := testutil.ToFloat64(metricRateLimited.WithLabelValues("user"))
	st, body := cmd("U1", "t2")
	if st != 200 || !strings.Contains(body, `"ephemeral"`) {
		t.Fatalf("limited command: %d %q, want 200 with an ephemeral notice", st, body)
	}
	if testutil.ToFloat64(metricRateLimited.WithLabelValues("user"))-before != 1 {
		t.Error("user limit not counted")
	}
	// Other users share the workspace budget (burst 3): U2, U3 pass, U4 is refused.
	for _, u := range []string{"U2", "U3"} {
		if st, _ := cmd(u, "t-"+u); st != 200 {
			t.Fatalf("%s: %d", u, st)
		}
	}
	if st, _ := cmd("U4", "t-U4"); st != 200 {
		t.Fatalf("U4: %d", st)
	}
	if n := bustest.StreamMsgs(t, b, schemas.StreamIn); n != 3 {
		t.Fatalf("MARIA_IN holds %d commands, want 3 (U1, U2, U3)", n)
	}
	bustest.Eventually(t, 5*time.Second, func() bool { return len(dlq()) == 2 }, "two dead letters (U1's second, U4)")
	msgs := dlq()
	dl := bus.ParseDeadLetter(msgs[0].Header, msgs[0].Data)
	if !strings.HasPrefix(dl.Reason, "rate limited: user U1") || dl.Subject != "maria.in.command.T1.C1" || dl.Stream != schemas.StreamIn {
		t.Errorf("dead letter %+v", dl)
	}
	env, err := schemas.Decode(dl.Data)
	if err != nil || env.User != "U1" || dl.Header.Get(schemas.HeaderMsgID) != env.ID {
		t.Errorf("dead-lettered envelope %+v (%v)", env, err)
	}
	dl2 := bus.ParseDeadLetter(msgs[1].Header, msgs[1].Data)
	if !strings.HasPrefix(dl2.Reason, "rate limited: team T1") {
		t.Errorf("second reason %q", dl2.Reason)
	}
	// A Slack retry of a refused delivery is recorded once.
	if st, _ := cmd("U1", "t2"); st != 200 {
		t.Fatal(st)
	}
	if n := bustest.StreamMsgs(t, b, schemas.StreamDLQ); n != 2 {
		t.Fatalf("DLQ holds %d, want 2", n)
	}
}

func TestHTTPEveryKindLandsOnItsSubject(t *testing.T) {
	base, b := startIngress(t, testConfig())
	all := bustest.Subscribe(t, b, schemas.SubjectInAll)
	files := map[string][]string{
		"app_mention.json":                      {"maria.in.mention.T123ABC456.C123ABC456"},
		"message_im.json":                       {"maria.in.message.T123ABC456.D024BE91L"},
		"message_changed.json":                  {"maria.in.message.T123ABC456.C123ABC456"},
		"message_file_share.json":               {"maria.in.message.T123ABC456.C123ABC456", "maria.in.file.T123ABC456.C123ABC456", "maria.in.file.T123ABC456.C123ABC456"},
		"file_shared.json":                      nil, // announced by the message carrying the file
		"reaction_added.json":                   {"maria.in.reaction.T123ABC456.C123ABC456"},
		"assistant_thread_started.json":         {"maria.in.assistant.T123ABC456.D123ABC456"},
		"assistant_thread_context_changed.json": {"maria.in.assistant.T123ABC456.D123ABC456"},
	}
	want := 0
	for f, subjects := range files {
		if st, body := do(t, base, post{path: schemas.SlackPathEvents, contentType: ctJSON, body: readTestdata(t, f)}); st != 200 {
			t.Fatalf("%s: %d %s", f, st, body)
		}
		want += len(subjects)
	}
	payload, _ := json.Marshal(json.RawMessage(readTestdata(t, "block_actions.json")))
	if st, body := do(t, base, post{path: schemas.SlackPathInteractions, contentType: ctForm, body: form(map[string]string{"payload": string(payload)})}); st != 200 {
		t.Fatalf("interaction: %d %s", st, body)
	}
	if st, body := do(t, base, post{path: schemas.SlackPathCommands, contentType: ctForm, body: form(map[string]string{
		"command": "/maria", "team_id": "T123ABC456", "user_id": "U1", "channel_id": "C123ABC456", "text": "hi", "trigger_id": "1.2.3"})}); st != 200 {
		t.Fatalf("command: %d %s", st, body)
	}
	want += 2
	bustest.Eventually(t, 5*time.Second, func() bool { return len(all()) == want }, "%d events", want)
	got := map[string]int{}
	for _, m := range all() {
		got[m.Subject]++
	}
	exp := map[string]int{"maria.in.action.T123ABC456.C123ABC456": 1, "maria.in.command.T123ABC456.C123ABC456": 1}
	for _, subjects := range files {
		for _, s := range subjects {
			exp[s]++
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("subjects:\n got  %v\n want %v", got, exp)
	}
}

func TestHTTPRefusesForeignWorkspaces(t *testing.T) {
	cfg := testConfig()
	cfg.AllowedTeams = []string{"T0ONLYUS"} // the testdata payloads come from T123ABC456
	base, b := startIngress(t, cfg)
	before := testutil.ToFloat64(metricRefused.WithLabelValues(RefusedTeam))

	// The Request URL handshake names no team and still works.
	status, body := do(t, base, post{path: schemas.SlackPathEvents, contentType: ctJSON, body: []byte(`{"token":"x","challenge":"c-1","type":"url_verification"}`)})
	if status != 200 || body != "c-1" {
		t.Fatalf("url_verification: %d %q", status, body)
	}
	if status, body = do(t, base, post{path: schemas.SlackPathEvents, contentType: ctJSON, body: readTestdata(t, "app_mention.json")}); status != http.StatusForbidden {
		t.Fatalf("event of a foreign team: %d %q, want 403", status, body)
	}
	for _, p := range []post{
		{path: schemas.SlackPathCommands, contentType: ctForm, body: form(map[string]string{"command": "/maria", "team_id": "T123ABC456", "user_id": "U1", "channel_id": "C1", "text": "hi"})},
		{path: schemas.SlackPathInteractions, contentType: ctForm, body: form(map[string]string{"payload": string(readTestdata(t, "block_actions.json"))})},
	} {
		status, body := do(t, base, p)
		var answer map[string]any
		if status != 200 || json.Unmarshal([]byte(body), &answer) != nil || answer["response_type"] != "ephemeral" || answer["text"] != refusedReply {
			t.Fatalf("%s of a foreign team: %d %q, want 200 with an ephemeral %q", p.path, status, body, refusedReply)
		}
	}
	if got := testutil.ToFloat64(metricRefused.WithLabelValues(RefusedTeam)) - before; got != 3 {
		t.Errorf("refused{team} counted %v, want 3", got)
	}
	if n := bustest.StreamMsgs(t, b, schemas.StreamIn) + bustest.StreamMsgs(t, b, schemas.StreamDLQ); n != 0 {
		t.Fatalf("%d messages stored for refused deliveries", n)
	}
}

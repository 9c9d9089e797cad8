package security

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
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/cmd/maria/app"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nkeys"
	"github.com/prometheus/client_golang/prometheus"
)

// syncBuffer is a log sink shared by every goroutine of the process.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// upstreams is one loopback server standing in for Slack, OpenAI and Odoo,
// answering every call with the realistic failure for bad credentials, so
// the services exercise their error paths (where secrets tend to leak).
func upstreams(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/xmlrpc") || strings.HasPrefix(r.URL.Path, "/json"):
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte(`<?xml version="1.0"?><methodResponse><fault><value><struct>` +
				`<member><name>faultCode</name><value><int>3</int></value></member>` +
				`<member><name>faultString</name><value><string>Access Denied</string></value></member>` +
				`</struct></value></fault></methodResponse>`))
		case strings.Contains(r.URL.Path, "chat/completions") || strings.Contains(r.URL.Path, "/responses") || strings.Contains(r.URL.Path, "/models"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			// OpenAI echoes a masked key, never the key.
			_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided: sk-SEC***xyz.","type":"invalid_request_error","code":"invalid_api_key"}}`))
		case strings.HasSuffix(r.URL.Path, "/auth.test"):
			// The token "works" so that services verifying it at start run;
			// every other call is refused.
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"ok":true,"url":"https://t1.slack.test/","team":"T","user":"maria","team_id":"T1","user_id":"UMARIA","bot_id":"B1"}`))
		default: // Slack Web API
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// credsFile writes a NATS user credentials file (JWT + nkey seed) and
// returns its path and the secret seed inside.
func credsFile(t *testing.T) (string, string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	jwt := "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJzZWNyZXQiOiJTRUNSRVQtSldULUNMQUlNUyJ9.U0VDUkVULXNpZ25hdHVyZQ"
	content := fmt.Sprintf("-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n", jwt, seed)
	p := filepath.Join(t.TempDir(), "maria.creds")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, string(seed)
}

// secretEnv is a full configuration with a distinct secret in every
// credential variable. secrets lists the values that must never be logged.
func secretEnv(t *testing.T, upstream string) (map[string]string, map[string]string) {
	t.Helper()
	creds, seed := credsFile(t)
	secrets := map[string]string{
		"SLACK_BOT_TOKEN":       "xoxb-SECRET-bot-7c1d2e3f4a5b",
		"SLACK_SIGNING_SECRET":  "SECRET-signing-9f8e7d6c5b4a",
		"OPENAI_API_KEY":        "sk-SECRET-openai-0a1b2c3d4e5f",
		"ODOO_PASSWORD":         "SECRET-odoo-pw-6a7b8c9d",
		"AWS_SECRET_ACCESS_KEY": "SECRET-aws-wJalrXUtnFEMI-K7MDENG",
		"AWS_SESSION_TOKEN":     "SECRET-aws-session-FwoGZXIvYXdz",
		"NATS_CREDS (seed)":     seed,
		// A person's Odoo login and API key, typed into the "Connect your
		// Odoo account" modal (never published, never logged).
		"Odoo API key (connect modal)": odooAPIKey,
		"Odoo login (connect modal)":   odooLogin,
	}
	env := map[string]string{
		"MARIA_HTTP_ADDR":      "127.0.0.1:0",
		"MARIA_DATA_DIR":       t.TempDir(),
		"MARIA_NATS_LISTEN":    "-",
		"MARIA_LOG_LEVEL":      "trace", // the most verbose level must not leak either
		"NATS_CREDS":           creds,
		"SLACK_API_URL":        upstream + "/api/",
		"OPENAI_BASE_URL":      upstream + "/v1",
		"OPENAI_MODEL":         "gpt-test",
		"ODOO_URL":             upstream,
		"ODOO_DB":              "maria",
		"ODOO_USERNAME":        "admin",
		"AWS_ACCESS_KEY_ID":    "AKIAEXAMPLEID",
		"AWS_REGION":           "eu-west-1",
		"MARIA_AI_TIMEOUT":     "5s",
		"MARIA_AI_MAX_RETRIES": "0",
	}
	for k, v := range secrets {
		if !strings.Contains(k, " ") {
			env[k] = v
		}
	}
	return env, secrets
}

// startable returns the registered services that build with env — all of
// them once their configuration can be satisfied offline; a service whose
// factory rejects this configuration is reported and left out.
func startable(t *testing.T, env map[string]string) []string {
	t.Helper()
	ok, skipped := app.Probe(context.Background(), app.Services(), env, t.TempDir, io.Discard)
	for name, err := range skipped {
		t.Logf("service %s not started with the offline configuration: %v", name, err)
	}
	return ok
}

// What a person types into the connect modal (TestSecretsNeverLogged).
const (
	odooAPIKey = "SECRET-odoo-apikey-4e1f9c2b7a"
	odooLogin  = "SECRET-login-marc@example.com"
)

// connectSubmission is the connect modal's view_submission, form-encoded.
func connectSubmission() string {
	payload, _ := json.Marshal(map[string]any{
		"type": "view_submission", "team": map[string]any{"id": "T1"}, "user": map[string]any{"id": "U1", "team_id": "T1"},
		"api_app_id": "A1", "trigger_id": "1.1700000000.abc",
		"view": map[string]any{"id": "V1", "type": "modal", "callback_id": schemas.ERPConnectCallbackID, "state": map[string]any{"values": map[string]any{
			schemas.ERPConnectLoginBlock: map[string]any{schemas.ERPConnectLoginInput: map[string]any{"type": "plain_text_input", "value": odooLogin}},
			schemas.ERPConnectKeyBlock:   map[string]any{schemas.ERPConnectKeyInput: map[string]any{"type": "plain_text_input", "value": odooAPIKey}},
		}}}})
	return url.Values{"payload": {string(payload)}}.Encode()
}

// signed builds a Slack Events API request signed with secret.
func signed(t *testing.T, base, secret, body string) *http.Request {
	t.Helper()
	return signedTo(t, base+"/slack/events", "application/json", secret, body)
}

// signedTo builds a Slack request to url signed with secret.
func signedTo(t *testing.T, url, contentType, secret, body string) *http.Request {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return req
}

// TestSecretsNeverLogged runs every service that can start offline with a
// secret in each credential, drives traffic through the happy and the
// failing paths (bad signatures, upstreams rejecting the credentials,
// malformed events, dead letters), and greps everything logged for every
// secret.
func TestSecretsNeverLogged(t *testing.T) {
	up := upstreams(t)
	env, secrets := secretEnv(t, up.URL)
	services := startable(t, env)
	if len(services) == 0 {
		t.Fatal("no service starts with the offline configuration")
	}
	t.Logf("services under test: %v (registered: %v)", services, app.Services())

	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	r, err := app.Start(ctx, app.Options{Services: services, Env: config.NewEnvFrom(env), LogOutput: &logs, HTTPReady: addrc})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			_ = r.Wait()
		}
	}()
	base := "http://" + <-addrc

	// Inbound traffic straight on the bus: a thanks (example → egress), a
	// question (ai → OpenAI rejects the key), a file (storage → Slack
	// rejects the token), and garbage (dead-lettered).
	bctx, bcancel := context.WithTimeout(ctx, 10*time.Second)
	defer bcancel()
	for i, c := range []struct {
		kind, typ string
		data      any
	}{
		{schemas.KindMessage, schemas.TypeSlackMessage, schemas.SlackMessage{TS: "1700000000.000100", Text: "thanks Maria!"}},
		{schemas.KindMention, schemas.TypeSlackMention, schemas.SlackMessage{TS: "1700000000.000200", Text: "<@UMARIA> status of S00042?", Mentioned: true}},
		{schemas.KindFile, schemas.TypeSlackFile, schemas.SlackFileShared{TS: "1700000000.000400", File: schemas.SlackFile{ID: "F1", Name: "a.png", Mimetype: "image/png", URLPrivate: up.URL + "/files/a.png", Size: 10}}},
	} {
		env, err := schemas.New(fmt.Sprintf("Ev-secret-%d", i), c.typ, "ingress", c.data)
		if err != nil {
			t.Fatal(err)
		}
		env.Team, env.Channel, env.User, env.ThreadTS = "T1", "C1", "U1", "1700000000.000100"
		if _, err := r.Bus.Publish(bctx, schemas.InSubject(c.kind, "T1", "C1"), env); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Bus.Conn().Request("maria.in.message.T1.C1", []byte("{not json"), 2*time.Second); err != nil {
		t.Logf("garbage publish: %v", err)
	}
	// A command for egress, which Slack (the stub) refuses.
	post, _ := schemas.New("out-secret-1", schemas.TypeOutPost, "ai", schemas.OutPost{Text: "hello"})
	post.Team, post.Channel, post.ThreadTS = "T1", "C1", "1700000000.000100"
	if _, err := r.Bus.Publish(bctx, schemas.OutSubject("T1", "C1"), post); err != nil {
		t.Fatal(err)
	}

	// The connect submission below needs the erp service's identity
	// endpoint up (a loaded machine starts it late).
	if slices.Contains(services, "erp") {
		bustest.Eventually(t, 20*time.Second, func() bool {
			_, err := r.Bus.Conn().Request(schemas.SubjectERPIdentity, []byte(`{"op":"status","team":"T1","user":"U1"}`), time.Second)
			return err == nil
		}, "the erp identity endpoint")
	}

	// HTTP: a badly signed and a correctly signed Slack event (if ingress runs).
	client := &http.Client{Timeout: 5 * time.Second}
	event := `{"type":"event_callback","team_id":"T1","api_app_id":"A1","event_id":"Ev-http-1","event_time":1700000000,` +
		`"event":{"type":"app_mention","user":"U1","text":"<@UMARIA> hi","ts":"1700000000.000300","channel":"C1"}}`
	for _, req := range []*http.Request{
		signed(t, base, "wrong-secret", event),
		signed(t, base, env["SLACK_SIGNING_SECRET"], event),
		signed(t, base, env["SLACK_SIGNING_SECRET"], `{"type":"event_callback","event":`),
		// The connect modal: ingress seals the key and hands it to erp,
		// which tries it with Odoo (the stub refuses it).
		signedTo(t, base+schemas.SlackPathInteractions, "application/x-www-form-urlencoded", env["SLACK_SIGNING_SECRET"], connectSubmission()),
	} {
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if resp, err := client.Get(base + p); err == nil {
			resp.Body.Close()
		}
	}

	// Let the pipeline work: every consumer has received everything and no
	// handler is running (scheduled retries have had their first attempt).
	waitIdle(t, r.Bus)
	assertNoSecretsInStreams(t, r.Bus, secrets)
	cancel()
	stopped = true
	_ = r.Wait()

	out := logs.String()
	if !strings.Contains(out, `"level"`) {
		t.Fatal("nothing was logged: the test would prove nothing")
	}
	assertNoSecrets(t, "logs", out, secrets)
	if slices.Contains(services, "ingress") && slices.Contains(services, "erp") && !strings.Contains(out, "odoo account refused at connect") {
		t.Error("the connect modal's key never reached the erp service: the check proves nothing about it")
	}
	if p := os.Getenv("MARIA_TEST_LOG_FILE"); p != "" {
		_ = os.WriteFile(p, []byte(out), 0o600)
	}
	if testing.Verbose() {
		t.Logf("%d bytes of logs checked", len(out))
	}
}

// assertNoSecretsInStreams reads every message of every stream (KV
// buckets included) looking for the secrets.
func assertNoSecretsInStreams(t *testing.T, b *bus.Bus, secrets map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n := 0
	for name := range b.JetStream().StreamNames(ctx).Name() {
		st, err := b.JetStream().Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
			m, err := st.GetMsg(ctx, seq)
			if err != nil {
				continue // deleted
			}
			n++
			assertNoSecrets(t, "stream "+name+" ("+m.Subject+")", string(m.Data), secrets)
		}
	}
	if n == 0 {
		t.Fatal("no stream message read: the check would prove nothing")
	}
}

func assertNoSecrets(t *testing.T, where, text string, secrets map[string]string) {
	t.Helper()
	for name, v := range secrets {
		if v == "" {
			continue
		}
		if i := strings.Index(text, v); i >= 0 {
			lo, hi := max(0, i-200), min(len(text), i+len(v)+50)
			t.Errorf("%s contain %s: …%s…", where, name, text[lo:hi])
		}
		// Also the URL-escaped form (a secret inside a logged URL).
		if esc := url.QueryEscape(v); esc != v && strings.Contains(text, esc) {
			t.Errorf("%s contain %s (URL-escaped)", where, name)
		}
	}
}

// TestConfigErrorsDoNotEchoSecrets starts every registered service with
// configurations that are invalid in ways a secret sits next to: the error
// returned (printed by `maria run` on exit) must name the problem, never the
// secret.
func TestConfigErrorsDoNotEchoSecrets(t *testing.T) {
	_, secrets := secretEnv(t, "http://127.0.0.1:1")
	cases := map[string]map[string]string{
		// Credentials inside URLs are secrets too.
		"urls with credentials": {
			"SLACK_API_URL":   "ftp://maria:" + secrets["SLACK_BOT_TOKEN"] + "@slack.test/api/",
			"OPENAI_BASE_URL": "http://user:" + secrets["OPENAI_API_KEY"] + "@[::1",
			"ODOO_URL":        "ftp://admin:" + secrets["ODOO_PASSWORD"] + "@odoo",
		},
		"nats url with password": {
			"NATS_URL": "nats://maria:" + secrets["ODOO_PASSWORD"] + "@127.0.0.1:1",
		},
		// Secrets of the wrong kind or shape must be rejected without quoting them.
		"wrong token kinds": {
			"SLACK_BOT_TOKEN": "xapp-" + secrets["SLACK_BOT_TOKEN"],
			"SLACK_APP_TOKEN": "xoxb-" + secrets["SLACK_BOT_TOKEN"],
		},
		"secrets with whitespace and quotes": {
			"SLACK_BOT_TOKEN":      secrets["SLACK_BOT_TOKEN"] + " \"x\"",
			"SLACK_SIGNING_SECRET": "\t" + secrets["SLACK_SIGNING_SECRET"] + "\n",
			"OPENAI_API_KEY":       secrets["OPENAI_API_KEY"] + "\n",
		},
		"missing partners of secrets": {
			"ODOO_URL":        "",
			"OPENAI_BASE_URL": "not-a-url",
			"MARIA_STORAGE":   "aws",
		},
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			env, _ := secretEnv(t, "http://127.0.0.1:1")
			for k, v := range bad {
				env[k] = v
			}
			var logs syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r, err := app.Start(ctx, app.Options{Env: config.NewEnvFrom(env), LogOutput: &logs})
			if err == nil {
				cancel()
				_ = r.Wait()
				t.Logf("configuration accepted")
			} else {
				assertNoSecrets(t, "the start error", err.Error(), secrets)
			}
			assertNoSecrets(t, "logs", logs.String(), secrets)
		})
	}
}

// waitIdle waits until no consumer of Maria's streams has undelivered
// messages and no handler is in flight (maria_processor_in_flight == 0).
func waitIdle(t *testing.T, b *bus.Bus) {
	t.Helper()
	ctx := context.Background()
	bustest.Eventually(t, 30*time.Second, func() bool {
		for _, spec := range schemas.Streams {
			s, err := b.JetStream().Stream(ctx, spec.Name)
			if err != nil {
				return false
			}
			names := s.ConsumerNames(ctx)
			for n := range names.Name() {
				c, err := s.Consumer(ctx, n)
				if err != nil {
					return false
				}
				info, err := c.Info(ctx)
				if err != nil || info.NumPending > 0 {
					return false
				}
			}
		}
		mfs, err := prometheus.DefaultGatherer.Gather()
		if err != nil {
			return false
		}
		for _, mf := range mfs {
			if mf.GetName() == "maria_processor_in_flight" {
				for _, m := range mf.GetMetric() {
					if m.GetGauge().GetValue() != 0 {
						return false
					}
				}
			}
		}
		return true
	}, "pipeline idle")
}

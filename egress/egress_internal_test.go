package egress

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/schemas"
	"github.com/slack-go/slack"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// A rate-limited first command holds its thread: the second is nak'd until
// after the first's retry, even when it arrives first on redelivery.
func TestGateKeepsThreadOrder(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	g := newGate(time.Minute)
	g.now = c.now
	if _, ok := g.admit("k", "C1", 1); !ok {
		t.Fatal("first command blocked")
	}
	g.rateLimited("C1", 30*time.Second)
	g.retry("k", 1, 30*time.Second, false)

	d2, ok := g.admit("k", "C1", 2)
	if ok || d2 <= 30*time.Second {
		t.Fatalf("second command: ok=%v delay=%s, want held past 30s", ok, d2)
	}
	d3, ok := g.admit("k", "C1", 3)
	if ok || d3 <= d2 {
		t.Fatalf("third command delay %s not after second's %s", d3, d2)
	}
	// Another thread of the same channel waits for the channel, not for k.
	if d, ok := g.admit("other", "C1", 4); ok || d < 30*time.Second {
		t.Fatalf("same channel other thread: ok=%v d=%s", ok, d)
	}
	// Another channel is free.
	if _, ok := g.admit("free", "C2", 5); !ok {
		t.Fatal("other channel blocked")
	}

	c.t = c.t.Add(31 * time.Second)
	// 3 comes back before 2: still held by 2.
	if _, ok := g.admit("k", "C1", 3); ok {
		t.Fatal("3 overtook 2")
	}
	if _, ok := g.admit("k", "C1", 1); !ok {
		t.Fatal("1 blocked after its Retry-After")
	}
	g.done("k", 1)
	if _, ok := g.admit("k", "C1", 3); ok {
		t.Fatal("3 overtook 2 after 1 was done")
	}
	if _, ok := g.admit("k", "C1", 2); !ok {
		t.Fatal("2 blocked after 1 was done")
	}
	g.done("k", 2)
	if _, ok := g.admit("k", "C1", 3); !ok {
		t.Fatal("3 blocked after 2 was done")
	}
}

// Entries of messages this replica will never see again expire.
func TestGateExpires(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	g := newGate(time.Minute)
	g.now = c.now
	g.retry("k", 1, time.Second, true)
	if _, ok := g.admit("k", "C", 2); ok {
		t.Fatal("not held")
	}
	c.t = c.t.Add(2 * time.Minute)
	g.done("k", 2)
	if _, ok := g.admit("k", "C", 3); !ok {
		t.Fatal("expired entry still holds the lane")
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		kind errKind
		code string
	}{
		{&slack.RateLimitedError{RetryAfter: 3 * time.Second}, kindRateLimited, "rate_limited"},
		{slack.StatusCodeError{Code: 503, Status: "503"}, kindAmbiguous, "http_503"},
		{slack.StatusCodeError{Code: 404, Status: "404"}, kindPermanent, "http_404"},
		{slack.StatusCodeError{Code: http.StatusTooManyRequests}, kindRateLimited, "http_429"},
		{slack.SlackErrorResponse{Err: "channel_not_found"}, kindPermanent, "channel_not_found"},
		{slack.SlackErrorResponse{Err: "internal_error"}, kindTransient, "internal_error"},
		{slack.SlackErrorResponse{Err: "some_new_code"}, kindPermanent, "some_new_code"},
		{context.DeadlineExceeded, kindAmbiguous, ""},
	}
	for _, c := range cases {
		se := classify("chat.postMessage", c.err)
		if se.Kind != c.kind || se.Code != c.code {
			t.Errorf("%v: kind %d code %q, want %d %q", c.err, se.Kind, se.Code, c.kind, c.code)
		}
	}
	if se := classify("x", &slack.RateLimitedError{}); se.RetryAfter < time.Second {
		t.Errorf("zero Retry-After not floored: %s", se.RetryAfter)
	}
}

func TestConfig(t *testing.T) {
	env := config.NewEnvFrom(map[string]string{})
	LoadConfig(env)
	if err := env.Err(); err == nil {
		t.Fatal("missing token accepted")
	}
	env = config.NewEnvFrom(map[string]string{"MARIA_EGRESS_DRY_RUN": "true", "SLACK_API_URL": "http://127.0.0.1:9/api"})
	c := LoadConfig(env)
	if err := env.Err(); err != nil {
		t.Fatalf("dry run without token: %v", err)
	}
	if c.APIURL != "http://127.0.0.1:9/api/" {
		t.Errorf("APIURL %q lacks the trailing slash slack-go needs", c.APIURL)
	}
	// Claims are renewed during the call, so the stale timeout need not
	// outlast it; but renewals every quarter of it must stay sparse.
	env = config.NewEnvFrom(map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "MARIA_EGRESS_IDEMPOTENCY_STALE": "5s", "MARIA_EGRESS_SLACK_TIMEOUT": "10s"})
	if c := LoadConfig(env); env.Err() != nil || c.IdempotencyStale != 5*time.Second {
		t.Errorf("stale 5s with a 10-s call timeout: %v (stale %s)", env.Err(), c.IdempotencyStale)
	}
	env = config.NewEnvFrom(map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "MARIA_EGRESS_IDEMPOTENCY_STALE": "200ms"})
	LoadConfig(env)
	if err := env.Err(); err == nil || !strings.Contains(err.Error(), "MARIA_EGRESS_IDEMPOTENCY_STALE") {
		t.Errorf("a 200-ms stale timeout: %v, want refused", err)
	}
	env = config.NewEnvFrom(map[string]string{"SLACK_BOT_TOKEN": "secret-not-a-token"})
	LoadConfig(env)
	if err := env.Err(); err == nil {
		t.Error("malformed token accepted")
	} else if strings.Contains(err.Error(), "secret-not-a-token") {
		t.Error("token value leaked into the error")
	}
}

func TestOrderKey(t *testing.T) {
	env, _ := schemas.New("", schemas.TypeOutPost, "t", schemas.OutPost{Text: "x", ThreadTS: "1.2"})
	env.Team, env.Channel = "T", "C"
	if k := orderKey(env); k != "T/C/1.2" {
		t.Errorf("payload thread key %q", k)
	}
	env.ThreadTS = "9.9"
	if k := orderKey(env); k != "T/C/9.9" {
		t.Errorf("envelope thread key %q", k)
	}
}

func TestResponseURLAllowed(t *testing.T) {
	e := &Egress{cfg: Config{APIURL: "http://127.0.0.1:4000/api/"}}
	for u, ok := range map[string]bool{
		"https://hooks.slack.com/commands/T/1/x": true,
		"http://127.0.0.1:4000/respond/R1":       true,
		"http://hooks.slack.com/commands/x":      false,
		"https://evil.example/slack.com":         false,
		"https://slack.com.evil.example/":        false,
	} {
		if err := e.responseURLAllowed(u); (err == nil) != ok {
			t.Errorf("%s: err=%v", u, err)
		}
	}
}

func TestBackoffGrows(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n <= 12; n++ {
		d := backoffDelay(n)
		if d <= 0 || d > 72*time.Second {
			t.Fatalf("attempt %d: %s", n, d)
		}
		if n <= 4 && d < prev/2 {
			t.Fatalf("attempt %d: %s after %s", n, d, prev)
		}
		prev = d
	}
	if !errors.Is(&slackErr{Err: context.Canceled}, context.Canceled) {
		t.Error("slackErr does not unwrap")
	}
}

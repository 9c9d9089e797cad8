package ingress

import (
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/config"
)

func TestLoadConfig(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"nothing set", map[string]string{}, "SLACK_SIGNING_SECRET"},
		{"http only", map[string]string{"SLACK_SIGNING_SECRET": "s"}, ""},
		{"socket only", map[string]string{"SLACK_APP_TOKEN": "xapp-1-A-1-x"}, ""},
		{"app token of the wrong kind", map[string]string{"SLACK_APP_TOKEN": "xoxb-1"}, "xapp-"},
		{"bot token of the wrong kind", map[string]string{"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xapp-1"}, "xoxb-"},
		{"bad api url", map[string]string{"SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "slack"}, "SLACK_API_URL"},
		{"api url with credentials", map[string]string{"SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "ftp://u:xoxb-SECRET@h/api/"}, "SLACK_API_URL=\"ftp://u:xxxxx@h/api/\""},
		{"publish timeout past slack's deadline", map[string]string{"SLACK_SIGNING_SECRET": "s", "MARIA_INGRESS_PUBLISH_TIMEOUT": "3s"}, "PUBLISH_TIMEOUT"},
		{"allow-lists", map[string]string{"SLACK_SIGNING_SECRET": "s", "MARIA_ALLOWED_TEAMS": "T0AAA, T0BBB", "MARIA_ALLOWED_ENTERPRISES": "E0ORG", "MARIA_ALLOWED_APP_IDS": "A0APP"}, ""},
		{"team id of the wrong kind", map[string]string{"SLACK_SIGNING_SECRET": "s", "MARIA_ALLOWED_TEAMS": "T0AAA,E0ORG"}, `MARIA_ALLOWED_TEAMS: "E0ORG"`},
		{"lower-case enterprise id", map[string]string{"SLACK_SIGNING_SECRET": "s", "MARIA_ALLOWED_ENTERPRISES": "e0org"}, "MARIA_ALLOWED_ENTERPRISES"},
		{"app id of the wrong kind", map[string]string{"SLACK_SIGNING_SECRET": "s", "MARIA_ALLOWED_APP_IDS": "T0AAA"}, "MARIA_ALLOWED_APP_IDS"},
		{"lookup and publish past slack's deadline", map[string]string{"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1",
			"MARIA_INGRESS_PUBLISH_TIMEOUT": "2s", "MARIA_INGRESS_USER_LOOKUP_TIMEOUT": "1s"}, "USER_LOOKUP_TIMEOUT"},
		{"buffer smaller than one body", map[string]string{"SLACK_SIGNING_SECRET": "s", "MARIA_INGRESS_MAX_BUFFERED_BYTES": "4096"}, "MAX_BUFFERED_BYTES"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := config.NewEnvFrom(c.env)
			_, err := LoadConfig(env)
			if c.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("err = %v, want one naming %s", err, c.wantErr)
			}
		})
	}
	env := config.NewEnvFrom(map[string]string{"SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://127.0.0.1:9/api",
		"MARIA_INGRESS_MAX_BODY": "2048", "MARIA_INGRESS_USER_RATE": "5", "MARIA_INGRESS_TEAM_RATE": "0"})
	c, err := LoadConfig(env)
	if err != nil || env.Err() != nil {
		t.Fatal(err, env.Err())
	}
	if c.APIURL != "http://127.0.0.1:9/api/" || c.MaxBody != 2048 || c.UserRate != 5 || c.TeamRate != 0 || c.PublishTimeout != 2*time.Second {
		t.Fatalf("%+v", c)
	}
	if c.UserLookupTimeout != DefaultUserLookupTimeout || c.UserCacheTTL != DefaultUserCacheTTL || c.MaxInflightBodies != DefaultMaxInflightBodies ||
		c.MaxBufferedBytes != DefaultMaxBufferedBytes || len(c.AllowedTeams) != 0 {
		t.Fatalf("defaults: %+v", c)
	}
	// Every bad entry is reported at once.
	_, err = LoadConfig(config.NewEnvFrom(map[string]string{"SLACK_SIGNING_SECRET": "s", "MARIA_ALLOWED_TEAMS": "x,T0OK,y", "MARIA_ALLOWED_APP_IDS": "z"}))
	for _, want := range []string{`"x"`, `"y"`, `"z"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
	env = config.NewEnvFrom(map[string]string{"SLACK_SIGNING_SECRET": "s", "MARIA_INGRESS_MAX_BODY": "lots"})
	if _, err := LoadConfig(env); err != nil || env.Err() == nil {
		t.Fatal("unparseable MARIA_INGRESS_MAX_BODY not reported")
	}
}

func TestKeyedLimiter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newKeyedLimiter(60, 2) // one per second, burst 2
	l.now = func() time.Time { return now }
	for i, want := range []bool{true, true, false} {
		if got := l.allow("a"); got != want {
			t.Fatalf("take %d: allowed=%v, want %v (burst 2)", i+1, got, want)
		}
	}
	if !l.allow("b") {
		t.Fatal("keys share a bucket")
	}
	now = now.Add(time.Second)
	if !l.allow("a") || l.allow("a") {
		t.Fatal("refill of one per second not honoured")
	}
	now = now.Add(time.Hour)
	l.allow("c")
	if _, ok := l.buckets["a"]; ok {
		t.Fatal("idle bucket not forgotten")
	}
	disabled := newKeyedLimiter(0, 5)
	for range 100 {
		if !disabled.allow("x") {
			t.Fatal("rate 0 must disable the limit")
		}
	}
}

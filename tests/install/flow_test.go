package install

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/installs"
)

var hrefRe = regexp.MustCompile(`href="([^"]+oauth/v2/authorize[^"]*)"`)

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// start opens the install page in c and returns its "Add to Slack" link.
func (r *rig) start(c *http.Client) string {
	r.t.Helper()
	resp, body := get(r.t, c, r.srv.URL+"/slack/install")
	m := hrefRe.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		r.t.Fatalf("install page %d: %s", resp.StatusCode, body)
	}
	return html.UnescapeString(m[1])
}

// approve is the user choosing a workspace (extra: team=… or
// enterprise=…) and clicking Allow at Slack; it returns the redirect.
func (r *rig) approve(authorize, extra string) string {
	r.t.Helper()
	resp, _ := get(r.t, browser(), authorize+"&"+extra)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, r.srv.URL) {
		r.t.Fatalf("authorize answered %d → %q", resp.StatusCode, loc)
	}
	return loc
}

func (r *rig) installTeam(team string) installs.Record {
	r.t.Helper()
	c := browser()
	resp, body := get(r.t, c, r.approve(r.start(c), "team="+team))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Maria is installed") {
		r.t.Fatalf("redirect page %d: %s", resp.StatusCode, body)
	}
	rec, err := r.store.Find(context.Background(), team)
	if err != nil {
		r.t.Fatal(err)
	}
	return rec
}

func TestInstall(t *testing.T) {
	r := newRig(t)
	authorize := r.start(browser())
	u, _ := url.Parse(authorize)
	if got := u.Query().Get("scope"); !strings.Contains(got, "chat:write") || !strings.Contains(got, "app_mentions:read") {
		t.Fatalf("scopes asked: %q", got)
	}
	rec := r.installTeam("T0ACME")
	if !strings.HasPrefix(rec.BotToken, "xoxe.xoxb-") || rec.BotRefreshToken == "" || r.sim.TeamOfToken(rec.BotToken) != "T0ACME" {
		t.Fatalf("stored token %q (refresh set: %v) of team %q", rec.BotToken, rec.BotRefreshToken != "", r.sim.TeamOfToken(rec.BotToken))
	}
	if d := time.Until(rec.BotTokenExpiresAt); d < 11*time.Hour || d > 12*time.Hour {
		t.Fatalf("token expires in %s, want about 12h", d)
	}
	if rec.InstallerUserID == "" || len(rec.BotScopes) == 0 || rec.TeamName != "Acme" {
		t.Fatalf("installation %+v", rec.Installation)
	}
}

// Every way the state can be wrong is refused before the code is spent.
func TestInstallStateRefused(t *testing.T) {
	r := newRig(t)
	exchanges := func() int { return len(r.sim.CallsTo("oauth.v2.access")) }
	tests := []struct {
		name string
		run  func(t *testing.T) (*http.Response, string)
		want string
	}{
		{"another browser", func(t *testing.T) (*http.Response, string) {
			return get(t, browser(), r.approve(r.start(browser()), "team=T0BETA"))
		}, "not started in this browser"},
		{"forged state", func(t *testing.T) (*http.Response, string) {
			c := browser()
			loc := r.approve(r.start(c), "team=T0BETA")
			return get(t, c, strings.Replace(loc, "state=", "state=x", 1))
		}, "does not match"},
		{"expired", func(t *testing.T) (*http.Response, string) {
			c := browser()
			loc := r.approve(r.start(c), "team=T0BETA")
			r.handler.Now = func() time.Time { return time.Now().Add(r.cfg.StateTTL + time.Minute) }
			defer func() { r.handler.Now = time.Now }()
			return get(t, c, loc)
		}, "took too long"},
		{"replayed by the same browser", func(t *testing.T) (*http.Response, string) {
			c := browser()
			loc := r.approve(r.start(c), "team=T0BETA")
			cookies := c.Jar.Cookies(mustURL(r.srv.URL + "/slack/"))
			if resp, _ := get(t, c, loc); resp.StatusCode != http.StatusOK {
				t.Fatalf("first use answered %d", resp.StatusCode)
			}
			c.Jar.SetCookies(mustURL(r.srv.URL+"/slack/"), cookies) // the cookie kept aside
			return get(t, c, loc)
		}, "already used"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := exchanges()
			resp, body := tc.run(t)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) {
				t.Fatalf("answered %d: %s; want 400 saying %q", resp.StatusCode, body, tc.want)
			}
			if tc.name != "replayed by the same browser" && exchanges() != before {
				t.Fatal("the code was exchanged although the state was refused")
			}
		})
	}
	// A cancelled consent installs nothing.
	c := browser()
	resp, body := get(t, c, r.approve(r.start(c), "team=T0ACME&deny=1"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "cancelled") {
		t.Fatalf("cancel page %d: %s", resp.StatusCode, body)
	}
	if _, err := r.store.Find(context.Background(), "T0ACME"); !errors.Is(err, installs.ErrNotInstalled) {
		t.Fatalf("cancelled install stored: %v", err)
	}
}

// An org-wide install is kept under the organization and serves each of
// its workspaces once ingress has linked them.
func TestOrgWideInstall(t *testing.T) {
	r := newRig(t)
	c := browser()
	resp, body := get(t, c, r.approve(r.start(c), "enterprise=E0ORG"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "E0ORG") {
		t.Fatalf("redirect page %d: %s", resp.StatusCode, body)
	}
	ctx := context.Background()
	rec, err := r.store.FindEnterprise(ctx, "E0ORG")
	if err != nil || !rec.IsEnterpriseInstall || rec.TeamID != "" {
		t.Fatalf("org install %+v, %v", rec.Installation, err)
	}
	lc := &installs.Lifecycle{Store: r.store}
	if err := lc.Seen(ctx, "T0GRID", "E0ORG"); err != nil {
		t.Fatal(err)
	}
	tokens := &installs.Tokens{Store: r.store}
	tok, err := tokens.BotToken(ctx, "T0GRID")
	if err != nil || tok != rec.BotToken {
		t.Fatalf("token of a workspace of the organization: %v", err)
	}
	if err := lc.Uninstalled(ctx, "T0GRID", "E0ORG", true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.store.FindEnterprise(ctx, "E0ORG"); !errors.Is(err, installs.ErrNotInstalled) {
		t.Fatalf("org install after uninstall: %v", err)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

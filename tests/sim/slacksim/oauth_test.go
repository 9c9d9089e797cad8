package slacksim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func post(t *testing.T, s *Sim, method, token string, form url.Values) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+method, nil)
	req.URL.RawQuery = form.Encode()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// install walks the authorize page and exchanges the code.
func install(t *testing.T, s *Sim, team string) map[string]any {
	t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {"cid"}, "scope": {"chat:write"}, "redirect_uri": {"https://maria.test/slack/oauth_redirect"}, "state": {"st"}, "team": {team}}
	resp, err := noFollow.Get(s.AuthorizeURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect %s", loc)
	}
	form := url.Values{"client_id": {"cid"}, "client_secret": {"secret"}, "code": {loc.Query().Get("code")}, "redirect_uri": {q.Get("redirect_uri")}}
	out := post(t, s, "oauth.v2.access", "", form)
	if out["ok"] != true {
		t.Fatalf("exchange: %v", out)
	}
	if again := post(t, s, "oauth.v2.access", "", form); again["error"] != "invalid_code" {
		t.Fatalf("code reused: %v", again)
	}
	return out
}

func TestOAuthWorkspaces(t *testing.T) {
	s := New("xoxb-own")
	defer s.Close()
	s.EnableOAuth(OAuthApp{ClientID: "cid", ClientSecret: "secret", TokenLifetime: 12 * time.Hour})
	s.AddWorkspace(Workspace{TeamID: "T1", TeamName: "One"})
	s.AddWorkspace(Workspace{TeamID: "T2", TeamName: "Two"})
	s.AssignChannel("C1", "T1")
	s.AssignChannel("C2", "T2")
	one, two := install(t, s, "T1"), install(t, s, "T2")
	tok1, tok2 := one["access_token"].(string), two["access_token"].(string)

	tests := []struct {
		name, token, channel, wantErr string
	}{
		{"own channel", tok1, "C1", ""},
		{"other team's channel", tok1, "C2", "channel_not_found"},
		{"second team", tok2, "C2", ""},
		{"refresh token is no access token", one["refresh_token"].(string), "C1", "invalid_auth"},
	}
	for _, tc := range tests {
		out := post(t, s, "chat.postMessage", tc.token, url.Values{"channel": {tc.channel}, "text": {"hi"}})
		if got, _ := out["error"].(string); got != tc.wantErr {
			t.Errorf("%s: error %q, want %q", tc.name, got, tc.wantErr)
		}
	}
	if at := post(t, s, "auth.test", tok2, nil); at["team_id"] != "T2" {
		t.Fatalf("auth.test with T2's token: %v", at)
	}
	refresh := url.Values{"client_id": {"cid"}, "client_secret": {"secret"}, "grant_type": {"refresh_token"}, "refresh_token": {one["refresh_token"].(string)}}
	r := post(t, s, "oauth.v2.access", "", refresh)
	if r["ok"] != true || r["access_token"] == tok1 {
		t.Fatalf("refresh: %v", r)
	}
	if again := post(t, s, "oauth.v2.access", "", refresh); again["error"] != "invalid_refresh_token" {
		t.Fatalf("refresh token reused: %v", again)
	}
	if s.RefreshCount() != 1 {
		t.Fatalf("RefreshCount = %d", s.RefreshCount())
	}
	s.Revoke("T1")
	if out := post(t, s, "chat.postMessage", r["access_token"].(string), url.Values{"channel": {"C1"}, "text": {"hi"}}); out["error"] != "invalid_auth" {
		t.Fatalf("revoked token: %v", out)
	}
}

package slacksim

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The simulator as several workspaces Maria can be installed in: an
// authorize page (what Slack's /oauth/v2/authorize does once the user
// clicked "Allow"), oauth.v2.access (code exchange and token refresh, with
// rotation: a refresh token works once) and, on every API call, the bearer
// token checked against the workspace the call is about — so a call made
// with another workspace's token fails like it does at Slack.

// Workspace is a simulated Slack workspace (or, with EnterpriseID, one of a
// Grid organization's).
type Workspace struct {
	TeamID, TeamName string
	EnterpriseID     string
	BotUserID, BotID string
}

// OAuthApp configures the simulated app's OAuth.
type OAuthApp struct {
	ClientID, ClientSecret string
	// RedirectURI, when set, must match the redirect_uri of a request.
	RedirectURI string
	// TokenLifetime > 0 turns token rotation on: tokens expire after it and
	// come with a refresh token (Slack: 12 h).
	TokenLifetime time.Duration
}

type issuedToken struct {
	team, enterprise string // enterprise set: an org-wide token
	expires          time.Time
	refresh          bool // a refresh token, not an access token
}

type grant struct {
	team, enterprise, user, scope, redirect string
	orgWide                                 bool
}

type oauthState struct {
	app        OAuthApp
	workspaces map[string]Workspace // team → workspace
	channels   map[string]string    // channel → team
	tokens     map[string]issuedToken
	codes      map[string]grant
}

func (s *Sim) oauthLocked() *oauthState {
	if s.oauth == nil {
		s.oauth = &oauthState{workspaces: map[string]Workspace{}, channels: map[string]string{},
			tokens: map[string]issuedToken{}, codes: map[string]grant{}}
	}
	return s.oauth
}

// EnableOAuth makes the simulator an OAuth provider for app.
func (s *Sim) EnableOAuth(app OAuthApp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthLocked().app = app
}

// AddWorkspace declares a workspace Maria can be installed in.
func (s *Sim) AddWorkspace(w Workspace) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthLocked().workspaces[w.TeamID] = w
}

// AssignChannel puts channel in team: calls about it must then carry a
// token of that team (or of its organization's org-wide install).
func (s *Sim) AssignChannel(channel, team string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthLocked().channels[channel] = team
}

// AuthorizeURL is the simulator's /oauth/v2/authorize (SLACK_OAUTH_AUTHORIZE_URL).
func (s *Sim) AuthorizeURL() string { return s.srv.URL + "/oauth/v2/authorize" }

// Revoke ends every token of team (or of an organization's org-wide
// install, given its enterprise id), as uninstalling the app does.
func (s *Sim) Revoke(teamOrEnterprise string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.oauthLocked()
	for tok, it := range o.tokens {
		if it.team == teamOrEnterprise || it.enterprise == teamOrEnterprise {
			delete(o.tokens, tok)
		}
	}
}

// TeamOfToken names the workspace a token was issued for ("" if none).
func (s *Sim) TeamOfToken(token string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.oauthLocked().tokens[token].team
}

// authorize answers the authorize page as if the user chose the workspace
// given by ?team= (or the organization by ?enterprise=, an org-wide
// install) and clicked Allow: a redirect to redirect_uri with a code and
// the state untouched. ?deny=1 is the user clicking Cancel.
func (s *Sim) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	o := s.oauthLocked()
	call := Call{Method: "oauth.authorize", Params: q, Status: http.StatusFound, At: time.Now()}
	g := grant{team: q.Get("team"), enterprise: q.Get("enterprise"), user: q.Get("user"), scope: q.Get("scope"), redirect: q.Get("redirect_uri")}
	if g.user == "" {
		g.user = "U0INSTALLER"
	}
	var errCode string
	ws, known := o.workspaces[g.team]
	switch {
	case q.Get("client_id") != o.app.ClientID || o.app.ClientID == "":
		errCode = "invalid_client_id"
	case g.redirect == "" || o.app.RedirectURI != "" && g.redirect != o.app.RedirectURI:
		errCode = "bad_redirect_uri"
	case q.Get("deny") != "":
		errCode = "access_denied"
	case g.enterprise != "":
		g.orgWide, g.team = true, ""
	case !known:
		errCode = "unknown_team"
	default:
		g.enterprise = ws.EnterpriseID
	}
	call.Error = errCode
	code := ""
	if errCode == "" {
		code = "code-" + randomHex()
		o.codes[code] = g
	}
	s.record(call)
	s.mu.Unlock()
	if errCode == "bad_redirect_uri" || errCode == "invalid_client_id" {
		http.Error(w, errCode, http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}}
	if code != "" {
		back.Set("code", code)
	} else {
		back.Set("error", errCode)
	}
	http.Redirect(w, r, g.redirect+"?"+back.Encode(), http.StatusFound)
}

// oauthAccess is oauth.v2.access, called with s.mu held.
func (s *Sim) oauthAccess(p url.Values) (reply, string) {
	o := s.oauthLocked()
	if o.app.ClientID == "" || p.Get("client_id") != o.app.ClientID {
		return nil, "invalid_client_id"
	}
	if p.Get("client_secret") != o.app.ClientSecret {
		return nil, "bad_client_secret"
	}
	if p.Get("grant_type") == "refresh_token" {
		it, ok := o.tokens[p.Get("refresh_token")]
		if !ok || !it.refresh {
			return nil, "invalid_refresh_token"
		}
		delete(o.tokens, p.Get("refresh_token")) // a refresh token works once
		access, refresh, expiresIn := s.issue(o, it.team, it.enterprise)
		return reply{"access_token": access, "token_type": "bot", "refresh_token": refresh, "expires_in": expiresIn,
			"team": reply{"id": it.team}, "enterprise": enterpriseJSON(it.enterprise)}, ""
	}
	g, ok := o.codes[p.Get("code")]
	if !ok {
		return nil, "invalid_code"
	}
	delete(o.codes, p.Get("code")) // a code works once
	if p.Get("redirect_uri") != g.redirect {
		return nil, "bad_redirect_uri"
	}
	access, refresh, expiresIn := s.issue(o, g.team, orgToken(g))
	ws := o.workspaces[g.team]
	if ws.BotUserID == "" {
		ws.BotUserID, ws.BotID = BotUserID, BotID
	}
	out := reply{"access_token": access, "token_type": "bot", "scope": g.scope, "bot_user_id": ws.BotUserID,
		"app_id": "A0MARIASIM", "team": nil, "enterprise": enterpriseJSON(g.enterprise), "is_enterprise_install": g.orgWide,
		"authed_user": reply{"id": g.user}}
	if !g.orgWide {
		out["team"] = reply{"id": g.team, "name": ws.TeamName}
	}
	if refresh != "" {
		out["refresh_token"], out["expires_in"] = refresh, expiresIn
	}
	return out, ""
}

func orgToken(g grant) string {
	if g.orgWide {
		return g.enterprise
	}
	return ""
}

func enterpriseJSON(id string) any {
	if id == "" {
		return nil
	}
	return reply{"id": id}
}

// issue makes a bot token (and, with rotation, its refresh token) for a
// team or, with enterprise, an org-wide install.
func (s *Sim) issue(o *oauthState, team, enterprise string) (access, refresh string, expiresIn int) {
	owner := team
	if enterprise != "" {
		owner = enterprise
	}
	it := issuedToken{team: team, enterprise: enterprise}
	access = "xoxb-" + owner + "-" + randomHex()
	if o.app.TokenLifetime > 0 {
		access = "xoxe.xoxb-" + owner + "-" + randomHex()
		it.expires = time.Now().Add(o.app.TokenLifetime)
		refresh = "xoxe-1-" + owner + "-" + randomHex()
		o.tokens[refresh] = issuedToken{team: team, enterprise: enterprise, refresh: true}
		expiresIn = int(o.app.TokenLifetime / time.Second)
	}
	o.tokens[access] = it
	return access, refresh, expiresIn
}

// authorizeCall checks a call's token (s.mu held): the simulator's own bot
// token always works; an issued token works until it expires or is
// revoked, and only for channels of its own team (or organization).
// It returns the Slack error code and the token's team.
func (s *Sim) authorizeCall(token, channel string) (team, code string) {
	if token == s.token && token != "" {
		return "", ""
	}
	o := s.oauthLocked()
	it, ok := o.tokens[token]
	switch {
	case !ok || it.refresh:
		return "", "invalid_auth"
	case !it.expires.IsZero() && time.Now().After(it.expires):
		return it.team, "token_expired"
	}
	if owner, assigned := o.channels[channel]; assigned && channel != "" {
		ws := o.workspaces[owner]
		if owner != it.team && (it.enterprise == "" || ws.EnterpriseID != it.enterprise) {
			return it.team, "channel_not_found"
		}
		return owner, ""
	}
	return it.team, ""
}

// authTest answers auth.test for the workspace of an issued token.
func (s *Sim) authTest(team string) reply {
	ws := s.oauthLocked().workspaces[team]
	if ws.BotUserID == "" {
		ws.BotUserID, ws.BotID = BotUserID, BotID
	}
	return reply{"url": "https://" + strings.ToLower(team) + ".slack.test/", "team": ws.TeamName, "user": BotName,
		"team_id": team, "user_id": ws.BotUserID, "bot_id": ws.BotID, "enterprise_id": ws.EnterpriseID}
}

// RefreshCount is how many token refreshes oauth.v2.access answered.
func (s *Sim) RefreshCount() int {
	n := 0
	for _, c := range s.CallsTo("oauth.v2.access") {
		if c.Params.Get("grant_type") == "refresh_token" && c.OK() {
			n++
		}
	}
	return n
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

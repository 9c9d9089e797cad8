package demo

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"time"

	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/ingress/install"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

// Multi-workspace mode (Options.MultiWorkspace): Maria runs as an app that
// any workspace installs through Slack's OAuth flow — SLACK_CLIENT_ID and
// SLACK_CLIENT_SECRET set, no SLACK_BOT_TOKEN — and the Slack simulator is
// the OAuth provider. A workspace talks to Maria only once an admin of it
// installed her (InstallWorkspace); each workspace's calls then carry its
// own token, which the simulator checks.

// SecondTeam is the workspace `maria demo --second-workspace` installs
// besides the demo's own.
var SecondTeam = slacksim.Workspace{TeamID: "T0GLOBEX", TeamName: "Globex"}

// enableOAuth switches vars to multi-workspace mode and makes the
// simulator the OAuth provider of a generated app. The redirect URL must
// be known before ingress listens, so a free loopback port is chosen for it
// when o names none (or port 0).
func (e *Env) enableOAuth(vars map[string]string, o *Options) error {
	if _, port, _ := net.SplitHostPort(o.HTTPAddr); port == "" || port == "0" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("demo: a port for ingress: %w", err)
		}
		o.HTTPAddr = ln.Addr().String()
		_ = ln.Close()
	}
	app := slacksim.OAuthApp{ClientID: "1000000000." + randomHex(12), ClientSecret: randomHex(32),
		RedirectURI: "http://" + o.HTTPAddr + install.PathRedirect}
	e.Slack.EnableOAuth(app)
	e.Slack.AddWorkspace(slacksim.Workspace{TeamID: Team, TeamName: "Maria demo"})
	delete(vars, "SLACK_BOT_TOKEN")
	vars["SLACK_CLIENT_ID"], vars["SLACK_CLIENT_SECRET"] = app.ClientID, app.ClientSecret
	vars["SLACK_OAUTH_AUTHORIZE_URL"] = e.Slack.AuthorizeURL()
	vars["SLACK_REDIRECT_URI"] = app.RedirectURI
	return nil
}

var authorizeHref = regexp.MustCompile(`href="([^"]+/oauth/v2/authorize[^"]*)"`)

// InstallWorkspace installs Maria in ws as its admin does, in one browser:
// open ingress' /slack/install, follow "Add to Slack" to the simulator's
// consent page, choose ws and allow, and come back to /slack/oauth_redirect,
// which stores the installation. It returns the Events API sender of that
// workspace (its events signed like every other, naming ws).
func (e *Env) InstallWorkspace(ctx context.Context, ws slacksim.Workspace) (*slackevents.Client, error) {
	if e.Vars["SLACK_CLIENT_ID"] == "" {
		return nil, errors.New("demo: installing a workspace needs Options.MultiWorkspace")
	}
	if ws.TeamID != Team {
		e.Slack.AddWorkspace(ws)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status, _, body, err := visit(ctx, browser, "http://"+e.HTTPAddr+install.PathInstall)
	m := authorizeHref.FindStringSubmatch(body)
	if err != nil || status != http.StatusOK || m == nil {
		return nil, fmt.Errorf("install page: %d %v", status, err)
	}
	// At Slack: the admin picks the workspace and clicks Allow.
	status, next, _, err := visit(ctx, browser, html.UnescapeString(m[1])+"&team="+ws.TeamID)
	if err != nil || status != http.StatusFound {
		return nil, fmt.Errorf("consent page: %d %v", status, err)
	}
	status, _, body, err = visit(ctx, browser, next)
	if err != nil || status != http.StatusOK || !strings.Contains(body, "Maria is installed") {
		return nil, fmt.Errorf("install of %s: %d %v", ws.TeamID, status, err)
	}
	c := *e.Events
	c.Team = ws.TeamID
	return &c, nil
}

// visit GETs u; it returns the status, the redirect's target and the body.
func visit(ctx context.Context, c *http.Client, u string) (int, string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header.Get("Location"), string(body), err
}

// TurnOf is the correlation id ingress gave the envelope id (a Delivery's
// ID), read back from MARIA_IN: callers need not know how ingress derives
// it.
func (e *Env) TurnOf(ctx context.Context, envelopeID string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		corr := ""
		err := ops.Scan(ctx, e.Observer.JetStream(), schemas.StreamIn, ops.Window{}, ops.ScanOptions{}, func(s ops.Stored) (bool, error) {
			if env, err := schemas.Decode(s.Data); err == nil && env.ID == envelopeID {
				corr = env.CorrelationID
				return false, nil
			}
			return true, nil
		})
		if err != nil || corr != "" {
			return corr, err
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("envelope %s never reached %s: %w", envelopeID, schemas.StreamIn, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// installOwn installs Maria in the demo's own workspace, first thing in
// multi-workspace mode: nothing of it is served before.
func (e *Env) installOwn(ctx context.Context, p Printer) error {
	p.Heading("Maria as an app any workspace installs (--second-workspace)")
	p.Printf("  no SLACK_BOT_TOKEN: SLACK_CLIENT_ID/SECRET set, the Slack simulator is the OAuth provider\n")
	if _, err := e.InstallWorkspace(ctx, slacksim.Workspace{TeamID: Team, TeamName: "Maria demo"}); err != nil {
		p.Fail("the demo's workspace could not install Maria: %v", err)
		return err
	}
	p.OK("the demo's workspace %s installed Maria: /slack/install → Allow at Slack → /slack/oauth_redirect", Team)
	return nil
}

// showSecondWorkspace is the act of `maria demo --second-workspace`:
// another workspace installs Maria through the same OAuth flow and asks a
// question, answered with its own token.
func (e *Env) showSecondWorkspace(ctx context.Context, p Printer) error {
	ws := SecondTeam
	p.Heading(fmt.Sprintf("A second workspace, %s (%s), installs Maria and asks", ws.TeamName, ws.TeamID))
	p.Printf("  its admin opens http://%s%s, clicks Add to Slack, allows at Slack and comes back to %s\n", e.HTTPAddr, install.PathInstall, install.PathRedirect)
	c, err := e.InstallWorkspace(ctx, ws)
	if err != nil {
		p.Fail("install: %v", err)
		return err
	}
	p.OK("%s installed Maria: its own bot token, sealed in the installation store", ws.TeamName)
	calls := len(e.Slack.Calls())
	text := c.MentionText(QuestionOrder)
	ts := e.Slack.AddUserMessage(ScriptChannel, ScriptUser, text, "")
	p.Said("  "+ws.TeamName+" › "+ScriptUser+" ›", p.Mrkdwn().Message(text, nil))
	d, err := c.Event(ctx, slackevents.AppMentionEvent(ws.TeamID, ScriptChannel, ScriptUser, text, ts, ""))
	if err = e.send("app_mention", d, err); err != nil {
		p.Fail("%v", err)
		return err
	}
	turn, err := e.TurnOf(ctx, d.ID)
	if err == nil {
		_, err = e.Settle(ctx, turn, Answered)
	}
	if err != nil {
		p.Fail("no answer in %s: %v", ws.TeamName, err)
		return err
	}
	for _, m := range e.Slack.Thread(ScriptChannel, ts) {
		if m.BotID == slacksim.BotID {
			p.Said("  "+ws.TeamName+" › maria ›", p.Mrkdwn().Message(m.Text, m.Blocks))
		}
	}
	own, other := 0, 0
	for _, call := range e.Slack.Calls()[calls:] {
		switch {
		case !call.OK() || call.Channel != ScriptChannel:
		case call.Team == ws.TeamID:
			own++
		default:
			other++
		}
	}
	if own == 0 || other > 0 {
		err := fmt.Errorf("%d Slack calls with %s's token, %d with another's", own, ws.TeamName, other)
		p.Fail("%v", err)
		return err
	}
	p.OK("answered in %s with %s's own token (%d Slack calls), from memory and settings of its own", ws.TeamName, ws.TeamName, own)
	return nil
}

package security

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/ingress"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/promtest"
	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

const (
	ingressSecret = "security-signing-secret-0123456789"
	ingressBot    = "xoxb-security-ingress-bot"
	orgID         = "E0MARIAORG"
	partnerTeam   = "T0PARTNER"
)

// ingressUnderTest is the real ingress on a loopback HTTP listener, over
// an embedded JetStream, asking users.info of the Slack simulator.
type ingressUnderTest struct {
	bus   *bus.Bus
	slack *slacksim.Sim
	url   string
	in    *ingress.Ingress
}

func startIngress(t *testing.T, cfg ingress.Config) *ingressUnderTest {
	t.Helper()
	sim := slacksim.New(ingressBot)
	t.Cleanup(sim.Close)
	cfg.SigningSecret, cfg.BotToken, cfg.APIURL = ingressSecret, ingressBot, sim.URL()
	if cfg.PublishTimeout == 0 {
		cfg.PublishTimeout = 2 * time.Second
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b := bustest.New(t)
	in := ingress.New(cfg, b, bustest.Logger(t), nil)
	mux := http.NewServeMux()
	in.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &ingressUnderTest{bus: b, slack: sim, url: srv.URL, in: in}
}

// client acts as Slack delivering for team (and organisation, app).
func (u *ingressUnderTest) client(team, enterprise, app string) *slackevents.Client {
	return &slackevents.Client{BaseURL: u.url, SigningSecret: ingressSecret, Team: team, Enterprise: enterprise, AppID: app}
}

// stored returns the envelope ingress stored under id, waiting for it.
func (u *ingressUnderTest) stored(t *testing.T, id string) *schemas.Envelope {
	t.Helper()
	st, err := u.bus.JetStream().Stream(context.Background(), schemas.StreamIn)
	if err != nil {
		t.Fatal(err)
	}
	var env *schemas.Envelope
	bustest.Eventually(t, 5*time.Second, func() bool {
		info, err := st.Info(context.Background())
		if err != nil {
			return false
		}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
			m, err := st.GetMsg(context.Background(), seq)
			if err != nil || m.Header.Get(schemas.HeaderMsgID) != id {
				continue
			}
			env, err = schemas.Decode(m.Data)
			return err == nil
		}
		return false
	}, "event %s in MARIA_IN", id)
	return env
}

// refusedEverywhere delivers a mention, a slash command and a click from c
// and checks each is refused the way Slack shows it, and counted.
func refusedEverywhere(t *testing.T, u *ingressUnderTest, c *slackevents.Client, reason string) {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{"reason": reason}
	before := promtest.Counter(t, "maria_ingress_refused_total", labels)
	d, err := c.Mention(ctx, "C0SALES", "U0ALICE", "list unpaid invoices", "")
	if err != nil || d.Status != http.StatusForbidden {
		t.Fatalf("mention: %d %q %v, want 403", d.Status, d.Body, err)
	}
	for name, deliver := range map[string]func() (slackevents.Delivery, error){
		"command": func() (slackevents.Delivery, error) {
			return c.Command(ctx, "C0SALES", "U0ALICE", "/maria", "unpaid invoices")
		},
		"click": func() (slackevents.Delivery, error) {
			return c.Click(ctx, "C0SALES", "U0ALICE", "1700000000.000100", "", "erp_confirm", "proposal-1")
		},
	} {
		d, err := deliver()
		var answer map[string]any
		if err != nil || d.Status != http.StatusOK || json.Unmarshal([]byte(d.Body), &answer) != nil ||
			answer["response_type"] != "ephemeral" || answer["text"] != "Maria is not enabled for this workspace." {
			t.Fatalf("%s: %d %q %v, want 200 with the ephemeral refusal", name, d.Status, d.Body, err)
		}
	}
	if got := promtest.Counter(t, "maria_ingress_refused_total", labels) - before; got != 3 {
		t.Errorf("maria_ingress_refused_total{reason=%q} grew by %v, want 3", reason, got)
	}
	// Every answer is given after any publish would have been acknowledged:
	// nothing can still arrive.
	if n := bustest.StreamMsgs(t, u.bus, schemas.StreamIn); n != 0 {
		t.Fatalf("MARIA_IN holds %d messages from refused deliveries", n)
	}
}

func TestIngressRefusesForeignTeam(t *testing.T) {
	u := startIngress(t, ingress.Config{AllowedTeams: []string{slacksim.TeamID}})
	c := u.client("T0INTRUDER", "", "")
	if v, err := c.URLVerification(context.Background(), "challenge-ok"); err != nil || v.Status != 200 || v.Body != "challenge-ok" {
		t.Fatalf("url_verification must still be answered: %+v %v", v, err)
	}
	refusedEverywhere(t, u, c, ingress.RefusedTeam)

	// The allowed team passes, and its member is classified so.
	d, err := u.client(slacksim.TeamID, "", "").Mention(context.Background(), "C0SALES", "U0ALICE", "list unpaid invoices", "")
	if err != nil || d.Status != http.StatusOK {
		t.Fatalf("allowed team: %d %q %v", d.Status, d.Body, err)
	}
	if env := u.stored(t, d.ID); env.Team != slacksim.TeamID || env.UserKind != schemas.UserKindMember || env.UserTeam != slacksim.TeamID {
		t.Fatalf("allowed team's event stored as team %q user_team %q user_kind %q", env.Team, env.UserTeam, env.UserKind)
	}
}

func TestIngressRefusesForeignEnterprise(t *testing.T) {
	u := startIngress(t, ingress.Config{AllowedEnterprises: []string{orgID}})
	refusedEverywhere(t, u, u.client(slacksim.TeamID, "E0OTHERORG", ""), ingress.RefusedEnterprise)
	// A workspace outside any organisation is refused too: the operator allowed one organisation.
	if d, err := u.client(slacksim.TeamID, "", "").Mention(context.Background(), "C0SALES", "U0ALICE", "hi", ""); err != nil || d.Status != http.StatusForbidden {
		t.Fatalf("no enterprise: %d %v, want 403", d.Status, err)
	}
	d, err := u.client(slacksim.TeamID, orgID, "").Mention(context.Background(), "C0SALES", "U0ALICE", "hi", "")
	if err != nil || d.Status != http.StatusOK {
		t.Fatalf("allowed organisation: %d %q %v", d.Status, d.Body, err)
	}
	u.stored(t, d.ID)
}

func TestIngressRefusesForeignApp(t *testing.T) {
	u := startIngress(t, ingress.Config{AllowedApps: []string{slackevents.DefaultAppID}})
	refusedEverywhere(t, u, u.client(slacksim.TeamID, "", "A0IMPOSTOR"), ingress.RefusedApp)
	d, err := u.client(slacksim.TeamID, "", slackevents.DefaultAppID).Mention(context.Background(), "C0SALES", "U0ALICE", "hi", "")
	if err != nil || d.Status != http.StatusOK {
		t.Fatalf("allowed app: %d %q %v", d.Status, d.Body, err)
	}
	u.stored(t, d.ID)
}

// TestIngressClassifiesGuestsAndExternals: the event in MARIA_IN carries
// the kind the AI gates ERP access on.
func TestIngressClassifiesGuestsAndExternals(t *testing.T) {
	u := startIngress(t, ingress.Config{AllowedTeams: []string{slacksim.TeamID}})
	u.slack.AddUser("U0MEMBER", "mia", "Mia Member", "mia@example.com")
	u.slack.AddUserAs("U0GUEST", slacksim.User{Name: "gus", Restricted: true})
	u.slack.AddUserAs("U0SINGLE", slacksim.User{Name: "sid", Restricted: true, UltraRestricted: true})
	u.slack.AddUserAs("U0PARTNER", slacksim.User{Name: "pat", Team: partnerTeam})
	u.slack.AddUserAs("U0OTHERBOT", slacksim.User{Name: "otherbot", Bot: true})
	c := u.client(slacksim.TeamID, "", "")
	c.UserTeams = map[string]string{"U0PARTNER": partnerTeam}
	ctx := context.Background()

	cases := []struct {
		name, user, team, kind string
		deliver                func() (slackevents.Delivery, error)
	}{
		{name: "member", user: "U0MEMBER", team: slacksim.TeamID, kind: schemas.UserKindMember},
		{name: "multi-channel guest", user: "U0GUEST", team: slacksim.TeamID, kind: schemas.UserKindGuest},
		{name: "single-channel guest", user: "U0SINGLE", team: slacksim.TeamID, kind: schemas.UserKindGuest},
		{name: "Slack Connect user", user: "U0PARTNER", team: partnerTeam, kind: schemas.UserKindExternal},
		{name: "another app's bot user", user: "U0OTHERBOT", team: slacksim.TeamID, kind: schemas.UserKindBot},
		{name: "guest's click", user: "U0GUEST", team: slacksim.TeamID, kind: schemas.UserKindGuest, deliver: func() (slackevents.Delivery, error) {
			return c.Click(ctx, "C0SALES", "U0GUEST", "1700000000.000200", "", "erp_confirm", "proposal-2")
		}},
		{name: "Slack Connect user's click", user: "U0PARTNER", team: partnerTeam, kind: schemas.UserKindExternal, deliver: func() (slackevents.Delivery, error) {
			return c.Click(ctx, "C0SALES", "U0PARTNER", "1700000000.000300", "", "erp_confirm", "proposal-3")
		}},
		{name: "guest's slash command", user: "U0GUEST", team: slacksim.TeamID, kind: schemas.UserKindGuest, deliver: func() (slackevents.Delivery, error) {
			return c.Command(ctx, "C0SALES", "U0GUEST", "/maria", "unpaid invoices")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			deliver := tc.deliver
			if deliver == nil {
				deliver = func() (slackevents.Delivery, error) {
					return c.Mention(ctx, "C0SHARED", tc.user, "what do we owe Azure Interior?", "")
				}
			}
			d, err := deliver()
			if err != nil || d.Status != http.StatusOK {
				t.Fatalf("%d %q %v", d.Status, d.Body, err)
			}
			env := u.stored(t, d.ID)
			if env.User != tc.user || env.UserKind != tc.kind || env.UserTeam != tc.team {
				t.Fatalf("stored user %q user_team %q user_kind %q, want %q %q %q", env.User, env.UserTeam, env.UserKind, tc.user, tc.team, tc.kind)
			}
		})
	}
	// A burst of the same users cost no further users.info calls.
	lookups := len(u.slack.CallsTo("users.info"))
	for range 5 {
		if d, err := c.Message(ctx, "C0SHARED", "U0GUEST", "and the invoices?", ""); err != nil || d.Status != http.StatusOK {
			t.Fatalf("%d %v", d.Status, err)
		}
	}
	if n := len(u.slack.CallsTo("users.info")); n != lookups {
		t.Errorf("%d users.info calls for users already classified", n-lookups)
	}
}

// TestIngressGuestLookupFailureIsUnknown: when Slack cannot say who the
// user is, the event is still stored (the user gets an answer) but as
// "unknown", which processors refuse sensitive access to.
func TestIngressGuestLookupFailureIsUnknown(t *testing.T) {
	u := startIngress(t, ingress.Config{})
	u.slack.FailNext("users.info", "ratelimited")
	before := promtest.Counter(t, "maria_ingress_user_lookups_total", map[string]string{"outcome": "error"})
	d, err := u.client(slacksim.TeamID, "", "").Mention(context.Background(), "C0SALES", "U0NEWBIE", "hi", "")
	if err != nil || d.Status != http.StatusOK {
		t.Fatalf("%d %q %v", d.Status, d.Body, err)
	}
	if env := u.stored(t, d.ID); env.UserKind != schemas.UserKindUnknown {
		t.Fatalf("user_kind %q after a failed users.info, want unknown", env.UserKind)
	}
	if promtest.Counter(t, "maria_ingress_user_lookups_total", map[string]string{"outcome": "error"})-before < 1 {
		t.Error("failed lookup not counted")
	}
}

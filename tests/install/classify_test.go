package install

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/installs"
	"github.com/mariahq/maria/ingress"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

const signingSecret = "install-test-signing-secret-0123456789"

// Ingress of two installed workspaces receiving messages at once asks
// users.info for each with that workspace's own token, and a workspace
// without an installation gets no lookup at all (its user stays unknown:
// nothing is granted on another workspace's token).
func TestUsersInfoWithEachWorkspaceToken(t *testing.T) {
	r := newRig(t)
	r.installTeam("T0ACME")
	r.installTeam("T0BETA")
	r.sim.AddUserAs("U0ACME", slacksim.User{Team: "T0ACME"})
	r.sim.AddUserAs("U0BETA", slacksim.User{Team: "T0BETA"})
	r.sim.AddUserAs("U0NONE", slacksim.User{Team: "T0NONE"})

	in := ingress.New(ingress.Config{SigningSecret: signingSecret, APIURL: r.sim.URL(), MaxBody: 256 << 10,
		PublishTimeout: 2 * time.Second, UserLookupTimeout: 2 * time.Second}, r.b, bustest.Logger(t), nil)
	in.SetTokens(&installs.Tokens{Store: r.store, Refresher: r.refresher()})
	mux := http.NewServeMux()
	in.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	got := bustest.Subscribe(t, r.b, "maria.in.>")

	users := map[string]string{"T0ACME": "U0ACME", "T0BETA": "U0BETA", "T0NONE": "U0NONE"}
	const n = 5
	var wg sync.WaitGroup
	for team, user := range users {
		c := &slackevents.Client{BaseURL: srv.URL, SigningSecret: signingSecret, Team: team}
		wg.Go(func() {
			for i := range n {
				// The same channel id in every workspace: nothing may be
				// keyed by it alone.
				if _, err := c.Message(context.Background(), "C0SAME", user, "hello "+string(rune('a'+i)), ""); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	bustest.Eventually(t, 20*time.Second, func() bool { return len(got()) >= 3*n }, "events published: %d", len(got()))

	kinds := map[string]map[string]int{}
	for _, m := range got() {
		env, err := schemas.Decode(m.Data)
		if err != nil || env.User == "" {
			continue
		}
		if users[env.Team] != env.User {
			t.Errorf("event of %s in team %s", env.User, env.Team)
		}
		if kinds[env.Team] == nil {
			kinds[env.Team] = map[string]int{}
		}
		kinds[env.Team][env.UserKind]++
	}
	for team, want := range map[string]string{"T0ACME": schemas.UserKindMember, "T0BETA": schemas.UserKindMember, "T0NONE": schemas.UserKindUnknown} {
		if kinds[team][want] != n {
			t.Errorf("%s: kinds %v, want %d %s", team, kinds[team], n, want)
		}
	}
	calls := r.sim.CallsTo("users.info")
	if len(calls) == 0 {
		t.Fatal("no users.info call")
	}
	for _, c := range calls {
		user := c.Params.Get("user")
		if want := map[string]string{"U0ACME": "T0ACME", "U0BETA": "T0BETA"}[user]; !c.OK() || c.Team != want {
			t.Errorf("users.info %s with a token of %q (error %q), want %q's", user, c.Team, c.Error, want)
		}
	}
}

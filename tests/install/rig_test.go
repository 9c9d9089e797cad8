// Package install tests Maria installed in several workspaces through
// OAuth against the Slack simulator: the install flow and its state
// checks, org-wide installs, token rotation across replicas, workspaces
// isolated from each other, and uninstalls that stop work.
package install

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/installs"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/mariahq/maria/ingress/install"
	"github.com/mariahq/maria/ingress/install/slackoauth"
	"github.com/mariahq/maria/tests/sim/slacksim"
	"github.com/rs/zerolog"
)

const (
	clientID     = "111.222"
	clientSecret = "client-secret"
)

type rig struct {
	t       *testing.T
	b       *bus.Bus
	sim     *slacksim.Sim
	store   installs.Store
	handler *install.Handler
	srv     *httptest.Server
	cfg     install.Config
}

func ring(t *testing.T) *sealed.Keyring {
	key := make([]byte, sealed.KeySize)
	_, _ = rand.Read(key)
	w, err := sealed.NewLocal("test", key)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := sealed.NewKeyring(w)
	return r
}

// newRig: the simulator with two workspaces (T0ACME, T0BETA) and a Grid
// organization E0ORG (T0GRID), token rotation on; an install flow served
// over HTTP, storing into NATS KV.
func newRig(t *testing.T) *rig {
	t.Helper()
	sim := slacksim.New("xoxb-unused-single-workspace-token")
	t.Cleanup(sim.Close)
	b := bustest.New(t, bustest.Options{NoStreams: false})
	store, err := installs.OpenKV(context.Background(), b.JetStream(), 1, ring(t))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, b: b, sim: sim, store: store}
	mux := http.NewServeMux()
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	r.cfg = install.Config{ClientID: clientID, ClientSecret: clientSecret, Scopes: install.BotScopes,
		AuthorizeURL: sim.AuthorizeURL(), APIURL: sim.URL(), RedirectURI: r.srv.URL + install.PathRedirect}
	if err := r.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sim.EnableOAuth(slacksim.OAuthApp{ClientID: clientID, ClientSecret: clientSecret, RedirectURI: r.cfg.RedirectURI, TokenLifetime: 12 * time.Hour})
	for _, w := range []slacksim.Workspace{{TeamID: "T0ACME", TeamName: "Acme"}, {TeamID: "T0BETA", TeamName: "Beta"},
		{TeamID: "T0GRID", TeamName: "Grid", EnterpriseID: "E0ORG"}} {
		sim.AddWorkspace(w)
	}
	sim.AssignChannel("C0ACME", "T0ACME")
	sim.AssignChannel("C0BETA", "T0BETA")
	r.handler = install.New(r.cfg, store, zerolog.Nop())
	r.handler.Routes(mux)
	return r
}

// browser is one user agent, with its cookies, that does not follow
// redirects (the test walks them to look at each step).
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (r *rig) refresher() *slackoauth.Client {
	return &slackoauth.Client{ClientID: clientID, ClientSecret: clientSecret, APIURL: r.sim.URL()}
}

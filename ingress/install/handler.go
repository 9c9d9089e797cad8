package install

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mariahq/maria/bus/installs"
	"github.com/mariahq/maria/ingress/install/slackoauth"
	"github.com/rs/zerolog"
)

// Handler serves the install flow.
type Handler struct {
	cfg    Config
	store  installs.Store
	oauth  *slackoauth.Client
	states *states
	log    zerolog.Logger
	// Now is the clock (tests move it past a state's expiry).
	Now func() time.Time
}

// New returns the install flow storing installations in store.
func New(cfg Config, store installs.Store, log zerolog.Logger) *Handler {
	h := &Handler{cfg: cfg, store: store, log: log, Now: time.Now,
		oauth: &slackoauth.Client{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, APIURL: cfg.APIURL}}
	h.states = &states{key: cfg.stateKey(), ttl: cfg.StateTTL, now: func() time.Time { return h.Now() }, used: map[string]time.Time{}}
	return h
}

// Routes mounts the two pages on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+PathInstall, h.install)
	mux.HandleFunc("GET "+PathRedirect, h.redirect)
}

// authorizeURL is Slack's consent page for this install.
func (h *Handler) authorizeURL(state string) string {
	q := url.Values{"client_id": {h.cfg.ClientID}, "scope": {strings.Join(h.cfg.Scopes, ",")}, "state": {state}}
	if len(h.cfg.UserScopes) > 0 {
		q.Set("user_scope", strings.Join(h.cfg.UserScopes, ","))
	}
	if h.cfg.RedirectURI != "" {
		q.Set("redirect_uri", h.cfg.RedirectURI)
	}
	return h.cfg.AuthorizeURL + "?" + q.Encode()
}

func (h *Handler) install(w http.ResponseWriter, r *http.Request) {
	state, err := h.states.issue(w, r)
	if err != nil {
		h.page(w, http.StatusInternalServerError, failed, "Maria could not start the install. Try again in a moment.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.page(w, http.StatusOK, addToSlack, h.authorizeURL(state))
}

func (h *Handler) redirect(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	if err := h.states.check(w, r, q.Get("state")); err != nil {
		metricInstalls.WithLabelValues("refused_state").Inc()
		h.log.Warn().Err(err).Msg("install redirect refused")
		h.page(w, http.StatusBadRequest, failed, err.Error())
		return
	}
	if e := q.Get("error"); e != "" || q.Get("code") == "" {
		metricInstalls.WithLabelValues("cancelled").Inc()
		h.page(w, http.StatusOK, failed, "The install was cancelled in Slack ("+firstNonEmpty(e, "no code")+"). Nothing was installed.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	in, err := h.oauth.Exchange(ctx, q.Get("code"), h.cfg.RedirectURI, h.Now())
	if err != nil {
		metricInstalls.WithLabelValues("exchange_failed").Inc()
		h.log.Warn().Err(err).Msg("install: code exchange failed")
		h.page(w, http.StatusBadGateway, failed, "Slack did not confirm the install. Start again from the install page.")
		return
	}
	if _, err := h.store.Save(ctx, in); err != nil {
		metricInstalls.WithLabelValues("store_failed").Inc()
		h.log.Error().Err(err).Str("team", in.TeamID).Str("enterprise", in.EnterpriseID).Msg("install: could not store the installation")
		h.page(w, http.StatusServiceUnavailable, failed, "Maria could not save the install. Try again in a moment.")
		return
	}
	metricInstalls.WithLabelValues("installed").Inc()
	h.log.Info().Str("team", in.TeamID).Str("enterprise", in.EnterpriseID).Bool("org_wide", in.IsEnterpriseInstall).
		Str("installer", in.InstallerUserID).Bool("rotating", !in.BotTokenExpiresAt.IsZero()).Msg("maria installed")
	where := firstNonEmpty(in.TeamName, in.TeamID)
	if in.IsEnterpriseInstall {
		where = "your organization (" + in.EnterpriseID + ")"
	}
	h.page(w, http.StatusOK, installed, where)
}

var (
	addToSlack = template.Must(template.New("add").Parse(pageHead + `<h1>Install Maria</h1>
<p>Maria answers questions with the figures from your ERP, proposes changes you confirm, and keeps the files you share.</p>
<p><a class="btn" href="{{.}}">Add to Slack</a></p>` + pageTail))
	installed = template.Must(template.New("ok").Parse(pageHead + `<h1>Maria is installed</h1>
<p>Maria is now installed in {{.}}. Mention @Maria in a channel, DM her, or open her assistant pane in Slack.</p>` + pageTail))
	failed = template.Must(template.New("fail").Parse(pageHead + `<h1>Maria was not installed</h1>
<p>{{.}}</p><p><a href="` + PathInstall + `">Back to the install page</a></p>` + pageTail))
)

const pageHead = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Maria</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>body{font-family:sans-serif;max-width:36em;margin:4em auto;padding:0 1em}
.btn{display:inline-block;padding:.7em 1.2em;background:#4a154b;color:#fff;border-radius:6px;text-decoration:none}</style></head><body>`
const pageTail = `</body></html>`

func (h *Handler) page(w http.ResponseWriter, status int, t *template.Template, data string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if err := t.Execute(w, data); err != nil {
		h.log.Debug().Err(err).Msg("install page not written")
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

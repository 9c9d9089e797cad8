package app

import (
	"context"
	"fmt"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/installs"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/mariahq/maria/ingress"
	"github.com/mariahq/maria/ingress/install"
	"github.com/mariahq/maria/ingress/install/slackoauth"
	"github.com/mariahq/maria/processors/installstore"
	"github.com/mariahq/maria/processors/kmswrap"
)

// multiWorkspace is Maria installed in any number of workspaces through
// OAuth (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set): installations in a
// store, each workspace's token from its own. Unset, Maria serves the one
// workspace of SLACK_BOT_TOKEN, unchanged.
type multiWorkspace struct {
	install install.Config
	keys    sealed.Settings
	store   installstore.Config
}

func loadMultiWorkspace(env *config.Env) multiWorkspace {
	m := multiWorkspace{install: install.LoadConfig(env), keys: sealed.ReadEnv(env)}
	m.store = installstore.LoadConfig(env, m.enabled())
	return m
}

func (m multiWorkspace) enabled() bool { return m.install.Enabled() }

// open returns the installation store (NATS KV, or DynamoDB with
// MARIA_STORAGE=aws; tokens sealed with the keyring of
// MARIA_ENCRYPTION_KEYS / MARIA_KMS_KEY_ID) and the token source
// refreshing rotating tokens through oauth.v2.access.
func (m multiWorkspace) open(ctx context.Context, d bus.Deps) (installs.Store, *installs.Tokens, error) {
	ring, err := sealed.Load(ctx, m.keys, d.Bus.Config().DataDir, kmswrap.New, d.Log)
	if err != nil {
		return nil, nil, fmt.Errorf("installations: %w", err)
	}
	store, err := installstore.Open(ctx, m.store, d.Bus.JetStream(), d.Bus.Config().Replicas, ring)
	if err != nil {
		return nil, nil, err
	}
	tokens := &installs.Tokens{Store: store, Refresher: &slackoauth.Client{
		ClientID: m.install.ClientID, ClientSecret: m.install.ClientSecret, APIURL: m.install.APIURL}}
	return store, tokens, nil
}

// mountInstall, in multi-workspace mode, serves the install flow on the
// HTTP listener, lets ingress end installations on app_uninstalled and
// tokens_revoked, and makes its users.info lookups with each workspace's
// token.
func mountInstall(ctx context.Context, mw multiWorkspace, in *ingress.Ingress, d bus.Deps) error {
	if !mw.enabled() {
		return nil
	}
	store, tokens, err := mw.open(ctx, d)
	if err != nil {
		return err
	}
	in.SetInstallations(&installs.Lifecycle{Store: store, Tokens: tokens})
	in.SetTokens(tokens) // users.info with each workspace's own token
	if d.HTTP != nil {
		install.New(mw.install, store, d.Log).Routes(d.HTTP.Mux)
		d.Log.Info().Str("path", install.PathInstall).Msg("multi-workspace mode: install flow served")
	}
	return nil
}

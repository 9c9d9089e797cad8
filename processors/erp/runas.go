package erp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mariahq/maria/processors/erp/identity"
	"github.com/mariahq/maria/processors/erp/odoo"
)

// Identity policies (MARIA_ERP_IDENTITY_POLICY): what a Slack user who has
// not connected their own Odoo user may do. A connected user always runs
// as their own Odoo user, whatever the policy.
const (
	// PolicyService: reads and confirmed writes via Maria's service account.
	PolicyService = "service"
	// PolicyReadOnlyService: reads via the service account, writes only for
	// connected users.
	PolicyReadOnlyService = "read-only-service"
	// PolicyPersonal: no ERP access until connected.
	PolicyPersonal = "personal"
	// policyOwn is what the audit records for a connected user's own account.
	policyOwn = "personal-account"
)

// runAs is who an ERP call runs as, and why.
type runAs struct {
	client odoo.Client
	// login is the Odoo user's login; personal when it is the asker's own.
	login     string
	name      string
	personal  bool
	slackUser string
	// policy allowed the call: the workspace policy, or policyOwn.
	policy string
}

// cachePrefix keys the read cache per Odoo user: one user's cached read is
// never served to another.
func (r runAs) cachePrefix() string {
	if r.personal {
		return "user:" + r.login + "|"
	}
	return "service|"
}

// NotConnectedError refuses a call the policy allows only to connected
// users.
type NotConnectedError struct{ Write bool }

func (e *NotConnectedError) Error() string {
	if e.Write {
		return "changes in Odoo need your own Odoo account: connect it with /maria connect (Maria's shared account only reads here)"
	}
	return "this workspace answers ERP questions only as your own Odoo user: connect it with /maria connect"
}

// whoFor picks the Odoo user for a call made for (team, user).
func (s *Service) whoFor(ctx context.Context, team, user string, write bool) (runAs, error) {
	service := runAs{client: s.odoo, login: s.cfg.Odoo.Username, slackUser: user, policy: s.cfg.IdentityPolicy}
	if s.ids != nil && team != "" && user != "" {
		cred, found, err := s.ids.Get(ctx, team, user)
		if err != nil {
			return runAs{}, err
		}
		if found {
			cl, err := s.personalClient(cred)
			if err != nil {
				return runAs{}, err
			}
			return runAs{client: cl, login: cred.Login, name: cred.Name, personal: true, slackUser: user, policy: policyOwn}, nil
		}
	}
	switch s.cfg.IdentityPolicy {
	case PolicyPersonal:
		return runAs{}, &NotConnectedError{Write: write}
	case PolicyReadOnlyService:
		if write {
			return runAs{}, &NotConnectedError{Write: true}
		}
	}
	return service, nil
}

// personalClients keeps one Odoo client per connected person (its XML-RPC
// session: the uid), rebuilt when they connect again.
type personalClients struct {
	mu      sync.Mutex
	clients map[string]personalClient
}

type personalClient struct {
	verified time.Time
	login    string
	client   odoo.Client
}

func (s *Service) personalClient(c identity.Credential) (odoo.Client, error) {
	p := &s.personal
	k := identity.Key(c.Team, c.User)
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.clients[k]; ok && e.verified.Equal(c.Verified) && e.login == c.Login {
		return e.client, nil
	}
	if p.clients == nil {
		p.clients = map[string]personalClient{}
	}
	cl, err := s.newUserClient(c.Login, c.Key)
	if err != nil {
		return nil, err
	}
	p.clients[k] = personalClient{verified: c.Verified, login: c.Login, client: cl}
	return cl, nil
}

// forget drops a person's client (disconnect).
func (p *personalClients) forget(team, user string) {
	p.mu.Lock()
	delete(p.clients, identity.Key(team, user))
	p.mu.Unlock()
}

// newUserClient builds a client like the service's but as login with key,
// behind the same breaker (an outage is Odoo's, not one user's).
func (s *Service) newUserClient(login, key string) (odoo.Client, error) {
	if s.newClient == nil {
		return nil, errors.New("erp: no way to build per-user Odoo clients")
	}
	cfg := s.cfg
	cfg.Odoo.Username, cfg.Odoo.Password = login, key
	c, err := s.newClient(cfg)
	if err != nil {
		return nil, err
	}
	return Guard(c, s.breaker), nil
}

// personalError words a failure of a connected user's call for them.
func personalError(err error, who runAs) string {
	e, ok := odoo.AsError(err)
	if !ok {
		return plainError(err)
	}
	switch e.Kind {
	case odoo.KindAccessDenied:
		return fmt.Sprintf("Odoo refused the API key of your Odoo user %s (revoked or expired?): connect again with /maria connect", who.login)
	case odoo.KindAccess:
		return fmt.Sprintf("your Odoo user %s may not %s: %s", who.login, accessWhat(e), firstParagraph(e.Message))
	}
	return plainError(err)
}

// accessWhat names what was refused from the call: "read account.move".
func accessWhat(e *odoo.Error) string {
	model, method := e.Op, ""
	if i := strings.LastIndex(e.Op, "."); i > 0 {
		model, method = e.Op[:i], e.Op[i+1:]
	}
	switch method {
	case "create":
		return "create " + model + " records"
	case "write":
		return "change these " + model + " records"
	}
	return "read " + model + " records"
}

func firstParagraph(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n\n")
	return s
}

package erp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mariahq/maria/processors/erp/identity"
	"github.com/mariahq/maria/processors/erp/odoo"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/micro"
)

// identityTimeout bounds one connect / disconnect / status / suggest: ingress
// waits for connect inside Slack's 3 seconds.
const identityTimeout = 2500 * time.Millisecond

// addIdentityEndpoint serves schemas.SubjectERPIdentity on the erp micro
// service: people connect their own Odoo user (the key arrives sealed by
// ingress and is stored sealed), disconnect it, and ask who they are.
func (s *Service) addIdentityEndpoint(svc micro.Service) error {
	handler := micro.HandlerFunc(func(req micro.Request) {
		ctx, cancel := context.WithTimeout(context.Background(), identityTimeout)
		defer cancel()
		var q schemas.ERPIdentity
		var rep schemas.ERPIdentityReply
		if err := decodeStrict(req.Data(), &q); err != nil {
			rep = schemas.ERPIdentityReply{Error: "not a JSON identity request", Kind: "refused"}
		} else {
			rep = s.Identity(ctx, q)
		}
		rep.Policy = s.cfg.IdentityPolicy
		if err := req.RespondJSON(rep); err != nil {
			s.log.Warn().Err(err).Msg("erp identity reply failed")
		}
	})
	return svc.AddEndpoint("identity", handler, micro.WithEndpointSubject(schemas.SubjectERPIdentity))
}

// Identity answers one identity request.
func (s *Service) Identity(ctx context.Context, q schemas.ERPIdentity) schemas.ERPIdentityReply {
	if s.ids == nil {
		return schemas.ERPIdentityReply{Error: "connecting your own Odoo user is not enabled on this Maria", Kind: "internal"}
	}
	if q.Team == "" || q.User == "" {
		return schemas.ERPIdentityReply{Error: "team and user are required", Kind: "refused"}
	}
	switch q.Op {
	case schemas.IdentityConnect:
		return s.connect(ctx, q)
	case schemas.IdentityDisconnect:
		if err := s.ids.Delete(ctx, q.Team, q.User); err != nil {
			return schemas.ERPIdentityReply{Error: "could not forget your Odoo account: " + err.Error(), Kind: "internal"}
		}
		s.personal.forget(q.Team, q.User)
		s.log.Info().Str("team", q.Team).Str("user", q.User).Msg("odoo account disconnected")
		return schemas.ERPIdentityReply{}
	case schemas.IdentityStatus:
		c, found, err := s.ids.Get(ctx, q.Team, q.User)
		if err != nil {
			return schemas.ERPIdentityReply{Error: "could not read your Odoo account: " + err.Error(), Kind: "internal"}
		}
		if !found {
			return schemas.ERPIdentityReply{}
		}
		return schemas.ERPIdentityReply{Connected: true, Login: c.Login, Name: c.Name, UID: c.UID}
	case schemas.IdentitySuggest:
		return s.suggest(ctx, q.Email)
	}
	return schemas.ERPIdentityReply{Error: fmt.Sprintf("op %q is not one of connect, disconnect, status, suggest", q.Op), Kind: "refused"}
}

// connect verifies a login and API key with Odoo (authenticate, as that
// user) and stores them sealed. The key is only ever in memory here.
func (s *Service) connect(ctx context.Context, q schemas.ERPIdentity) schemas.ERPIdentityReply {
	login := strings.TrimSpace(q.Login)
	if login == "" || len(q.SealedKey) == 0 {
		return schemas.ERPIdentityReply{Error: "both your Odoo login and an API key are needed", Kind: "refused"}
	}
	plain, err := s.ring.Open(ctx, q.SealedKey, schemas.ERPKeyAAD(q.Team, q.User))
	if err != nil {
		return schemas.ERPIdentityReply{Error: "the API key did not arrive intact; try again", Kind: "refused"}
	}
	key := strings.TrimSpace(string(plain))
	clear(plain)
	uid, err := s.authenticate(ctx, login, key)
	if err != nil {
		if e, ok := odoo.AsError(err); ok && e.Kind == odoo.KindAccessDenied {
			s.log.Info().Str("team", q.Team).Str("user", q.User).Msg("odoo account refused at connect (the login typed is not logged)")
			return schemas.ERPIdentityReply{Error: "Odoo did not accept this login and API key", Kind: "refused"}
		}
		return schemas.ERPIdentityReply{Error: plainError(err), Kind: replyKind(err)}
	}
	name := login
	if recs, err := s.odoo.Read(ctx, "res.users", []int64{uid}, []string{"name"}); err == nil && len(recs) == 1 {
		if n, ok := recs[0]["name"].(string); ok && n != "" {
			name = n
		}
	}
	c := identity.Credential{Team: q.Team, User: q.User, Login: login, UID: uid, Name: name, Key: key, Verified: time.Now().UTC()}
	if err := s.ids.Put(ctx, c); err != nil {
		return schemas.ERPIdentityReply{Error: "could not store your Odoo account: " + err.Error(), Kind: "internal"}
	}
	s.personal.forget(q.Team, q.User)
	s.log.Info().Str("team", q.Team).Str("user", q.User).Int64("uid", uid).Msg("odoo account connected")
	return schemas.ERPIdentityReply{Connected: true, Login: login, Name: name, UID: uid}
}

// authenticate proves the key belongs to login: common.authenticate over
// XML-RPC (served by every Odoo up to 21, JSON-2 deployments included).
func (s *Service) authenticate(ctx context.Context, login, key string) (int64, error) {
	cfg := s.cfg.Odoo
	cfg.Username, cfg.Password = login, key
	if cfg.DB == "" {
		return 0, errors.New("connecting a person's Odoo user needs ODOO_DB (authenticate names the database)")
	}
	c, err := odoo.NewXMLRPC(cfg)
	if err != nil {
		return 0, err
	}
	return c.Authenticate(ctx)
}

// suggest finds the Odoo user whose email is the Slack profile's, read by
// the service account: a convenience for the modal, never a proof.
func (s *Service) suggest(ctx context.Context, email string) schemas.ERPIdentityReply {
	email = strings.TrimSpace(email)
	if email == "" {
		return schemas.ERPIdentityReply{}
	}
	recs, err := s.odoo.SearchRead(ctx, "res.users", []any{[]any{"email", "=ilike", email}}, []string{"login", "name"}, odoo.SearchOptions{Limit: 1})
	if err != nil || len(recs) == 0 {
		return schemas.ERPIdentityReply{}
	}
	login, _ := recs[0]["login"].(string)
	name, _ := recs[0]["name"].(string)
	return schemas.ERPIdentityReply{Login: login, Name: name}
}

// Package identity_test proves issue 20 end to end over the bus: a Slack
// user connects their own Odoo user (the key sealed as ingress seals it),
// and from then on the erp service reads and writes as that user, so the
// Odoo simulator's access rights and record rules — Odoo's, not Maria's —
// decide what they see.
package identity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/mariahq/maria/processors/erp"
	"github.com/mariahq/maria/processors/erp/erptest"
	"github.com/mariahq/maria/processors/erp/identity"
	"github.com/mariahq/maria/processors/erp/identity/identitytest"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/odoosim"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const team = "T1"

type suite struct {
	t       *testing.T
	sim     *odoosim.Server
	b       *bus.Bus
	ring    *sealed.Keyring
	qc      erp.QueryClient
	nc      *nats.Conn
	audits  func() []*nats.Msg
	results func() []*nats.Msg
}

func setup(t *testing.T, policy string) *suite {
	t.Helper()
	sim := odoosim.New(t)
	env := config.NewEnvFrom(map[string]string{
		"ODOO_URL": sim.URL, "ODOO_DB": sim.DB, "ODOO_USERNAME": sim.User, "ODOO_PASSWORD": sim.Password,
		"MARIA_ODOO_TIMEOUT": "2s", "MARIA_ERP_CLAIM_STALE": "6s", "MARIA_ERP_IDENTITY_POLICY": policy,
	})
	cfg := erp.LoadConfig(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	client, err := erp.NewOdooClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := bustest.New(t)
	ring := identitytest.Keyring(t)
	svc := erp.New(cfg, client, bustest.Logger(t)).WithIdentities(ring, nil)
	nc := bustest.Client(t, b, nil).Conn()
	s := &suite{t: t, sim: sim, b: b, ring: ring, qc: erp.QueryClient{NC: nc}, nc: nc,
		audits: bustest.Subscribe(t, b, "maria.audit.>"), results: bustest.Subscribe(t, b, schemas.SubjectERPResultAll)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, b) }()
	t.Cleanup(func() { cancel(); <-done })
	bustest.Eventually(t, 5*time.Second, func() bool {
		_, err := s.qc.Query(context.Background(), schemas.ERPQuery{Method: "fields_get", Model: "res.partner"})
		return !errors.Is(err, erp.ErrNoQueryService)
	}, "the query service did not come up")
	return s
}

// identity sends one request as ingress and ai do.
func (s *suite) identity(q schemas.ERPIdentity) schemas.ERPIdentityReply {
	s.t.Helper()
	body, _ := json.Marshal(q)
	msg, err := s.nc.Request(schemas.SubjectERPIdentity, body, 5*time.Second)
	if err != nil {
		s.t.Fatal(err)
	}
	var rep schemas.ERPIdentityReply
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		s.t.Fatal(err)
	}
	return rep
}

// connect seals key for (team, user) the way ingress does and connects.
func (s *suite) connect(user, login, key string) schemas.ERPIdentityReply {
	s.t.Helper()
	sk, err := s.ring.Seal(context.Background(), []byte(key), schemas.ERPKeyAAD(team, user))
	if err != nil {
		s.t.Fatal(err)
	}
	return s.identity(schemas.ERPIdentity{Op: schemas.IdentityConnect, Team: team, User: user, Login: login, SealedKey: sk})
}

func (s *suite) query(user string, q schemas.ERPQuery) *schemas.ERPReply {
	s.t.Helper()
	q.Team, q.User = team, user
	rep, err := s.qc.Query(context.Background(), q)
	if err != nil {
		s.t.Fatal(err)
	}
	return rep
}

func (s *suite) orders(user string) []string {
	s.t.Helper()
	rep := s.query(user, schemas.ERPQuery{Method: "search_read", Model: "sale.order", Fields: []string{"name"}, Order: "name"})
	if rep.Error != "" {
		s.t.Fatalf("%s reading orders: %s: %s", user, rep.Kind, rep.Error)
	}
	var out []string
	for _, r := range rep.Records {
		out = append(out, r["name"].(string))
	}
	return out
}

func TestConnectRefusesABadKeyAndStoresAGoodOneSealed(t *testing.T) {
	s := setup(t, erp.PolicyService)
	demo := s.sim.Account(odoosim.SalespersonLogin)
	if rep := s.connect("U1", demo.Login, "not-the-key"); rep.Connected || rep.Kind != "refused" {
		t.Fatalf("bad key: %+v", rep)
	}
	// A key sealed for someone else does not open as U1's.
	sk, _ := s.ring.Seal(context.Background(), []byte(demo.APIKey), schemas.ERPKeyAAD(team, "U2"))
	if rep := s.identity(schemas.ERPIdentity{Op: schemas.IdentityConnect, Team: team, User: "U1", Login: demo.Login, SealedKey: sk}); rep.Connected {
		t.Fatalf("a key sealed for U2 connected U1: %+v", rep)
	}
	rep := s.connect("U1", demo.Login, demo.APIKey)
	if !rep.Connected || rep.UID != demo.UID || rep.Name != demo.Name {
		t.Fatalf("good key: %+v", rep)
	}
	if st := s.identity(schemas.ERPIdentity{Op: schemas.IdentityStatus, Team: team, User: "U1"}); !st.Connected || st.Login != demo.Login {
		t.Fatalf("status: %+v", st)
	}
	// The raw KV value holds neither the key nor the login in clear.
	kv, err := s.b.JetStream().KeyValue(context.Background(), identity.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(context.Background(), identity.Key(team, "U1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(e.Value(), []byte(demo.APIKey)) || bytes.Contains(e.Value(), []byte(demo.Login)) {
		t.Fatal("the stored record holds the API key or login in clear")
	}
	// Disconnect removes it, history included.
	if rep := s.identity(schemas.ERPIdentity{Op: schemas.IdentityDisconnect, Team: team, User: "U1"}); rep.Error != "" {
		t.Fatal(rep.Error)
	}
	if _, err := kv.Get(context.Background(), identity.Key(team, "U1")); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("after disconnect: %v", err)
	}
	hist, _ := kv.History(context.Background(), identity.Key(team, "U1"))
	for _, h := range hist {
		if len(h.Value()) > 0 {
			t.Fatal("a revision with the sealed key survived the disconnect")
		}
	}
}

func TestEachPersonSeesWhatTheirOdooUserMay(t *testing.T) {
	s := setup(t, erp.PolicyService)
	demo, sofia := s.sim.Account(odoosim.SalespersonLogin), s.sim.Account(odoosim.ManagerLogin)
	if !s.connect("USALES", demo.Login, demo.APIKey).Connected || !s.connect("UMGR", sofia.Login, sofia.APIKey).Connected {
		t.Fatal("connect failed")
	}
	all := s.orders("UNOBODY") // the service account, policy "service"
	own := s.orders("USALES")
	if len(own) == 0 || len(own) >= len(all) {
		t.Fatalf("salesperson sees %v of %v", own, all)
	}
	for _, name := range own {
		if name != "S00044" && name != "S00046" {
			t.Fatalf("salesperson sees someone else's order %s", name)
		}
	}
	if mgr := s.orders("UMGR"); strings.Join(mgr, ",") != strings.Join(all, ",") {
		t.Fatalf("manager sees %v, want all %v", mgr, all)
	}
	// Cache isolation: the same query again, each from the cache, each their own.
	if again := s.orders("USALES"); strings.Join(again, ",") != strings.Join(own, ",") {
		t.Fatalf("salesperson's second read %v", again)
	}
	inv := schemas.ERPQuery{Method: "search_read", Model: "account.move", Fields: []string{"name"}, Domain: []any{[]any{"payment_state", "=", "not_paid"}}}
	if rep := s.query("UMGR", inv); rep.Error != "" || len(rep.Records) == 0 {
		t.Fatalf("manager's unpaid invoices: %+v", rep)
	}
	rep := s.query("USALES", inv)
	if rep.Kind != "access" || !strings.Contains(rep.Error, "your Odoo user demo may not read account.move") {
		t.Fatalf("salesperson's unpaid invoices: %s: %s", rep.Kind, rep.Error)
	}
	// The audit trail names the Slack user, the Odoo user and the policy.
	bustest.Eventually(t, 5*time.Second, func() bool {
		for _, m := range s.audits() {
			env, _ := schemas.Decode(m.Data)
			a, _ := schemas.DecodeData[schemas.Audit](env)
			if a != nil && a.SlackUser == "USALES" && a.RunAs == "demo" && a.Policy == "personal-account" && a.Model == "account.move" {
				return true
			}
		}
		return false
	}, "no audit record of the salesperson's refused read naming run_as and policy")
}

func TestAConfirmedWriteRunsAsTheConfirmingUser(t *testing.T) {
	s := setup(t, erp.PolicyService)
	demo := s.sim.Account(odoosim.SalespersonLogin)
	if !s.connect("USALES", demo.Login, demo.APIKey).Connected {
		t.Fatal("connect failed")
	}
	cmd := schemas.ERPCommand{Op: "create", Model: "crm.lead", Values: map[string]any{"name": "Lead by Marc", "user_id": json.Number("6")}}
	c, err := erptest.Confirm(context.Background(), s.b.JetStream(), cmd, erptest.Conversation{Team: team, Channel: "C1", User: "USALES"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.b.Publish(context.Background(), schemas.ERPCommandSubject("crm.lead"), c.Env); err != nil {
		t.Fatal(err)
	}
	var res *schemas.ERPResult
	bustest.Eventually(t, 10*time.Second, func() bool {
		for _, m := range s.results() {
			env, _ := schemas.Decode(m.Data)
			if env != nil && env.CausationID == c.Env.ID {
				res, _ = schemas.DecodeData[schemas.ERPResult](env)
				return true
			}
		}
		return false
	}, "no result")
	if !res.OK || len(res.IDs) != 1 {
		t.Fatalf("result: %+v", res)
	}
	rec := s.sim.Record("crm.lead", res.IDs[0])
	if cu, _ := rec["create_uid"].([]any); len(cu) == 0 || cu[0] != demo.UID {
		t.Fatalf("create_uid = %v, want Marc Demo (%d)", rec["create_uid"], demo.UID)
	}
}

func TestPolicies(t *testing.T) {
	count := schemas.ERPQuery{Method: "search_count", Model: "res.partner"}
	t.Run("personal: nothing until connected", func(t *testing.T) {
		s := setup(t, erp.PolicyPersonal)
		rep := s.query("U1", count)
		if rep.Kind != schemas.ERPKindNotConnected || !strings.Contains(rep.Error, "/maria connect") {
			t.Fatalf("unconnected: %s: %s", rep.Kind, rep.Error)
		}
		demo := s.sim.Account(odoosim.SalespersonLogin)
		if !s.connect("U1", demo.Login, demo.APIKey).Connected {
			t.Fatal("connect failed")
		}
		if rep := s.query("U1", count); rep.Error != "" {
			t.Fatalf("connected: %s", rep.Error)
		}
	})
	t.Run("read-only-service: reads yes, writes need an account", func(t *testing.T) {
		s := setup(t, erp.PolicyReadOnlyService)
		if rep := s.query("U1", count); rep.Error != "" {
			t.Fatalf("read: %s", rep.Error)
		}
		cmd := schemas.ERPCommand{Op: "create", Model: "res.partner", Values: map[string]any{"name": "Not Written Ltd"}}
		c, err := erptest.Confirm(context.Background(), s.b.JetStream(), cmd, erptest.Conversation{Team: team, Channel: "C1", User: "U1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.b.Publish(context.Background(), schemas.ERPCommandSubject("res.partner"), c.Env); err != nil {
			t.Fatal(err)
		}
		bustest.Eventually(t, 10*time.Second, func() bool {
			for _, m := range s.results() {
				env, _ := schemas.Decode(m.Data)
				if env != nil && env.CausationID == c.Env.ID {
					r, _ := schemas.DecodeData[schemas.ERPResult](env)
					return !r.OK && r.Kind == schemas.ERPKindNotConnected && strings.Contains(r.Error, "/maria connect")
				}
			}
			return false
		}, "no refusal of the unconnected write")
		if n := s.sim.Count("res.partner", []any{"name", "=", "Not Written Ltd"}); n != 0 {
			t.Fatal("the write happened")
		}
	})
	t.Run("service: the service account for the unconnected", func(t *testing.T) {
		s := setup(t, erp.PolicyService)
		if rep := s.query("U1", schemas.ERPQuery{Method: "search_count", Model: "account.move"}); rep.Error != "" {
			t.Fatalf("read: %s", rep.Error)
		}
	})
}

package odoo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/processors/erp/odoo"
	"github.com/mariahq/maria/tests/sim/odoosim"
)

// versions is the table every version-aware test runs over.
var versions = []struct {
	major int
	proto string // what auto picks
	group string // the grouped-read method
}{
	{17, odoo.ProtocolXMLRPC, "read_group"},
	{18, odoo.ProtocolXMLRPC, "read_group"},
	{19, odoo.ProtocolJSON2, "formatted_read_group"},
}

func autoClient(t *testing.T, sim *odoosim.Server, protocol string) *odoo.Auto {
	t.Helper()
	a, err := odoo.NewAuto(odoo.Config{URL: sim.URL, DB: sim.DB, Username: sim.User, Password: sim.Password, Timeout: 5 * time.Second}, protocol)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAutoDetectsVersionAndProtocol(t *testing.T) {
	for _, v := range versions {
		t.Run(fmt.Sprint(v.major), func(t *testing.T) {
			sim := odoosim.New(t, odoosim.Version(v.major))
			a := autoClient(t, sim, odoo.ProtocolAuto)
			st, err := a.Probe(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.Server.Major != v.major || st.Protocol != v.proto || st.UID != 2 {
				t.Fatalf("probe = %+v, want %d over %s as uid 2", st, v.major, v.proto)
			}
			sim.ResetCalls()
			n, err := a.SearchCount(context.Background(), "res.partner", nil)
			if err != nil || n == 0 {
				t.Fatalf("count: %d %v", n, err)
			}
			if sim.Calls("common.version") != 0 {
				t.Fatal("the version is asked once, not per call")
			}
			// A second user reuses the detection.
			demo := sim.Account(odoosim.SalespersonLogin)
			if _, err := a.WithCredentials(demo.Login, demo.APIKey).SearchCount(context.Background(), "sale.order", nil); err != nil {
				t.Fatal(err)
			}
			if sim.Calls("common.version") != 0 {
				t.Fatal("another user's client asked the version again")
			}
		})
	}
}

func TestAutoForcedProtocol(t *testing.T) {
	sim := odoosim.New(t, odoosim.Version(19))
	a := autoClient(t, sim, odoo.ProtocolXMLRPC)
	st, err := a.Probe(context.Background())
	if err != nil || st.Protocol != odoo.ProtocolXMLRPC || st.Server.Major != 19 {
		t.Fatalf("forced xmlrpc on 19: %+v %v", st, err)
	}
	old := odoosim.New(t, odoosim.Version(17))
	_, err = autoClient(t, old, odoo.ProtocolJSON2).Probe(context.Background())
	if e, ok := odoo.AsError(err); !ok || e.Kind != odoo.KindProtocol || !strings.Contains(e.Message, "404") {
		t.Fatalf("json2 forced on Odoo 17 should fail with 404: %v", err)
	}
}

func TestAutoProbeSaysWhy(t *testing.T) {
	sim := odoosim.New(t, odoosim.Version(18))
	bad, err := odoo.NewAuto(odoo.Config{URL: sim.URL, DB: sim.DB, Username: sim.User, Password: "wrong", Timeout: 5 * time.Second}, odoo.ProtocolAuto)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Probe(context.Background()); !errors.Is(err, odoo.ErrAccessDenied) {
		t.Fatalf("bad password: %v", err)
	}
	sim.Down(true)
	a := autoClient(t, sim, odoo.ProtocolAuto)
	if _, err := a.Probe(context.Background()); !odoo.IsUnavailable(err) {
		t.Fatalf("down: %v", err)
	}
	sim.Down(false)
	if st, err := a.Probe(context.Background()); err != nil || st.Server.Major != 18 {
		t.Fatalf("after recovery: %+v %v", st, err)
	}
}

func TestReadGroupOnEveryVersion(t *testing.T) {
	for _, v := range versions {
		t.Run(fmt.Sprint(v.major), func(t *testing.T) {
			sim := odoosim.New(t, odoosim.Version(v.major))
			a := autoClient(t, sim, odoo.ProtocolAuto)
			rows, err := a.ReadGroup(context.Background(), "sale.order", []any{[]any{"state", "in", []any{"sale", "sent", "draft"}}},
				[]string{"partner_id"}, []string{"amount_total:sum", "__count"}, odoo.GroupOptions{Order: "amount_total:sum desc", Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if sim.Calls("sale.order."+v.group) != 1 {
				t.Fatalf("want one %s call", v.group)
			}
			if len(rows) != 3 {
				t.Fatalf("rows: %v", rows)
			}
			top := rows[0]
			if p, _ := top["partner_id"].(map[string]any); p["name"] != "Azure Interior" || top["amount_total:sum"] != 3655.85 || top["__count"] != int64(2) {
				t.Fatalf("top: %#v", top)
			}
		})
	}
}

func TestCallMethodAndContextOnEveryVersion(t *testing.T) {
	for _, v := range versions {
		t.Run(fmt.Sprint(v.major), func(t *testing.T) {
			sim := odoosim.New(t, odoosim.Version(v.major))
			a := autoClient(t, sim, odoo.ProtocolAuto)
			ctx := odoo.WithCallContext(context.Background(), map[string]any{"allowed_company_ids": []int64{1}})
			if _, err := a.CallMethod(ctx, "sale.order", "action_confirm", []int64{43}); err != nil {
				t.Fatal(err)
			}
			if c := sim.LastContext("sale.order.action_confirm"); c == nil || fmt.Sprint(c["allowed_company_ids"]) != "[1]" {
				t.Fatalf("context sent: %v", c)
			}
			_, err := a.CallMethod(ctx, "sale.order", "action_confirm", []int64{43})
			if e, ok := odoo.AsError(err); !ok || e.Kind != odoo.KindValidation || !strings.Contains(e.Message, "not in a state requiring confirmation") {
				t.Fatalf("confirming twice: %v", err)
			}
			// action_post returns False: fine on both protocols.
			if _, err := a.CallMethod(ctx, "account.move", "action_post", []int64{208}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

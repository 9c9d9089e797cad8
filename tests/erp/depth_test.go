package erp_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/odoosim"
)

// "Sales per customer this quarter": a grouped read, the right method per
// Odoo version, the same allow-list as reads.
func TestSalesPerCustomerThisQuarter(t *testing.T) {
	for _, v := range versions {
		t.Run(fmt.Sprint(v.major), func(t *testing.T) {
			sim := odoosim.New(t, odoosim.Version(v.major))
			s := setupOn(t, sim, nil)
			rep := s.query(schemas.ERPQuery{Method: "read_group", Model: "sale.order",
				Domain:  []any{[]any{"date_order", ">=", "2026-10-01"}, []any{"date_order", "<", "2027-01-01"}, []any{"state", "in", []any{"sale", "sent", "draft"}}},
				GroupBy: []string{"partner_id"}, Aggregates: []string{"amount_total:sum"}, Order: "amount_total:sum desc"})
			if rep.Error != "" || len(rep.Groups) != 3 {
				t.Fatalf("%+v", rep)
			}
			top := rep.Groups[0]
			p, _ := top["partner_id"].(map[string]any)
			if p["name"] != "Azure Interior" || fmt.Sprint(top["amount_total:sum"]) != "3655.85" || fmt.Sprint(top["__count"]) != "2" {
				t.Fatalf("top customer: %v", top)
			}
			method := map[bool]string{true: "formatted_read_group", false: "read_group"}[v.major >= 19]
			if sim.Calls("sale.order."+method) != 1 {
				t.Fatalf("Odoo %d must be asked with %s", v.major, method)
			}
			if rep.OdooMajor != v.major {
				t.Fatalf("reply names Odoo %d, want %d", rep.OdooMajor, v.major)
			}
			// By month, and refusals before any call.
			rep = s.query(schemas.ERPQuery{Method: "read_group", Model: "sale.order", GroupBy: []string{"date_order:month"}, Aggregates: []string{"__count"}})
			if rep.Error != "" || len(rep.Groups) == 0 {
				t.Fatalf("by month: %+v", rep)
			}
			calls := sim.Calls("*")
			for _, q := range []schemas.ERPQuery{
				{Method: "read_group", Model: "sale.order", GroupBy: []string{"partner_id"}, Aggregates: []string{"state:sum"}},
				{Method: "read_group", Model: "sale.order", GroupBy: []string{"partner_id:month"}},
				{Method: "read_group", Model: "res.company", GroupBy: []string{"name"}},
				{Method: "read_group", Model: "sale.order", GroupBy: []string{"partner_id"}, Order: "name desc"},
			} {
				if rep := s.query(q); rep.Kind != "refused" {
					t.Fatalf("%+v should be refused: %+v", q, rep)
				}
			}
			if sim.Calls("*") != calls {
				t.Fatal("a refused grouped read reached Odoo")
			}
		})
	}
}

// A confirmed action runs once: the redelivered command (a second click,
// a replay) republishes the outcome without calling Odoo again; Odoo's own
// error is shown when it refuses.
func TestActionConfirmedOnce(t *testing.T) {
	for _, v := range versions {
		t.Run(fmt.Sprint(v.major), func(t *testing.T) {
			sim := odoosim.New(t, odoosim.Version(v.major))
			s := setupOn(t, sim, nil)
			env := s.confirmed(schemas.ERPCommand{Op: "action", Model: "sale.order", Method: "action_confirm", IDs: []int64{43}}, "U1")
			s.deliver(env, env.ID)
			bustest.Eventually(t, 10*time.Second, func() bool { return len(s.resultsOf(env.ID)) == 1 }, "no result")
			s.deliver(env, env.ID+"-second-click")
			bustest.Eventually(t, 10*time.Second, func() bool { return len(s.resultsOf(env.ID)) == 2 }, "the repeat should answer")
			for _, r := range s.resultsOf(env.ID) {
				if !r.OK || r.Op != "action" || len(r.IDs) != 1 || r.IDs[0] != 43 {
					t.Fatalf("result %+v", r)
				}
			}
			if n := sim.Calls("sale.order.action_confirm"); n != 1 {
				t.Fatalf("action_confirm called %d times, want once", n)
			}
			if st := sim.Record("sale.order", 43)["state"]; st != "sale" {
				t.Fatalf("S00043 state %v", st)
			}
			if u := s.resultsOf(env.ID)[0].URL; !strings.Contains(u, "43") {
				t.Fatalf("result link %q", u)
			}

			// Odoo refuses confirming an order that is confirmed already.
			env = s.confirmed(schemas.ERPCommand{Op: "action", Model: "sale.order", Method: "action_confirm", IDs: []int64{42}}, "U1")
			s.deliver(env, env.ID)
			bustest.Eventually(t, 10*time.Second, func() bool { return len(s.resultsOf(env.ID)) == 1 }, "no result")
			if r := s.resultsOf(env.ID)[0]; r.OK || r.Kind != "validation" || !strings.Contains(r.Error, "not in a state requiring confirmation") {
				t.Fatalf("want Odoo's UserError, got %+v", r)
			}

			// Not allow-listed: refused without calling Odoo.
			before := sim.Calls("*")
			env = s.confirmed(schemas.ERPCommand{Op: "action", Model: "sale.order", Method: "action_cancel", IDs: []int64{45}}, "U1")
			s.deliver(env, env.ID)
			bustest.Eventually(t, 10*time.Second, func() bool { return len(s.resultsOf(env.ID)) == 1 }, "no result")
			if r := s.resultsOf(env.ID)[0]; r.OK || r.Kind != "refused" || sim.Calls("*") != before {
				t.Fatalf("action_cancel should be refused before Odoo: %+v", r)
			}
		})
	}
}

// The asker's companies go in every call's context; a question may name
// one; the reply says which when there are several.
func TestCompanyContextSent(t *testing.T) {
	for _, v := range versions {
		t.Run(fmt.Sprint(v.major), func(t *testing.T) {
			sim := odoosim.New(t, odoosim.Version(v.major))
			sim.AllowCompanies(sim.User, odoosim.CompanyMain, odoosim.CompanyChicago)
			s := setupOn(t, sim, nil)
			rep := s.query(schemas.ERPQuery{Method: "search_count", Model: "sale.order"})
			if rep.Error != "" || *rep.Count != 6 {
				t.Fatalf("both companies: %+v", rep)
			}
			if c := sim.LastContext("sale.order.search_count"); fmt.Sprint(c["allowed_company_ids"]) != "[1 2]" {
				t.Fatalf("context sent: %v", c)
			}
			if strings.Join(rep.Companies, ",") != "YourCompany,My Company (Chicago)" {
				t.Fatalf("reply companies %v", rep.Companies)
			}
			rep = s.query(schemas.ERPQuery{Method: "search_count", Model: "sale.order", Company: "chicago"})
			if rep.Error != "" || *rep.Count != 1 || strings.Join(rep.Companies, ",") != "My Company (Chicago)" {
				t.Fatalf("Chicago only: %+v", rep)
			}
			if c := sim.LastContext("sale.order.search_count"); fmt.Sprint(c["allowed_company_ids"]) != "[2]" {
				t.Fatalf("context sent: %v", c)
			}
			if rep := s.query(schemas.ERPQuery{Method: "search_count", Model: "sale.order", Company: "Atlantis"}); rep.Kind != "refused" || !strings.Contains(rep.Error, "YourCompany") {
				t.Fatalf("unknown company: %+v", rep)
			}
		})
	}
}

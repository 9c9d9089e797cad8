package odoo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/processors/erp/odoo"
	"github.com/mariahq/maria/tests/sim/odoosim"
)

func clients(t *testing.T, sim *odoosim.Server) map[string]odoo.Client {
	t.Helper()
	cfg := odoo.Config{URL: sim.URL, DB: sim.DB, Username: sim.User, Password: sim.Password, Timeout: 5 * time.Second}
	x, err := odoo.NewXMLRPC(cfg)
	if err != nil {
		t.Fatal(err)
	}
	j, err := odoo.NewJSON2(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]odoo.Client{"xmlrpc": x, "json2": j}
}

func TestSearchReadShapes(t *testing.T) {
	sim := odoosim.New(t, odoosim.Version(19)) // 19 serves XML-RPC and JSON-2
	for name, c := range clients(t, sim) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			recs, err := c.SearchRead(ctx, "sale.order", []any{[]any{"name", "=", "S00042"}},
				[]string{"name", "partner_id", "state", "amount_total", "validity_date"}, odoo.SearchOptions{Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 {
				t.Fatalf("want 1 record, got %d: %v", len(recs), recs)
			}
			r := recs[0]
			if r["id"] != int64(42) || r["name"] != "S00042" || r["state"] != "sale" || asFloat(r["amount_total"]) != 1587 {
				t.Fatalf("unexpected record %#v", r)
			}
			p, ok := r["partner_id"].([]any)
			if !ok || len(p) != 2 || p[0] != int64(10) || p[1] != "Azure Interior" {
				t.Fatalf("many2one should arrive as [id, name], got %#v", r["partner_id"])
			}
			if r["validity_date"] != false {
				t.Fatalf("empty field should arrive as false, got %#v", r["validity_date"])
			}
			clean := odoo.Clean(r, map[string]string{"partner_id": "many2one", "validity_date": "date"})
			if _, ok := clean["validity_date"]; ok {
				t.Fatal("Clean kept an empty field")
			}
			if ref, _ := clean["partner_id"].(map[string]any); ref["id"] != int64(10) || ref["name"] != "Azure Interior" {
				t.Fatalf("Clean many2one: %#v", clean["partner_id"])
			}
		})
	}
}

func TestDomainLogicAndPaging(t *testing.T) {
	sim := odoosim.New(t, odoosim.Version(19)) // 19 serves XML-RPC and JSON-2
	for name, c := range clients(t, sim) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			// Unpaid customer invoices of Azure Interior (by partner name through the many2one).
			d := []any{"&", "&", []any{"move_type", "=", "out_invoice"}, []any{"partner_id.name", "ilike", "azure"},
				"|", []any{"payment_state", "=", "not_paid"}, []any{"payment_state", "=", "partial"}}
			ids, err := c.Search(ctx, "account.move", d, odoo.SearchOptions{Order: "name asc"})
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != 2 || ids[0] != 202 || ids[1] != 203 {
				t.Fatalf("want [202 203], got %v", ids)
			}
			n, err := c.SearchCount(ctx, "res.partner", []any{"!", []any{"is_company", "=", true}})
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(sim.Count("res.partner", []any{"is_company", "=", false})); n != want || n == 0 {
				t.Fatalf("count: got %d want %d", n, want)
			}
			page, err := c.SearchRead(ctx, "res.partner", []any{[]any{"is_company", "=", true}}, []string{"name"}, odoo.SearchOptions{Limit: 2, Offset: 1, Order: "name"})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) != 2 || page[0]["name"] != "Deco Addict" {
				t.Fatalf("paging: %v", page)
			}
			names, err := c.NameSearch(ctx, "product.product", "desk comb", nil, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(names) != 1 || names[0].ID != 5 || names[0].Name != "[FURN_7800] Desk Combination" {
				t.Fatalf("name_search: %v", names)
			}
			fields, err := c.FieldsGet(ctx, "sale.order", []string{"type", "string", "relation"})
			if err != nil {
				t.Fatal(err)
			}
			if fields["partner_id"]["type"] != "many2one" || fields["partner_id"]["relation"] != "res.partner" {
				t.Fatalf("fields_get: %v", fields["partner_id"])
			}
			if _, err := c.Version(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCreateWriteAndFaults(t *testing.T) {
	sim := odoosim.New(t, odoosim.Version(19)) // 19 serves XML-RPC and JSON-2
	for name, c := range clients(t, sim) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			id, err := c.Create(ctx, "crm.lead", map[string]any{"name": "Acme " + name, "expected_revenue": 5000, "user_id": int64(2), "partner_id": nil})
			if err != nil {
				t.Fatal(err)
			}
			rec := sim.Record("crm.lead", id)
			if rec["name"] != "Acme "+name || asFloat(rec["expected_revenue"]) != 5000 || rec["partner_id"] != false {
				t.Fatalf("created %#v", rec)
			}
			if err := c.Write(ctx, "crm.lead", []int64{id}, map[string]any{"probability": 40.5}); err != nil {
				t.Fatal(err)
			}
			if sim.Record("crm.lead", id)["probability"] != 40.5 {
				t.Fatal("write did not land")
			}

			// Missing required field: fault 2 → validation.
			_, err = c.Create(ctx, "crm.lead", map[string]any{"expected_revenue": 1})
			if !errors.Is(err, odoo.ErrValidation) || odoo.IsRetryable(err) {
				t.Fatalf("want a permanent validation error, got %v", err)
			}
			// Unknown field: fault 1 traceback → server error in plain words.
			_, err = c.SearchRead(ctx, "res.partner", []any{[]any{"nope", "=", 1}}, nil, odoo.SearchOptions{Limit: 1})
			e, ok := odoo.AsError(err)
			if !ok || e.Kind != odoo.KindServer || !strings.HasSuffix(e.Message, "Invalid field 'nope' on model 'res.partner'") || e.Retry {
				t.Fatalf("want a plain server error, got %#v", err)
			}
			// Missing record: validation.
			if err := c.Write(ctx, "crm.lead", []int64{99999}, map[string]any{"name": "x"}); !errors.Is(err, odoo.ErrValidation) {
				t.Fatalf("want MissingError as validation, got %v", err)
			}
			// Access error: fault 4.
			sim.Deny("project.task")
			if _, err := c.SearchCount(ctx, "project.task", nil); !errors.Is(err, odoo.ErrAccess) {
				t.Fatalf("want access error, got %v", err)
			}
		})
	}
}

func TestBadCredentialsAreTypedAccessDenied(t *testing.T) {
	sim := odoosim.New(t, odoosim.Version(19)) // 19 serves XML-RPC and JSON-2
	ctx := context.Background()
	for _, proto := range []string{"xmlrpc", "json2"} {
		cfg := odoo.Config{URL: sim.URL, DB: sim.DB, Username: sim.User, Password: "wrong-key"}
		var c odoo.Client
		if proto == "xmlrpc" {
			c, _ = odoo.NewXMLRPC(cfg)
		} else {
			c, _ = odoo.NewJSON2(cfg)
		}
		_, err := c.SearchCount(ctx, "res.partner", nil)
		if !errors.Is(err, odoo.ErrAccessDenied) {
			t.Fatalf("%s: want access denied, got %v", proto, err)
		}
		if odoo.IsRetryable(err) || odoo.IsUnavailable(err) {
			t.Fatalf("%s: access denied must be permanent", proto)
		}
		if e, _ := odoo.AsError(err); e == nil || strings.Contains(e.Error(), "wrong-key") {
			t.Fatalf("%s: error leaks the key: %v", proto, err)
		}
	}
	if n := sim.Calls("res.partner.search_count"); n != 1 {
		// XML-RPC stops at authenticate; only JSON-2 reaches the method.
		t.Fatalf("want 1 object call (json2), got %d", n)
	}
}

func TestReauthenticatesOnceOnAccessDenied(t *testing.T) {
	sim := odoosim.New(t, odoosim.Version(19)) // 19 serves XML-RPC and JSON-2
	c, _ := odoo.NewXMLRPC(odoo.Config{URL: sim.URL, DB: sim.DB, Username: sim.User, Password: sim.Password})
	ctx := context.Background()
	if _, err := c.SearchCount(ctx, "res.partner", nil); err != nil {
		t.Fatal(err)
	}
	if n := sim.Calls("common.authenticate"); n != 1 {
		t.Fatalf("want 1 authenticate, got %d", n)
	}
	if _, err := c.SearchCount(ctx, "res.partner", nil); err != nil {
		t.Fatal(err)
	}
	if n := sim.Calls("common.authenticate"); n != 1 {
		t.Fatalf("uid not cached: %d authenticate calls", n)
	}
	sim.FailNext("res.partner", "search_count", 3, "Access Denied")
	if _, err := c.SearchCount(ctx, "res.partner", nil); err != nil {
		t.Fatalf("one AccessDenied should be absorbed by re-authenticating: %v", err)
	}
	if n := sim.Calls("common.authenticate"); n != 2 {
		t.Fatalf("want a second authenticate, got %d", n)
	}
}

func TestUnavailableAndOverflow(t *testing.T) {
	sim := odoosim.New(t, odoosim.Version(19)) // 19 serves XML-RPC and JSON-2
	for name, c := range clients(t, sim) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			sim.Down(true)
			_, err := c.SearchCount(ctx, "res.partner", nil)
			sim.Down(false)
			if !errors.Is(err, odoo.ErrUnavailable) || !odoo.IsRetryable(err) {
				t.Fatalf("502 should be retryable unavailable, got %v", err)
			}
			sim.Slow(300 * time.Millisecond)
			tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			_, err = c.SearchCount(tctx, "res.partner", nil)
			cancel()
			sim.Slow(0)
			if !odoo.IsUnavailable(err) || !odoo.MaybeExecuted(err) {
				t.Fatalf("timeout should be unavailable and maybe executed, got %v", err)
			}
		})
	}
	// Odoo cannot marshal ints beyond int32 in an XML-RPC answer: fault 1.
	x, _ := odoo.NewXMLRPC(odoo.Config{URL: sim.URL, DB: sim.DB, Username: sim.User, Password: sim.Password})
	ctx := context.Background()
	if err := x.Write(ctx, "res.partner", []int64{12}, map[string]any{"customer_rank": int64(1) << 40}); err != nil {
		t.Fatal(err)
	}
	_, err := x.Read(ctx, "res.partner", []int64{12}, []string{"customer_rank"})
	if e, ok := odoo.AsError(err); !ok || e.Kind != odoo.KindServer || e.Message != "OverflowError: int exceeds XML-RPC limits" {
		t.Fatalf("want the overflow fault, got %v", err)
	}
}

// asFloat reads a number the way both protocols deliver it (JSON has no
// float/int distinction: 1587.0 arrives as 1587).
func asFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return -1
}

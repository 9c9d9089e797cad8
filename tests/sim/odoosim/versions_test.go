package odoosim

import (
	"net/http"
	"strings"
	"testing"
)

func TestVersionsAnswerAsThemselves(t *testing.T) {
	for _, major := range []int{17, 18, 19} {
		s := New(t, Version(major))
		info := s.versionInfo()
		if info["server_version_info"].([]any)[0] != int64(major) {
			t.Fatalf("%d: version() = %v", major, info)
		}
		resp, err := http.Post(s.URL+"/json/2/res.partner/search_count", "application/json", strings.NewReader(`{"domain":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// 19 answers (401 without a key), older versions have no JSON-2.
		if want := map[bool]int{true: http.StatusUnauthorized, false: http.StatusNotFound}[major >= 19]; resp.StatusCode != want {
			t.Fatalf("%d: /json/2 answered %d, want %d", major, resp.StatusCode, want)
		}
	}
}

func TestGroupedReadPerVersion(t *testing.T) {
	for _, major := range []int{17, 18, 19} {
		s := New(t, Version(major))
		legacy, modern := "read_group", "formatted_read_group"
		if major >= 19 {
			legacy, modern = modern, legacy
		}
		// The method this version has.
		var v any
		var f *Fault
		if major >= 19 {
			v, f = asUser(t, s, "admin", "sale.order", "formatted_read_group", nil, map[string]any{
				"domain": []any{[]any{"state", "=", "sale"}}, "groupby": []any{"partner_id"}, "aggregates": []any{"amount_total:sum", "__count"}, "order": "amount_total:sum desc"})
		} else {
			v, f = asUser(t, s, "admin", "sale.order", "read_group", nil, map[string]any{
				"domain": []any{[]any{"state", "=", "sale"}}, "groupby": []any{"partner_id"}, "fields": []any{"amount_total:sum"}, "lazy": false, "orderby": "amount_total desc"})
		}
		if f != nil {
			t.Fatalf("%d %s: %v", major, legacy, f)
		}
		rows := v.([]any)
		if len(rows) != 2 {
			t.Fatalf("%d: want 2 customers with confirmed orders in the default company, got %v", major, rows)
		}
		top := rows[0].(map[string]any)
		sumKey := "amount_total"
		if major >= 19 {
			sumKey = "amount_total:sum"
		}
		if p := top["partner_id"].([]any); p[1] != "Azure Interior" || top[sumKey] != 1587.0 || top["__count"] != int64(1) {
			t.Fatalf("%d: top group %v", major, top)
		}
		// The other method does not exist on this version.
		if _, f := asUser(t, s, "admin", "sale.order", modern, nil, map[string]any{"domain": []any{}, "groupby": []any{"partner_id"}}); f == nil || !strings.Contains(f.String, "does not exist") {
			t.Fatalf("%d: %s should not exist: %v", major, modern, f)
		}
	}
}

func TestDateGranularity(t *testing.T) {
	s := New(t)
	v, f := asUser(t, s, "admin", "sale.order", "read_group", nil, map[string]any{
		"domain": []any{}, "groupby": []any{"date_order:month"}, "fields": []any{"__count"}, "lazy": false})
	if f != nil {
		t.Fatal(f)
	}
	got := map[string]int64{}
	for _, r := range v.([]any) {
		row := r.(map[string]any)
		got[row["date_order:month"].(string)] = row["__count"].(int64)
	}
	if got["November 2026"] != 3 || got["October 2026"] != 1 || got["September 2026"] != 1 {
		t.Fatalf("orders per month: %v", got)
	}
}

func TestActionsRunOnceAndRefuseTwice(t *testing.T) {
	s := New(t)
	if _, f := asUser(t, s, "admin", "sale.order", "action_confirm", []any{[]any{int64(43)}}, nil); f != nil {
		t.Fatal(f)
	}
	if st := s.Record("sale.order", 43)["state"]; st != "sale" {
		t.Fatalf("state after action_confirm: %v", st)
	}
	_, f := asUser(t, s, "admin", "sale.order", "action_confirm", []any{[]any{int64(43)}}, nil)
	if f == nil || f.Code != 2 || !strings.Contains(f.String, "not in a state requiring confirmation") {
		t.Fatalf("confirming twice: %v", f)
	}
	if _, f := asUser(t, s, "admin", "account.move", "action_post", []any{[]any{int64(202)}}, nil); f == nil || !strings.Contains(f.String, "already posted") {
		t.Fatalf("posting a posted invoice: %v", f)
	}
	if _, f := asUser(t, s, SalespersonLogin, "account.move", "action_post", []any{[]any{int64(208)}}, nil); f == nil || f.Code != 4 {
		t.Fatalf("a salesperson posting an invoice: %v", f)
	}
}

func TestCompaniesFollowTheContext(t *testing.T) {
	s := New(t)
	count := func(login string, kw map[string]any) (int64, *Fault) {
		v, f := asUser(t, s, login, "sale.order", "search_count", []any{[]any{}}, kw)
		n, _ := v.(int64)
		return n, f
	}
	def, f := count(ManagerLogin, nil)
	if f != nil {
		t.Fatal(f)
	}
	both, f := count(ManagerLogin, map[string]any{"context": map[string]any{"allowed_company_ids": []any{CompanyMain, CompanyChicago}}})
	if f != nil || both != def+1 {
		t.Fatalf("both companies: %d (default company %d), %v", both, def, f)
	}
	if s.LastContext("sale.order.search_count") == nil {
		t.Fatal("the call context was not recorded")
	}
	chicago, _ := count(ManagerLogin, map[string]any{"context": map[string]any{"allowed_company_ids": []any{CompanyChicago}}})
	if chicago != 1 {
		t.Fatalf("Chicago only: %d", chicago)
	}
	if _, f := count(SalespersonLogin, map[string]any{"context": map[string]any{"allowed_company_ids": []any{CompanyChicago}}}); f == nil || f.Code != 4 {
		t.Fatalf("a company the user is not in: %v", f)
	}
	if _, f := asUser(t, s, ManagerLogin, "sale.order", "read", []any{[]any{int64(47)}}, nil); f == nil || !strings.Contains(f.String, "multi-company") {
		t.Fatalf("reading another company's order without it in the context: %v", f)
	}
}

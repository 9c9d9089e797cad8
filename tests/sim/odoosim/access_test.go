package odoosim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// asUser runs one ORM call as login, the way a request authenticated with
// that user's key would.
func asUser(t *testing.T, s *Server, login, model, method string, pos []any, kw map[string]any) (any, *Fault) {
	t.Helper()
	a := s.Account(login)
	u := s.userByKey(a.APIKey)
	if u == nil {
		t.Fatalf("no user %s", login)
	}
	return s.dispatch(context.Background(), u, model, method, pos, kw)
}

func TestRecordRulesAndAccessRights(t *testing.T) {
	s := New(t)
	count := func(login, model string) (int64, *Fault) {
		v, f := asUser(t, s, login, model, "search_count", []any{[]any{}}, nil)
		n, _ := v.(int64)
		return n, f
	}
	all := int64(s.Count("sale.order", []any{"company_id", "=", CompanyMain})) // calls without a context see the default company
	own := int64(s.Count("sale.order", []any{"user_id", "=", int64(6)}))
	if own == 0 || own == all {
		t.Fatalf("demo data: salesperson owns %d of %d orders; want some, not all", own, all)
	}
	for _, c := range []struct {
		login, model string
		want         int64
		access       bool
	}{
		{"admin", "sale.order", all, false},
		{SalespersonLogin, "sale.order", own, false},
		{ManagerLogin, "sale.order", all, false},
		{SalespersonLogin, "account.move", 0, true},
		{ManagerLogin, "account.move", int64(s.Count("account.move")), false},
	} {
		n, f := count(c.login, c.model)
		if c.access {
			if f == nil || f.Code != 4 || !strings.Contains(f.String, "You are not allowed to access 'Journal Entry' (account.move) records") {
				t.Errorf("%s counting %s: want AccessError fault 4, got %v, %v", c.login, c.model, n, f)
			}
			continue
		}
		if f != nil || n != c.want {
			t.Errorf("%s counting %s: got %d, %v; want %d", c.login, c.model, n, f, c.want)
		}
	}
	// Reading someone else's order by id is refused by the record rule.
	if _, f := asUser(t, s, SalespersonLogin, "sale.order", "read", []any{[]any{int64(42)}}, nil); f == nil || f.Code != 4 || !strings.Contains(f.String, "Personal Orders") {
		t.Errorf("salesperson reading order 42 (not theirs): %v", f)
	}
	if _, f := asUser(t, s, SalespersonLogin, "sale.order", "read", []any{[]any{int64(44)}}, nil); f != nil {
		t.Errorf("salesperson reading own order 44: %v", f)
	}
	// Writing it too.
	if _, f := asUser(t, s, SalespersonLogin, "sale.order", "write", []any{[]any{int64(42)}, map[string]any{"client_order_ref": "x"}}, nil); f == nil || f.Code != 4 {
		t.Errorf("salesperson writing order 42: %v", f)
	}
	// A salesperson may not create a lead for someone else.
	if _, f := asUser(t, s, SalespersonLogin, "crm.lead", "create", []any{map[string]any{"name": "Theirs", "user_id": int64(2)}}, nil); f == nil || f.Code != 4 {
		t.Errorf("salesperson creating a lead for admin: %v", f)
	}
}

func TestCreateAndWriteRecordTheCaller(t *testing.T) {
	s := New(t)
	v, f := asUser(t, s, SalespersonLogin, "crm.lead", "create", []any{map[string]any{"name": "Mine", "user_id": int64(6)}}, nil)
	if f != nil {
		t.Fatal(f)
	}
	id := v.(int64)
	rec := s.Record("crm.lead", id)
	if cu, _ := rec["create_uid"].([]any); len(cu) == 0 || cu[0] != int64(6) {
		t.Fatalf("create_uid = %v, want Marc Demo (6)", rec["create_uid"])
	}
	if _, f := asUser(t, s, ManagerLogin, "crm.lead", "write", []any{[]any{id}, map[string]any{"probability": 50.0}}, nil); f != nil {
		t.Fatal(f)
	}
	rec = s.Record("crm.lead", id)
	if wu, _ := rec["write_uid"].([]any); len(wu) == 0 || wu[0] != int64(7) {
		t.Fatalf("write_uid = %v, want Sofia Manager (7)", rec["write_uid"])
	}
}

func TestJSON2ChecksTheBearerKey(t *testing.T) {
	s := New(t, Version(19))
	call := func(key, model string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/json/2/"+model+"/search_count", bytes.NewReader([]byte(`{"domain": []}`)))
		req.Header.Set("Authorization", "bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		m, _ := body.(map[string]any)
		return resp.StatusCode, m
	}
	demo := s.Account(SalespersonLogin)
	if code, body := call(demo.APIKey, "account.move"); code != http.StatusForbidden || body["name"] != "odoo.exceptions.AccessError" {
		t.Errorf("salesperson on account.move: %d %v", code, body)
	}
	if code, _ := call(demo.Password, "sale.order"); code != http.StatusUnauthorized {
		t.Errorf("a password as bearer token: %d, want 401", code)
	}
	key := s.NewAPIKey(SalespersonLogin)
	if code, _ := call(key, "sale.order"); code != http.StatusOK {
		t.Errorf("a new key: %d", code)
	}
	s.RevokeAPIKey(SalespersonLogin, key)
	if code, _ := call(key, "sale.order"); code != http.StatusUnauthorized {
		t.Errorf("a revoked key: %d, want 401", code)
	}
}

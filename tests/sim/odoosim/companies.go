package odoosim

import (
	"fmt"
	"strings"
)

// Companies, as in Odoo's multi-company demo: records of sale.order,
// account.move and crm.lead belong to one (company_id); a user works in
// the companies of res.users.company_ids, a call sees those its context
// names in allowed_company_ids (each must be one of the user's, else
// AccessError) or, without it, only the user's default company.
const (
	// CompanyMain is YourCompany, every user's default company.
	CompanyMain int64 = 1
	// CompanyChicago is the second company; only Sofia Manager works in
	// it unless AllowCompanies says otherwise.
	CompanyChicago int64 = 2
)

var companyModels = []string{"sale.order", "account.move", "crm.lead"}

// addCompanies adds res.company, company fields and the second company's
// records to the demo data.
func addCompanies(ms map[string]*model) {
	ms["res.company"] = &model{Name: "res.company", Label: "Companies", Order: "sequence, name", nextID: 1,
		Fields: map[string]*field{"name": req(char("Company Name")), "sequence": integer("Sequence"), "currency_id": m2o("Currency", "res.currency")}}
	ms["res.company"].add(record{"id": CompanyMain, "name": "YourCompany", "sequence": int64(0), "currency_id": int64(1)})
	ms["res.company"].add(record{"id": CompanyChicago, "name": "My Company (Chicago)", "sequence": int64(10), "currency_id": int64(1)})
	for _, name := range companyModels {
		m := ms[name]
		m.Fields["company_id"] = def(req(m2o("Company", "res.company")), CompanyMain)
		for _, r := range m.recs {
			r["company_id"] = CompanyMain
		}
	}
	users := ms["res.users"]
	users.Fields["company_id"] = m2o("Company", "res.company")
	users.Fields["company_ids"] = m2m("Companies", "res.company")
	for _, r := range users.recs {
		r["company_id"], r["company_ids"] = CompanyMain, []int64{CompanyMain}
		if r["login"] == ManagerLogin {
			r["company_ids"] = []int64{CompanyMain, CompanyChicago}
		}
	}
	order := ms["sale.order"]
	order.add(record{"id": int64(47), "name": "S00047", "partner_id": int64(13), "date_order": "2026-11-12 10:00:00", "state": "sale",
		"currency_id": int64(1), "user_id": int64(7), "team_id": int64(1), "invoice_status": "to invoice", "company_id": CompanyChicago,
		"create_date": "2026-10-01 09:00:00", "write_date": "2026-10-01 09:00:00", "create_uid": int64(2), "write_uid": int64(2)})
	ms["sale.order.line"].add(record{"id": int64(109), "order_id": int64(47), "product_id": int64(7), "name": "[FURN_7777] Office Chair",
		"product_uom_qty": 10.0, "price_unit": 70.0, "qty_delivered": 0.0, "qty_invoiced": 0.0, "discount": 0.0, "product_uom": int64(1),
		"create_date": "2026-10-01 09:00:00", "write_date": "2026-10-01 09:00:00", "create_uid": int64(2), "write_uid": int64(2)})
}

// AllowCompanies sets the companies login works in (res.users.company_ids).
func (s *Server) AllowCompanies(login string, ids ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.models["res.users"].recs {
		if r["login"] == login {
			r["company_ids"] = append([]int64(nil), ids...)
		}
	}
}

// LastContext returns the call context of the last "model.method" call
// (nil if it had none): tests check what Maria sent.
func (s *Server) LastContext(key string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.contexts[key]
}

// allowedCompanies is what a call of u with context ctx may see.
func (s *Server) allowedCompanies(u *user, ctx map[string]any) ([]int64, *Fault) {
	rec := s.models["res.users"].get(u.UID)
	var mine []int64
	def := CompanyMain
	if rec != nil {
		mine, _ = rec["company_ids"].([]int64)
		if id, ok := rec["company_id"].(int64); ok && id != 0 {
			def = id
		}
	}
	raw, ok := ctx["allowed_company_ids"].([]any)
	if !ok || len(raw) == 0 {
		return []int64{def}, nil
	}
	out := make([]int64, 0, len(raw))
	for _, v := range raw {
		id, _ := v.(int64)
		if !containsID(mine, id) && !u.has(GroupSystem) {
			return nil, &Fault{Code: 4, String: "Access to unauthorized or invalid companies."}
		}
		out = append(out, id)
	}
	return out, nil
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// scope ANDs u's record rules and the companies into a search domain.
func (s *Server) scope(u *user, m *model, companies []int64, domain []any) []any {
	d := restrict(u, m.Name, domain)
	if _, ok := m.Fields["company_id"]; !ok {
		return d
	}
	ids := make([]any, len(companies))
	for i, c := range companies {
		ids[i] = c
	}
	cd := []any{"|", []any{"company_id", "=", false}, []any{"company_id", "in", ids}}
	if len(d) == 0 {
		return cd
	}
	return append(append([]any{"&"}, cd...), wrapAnd(d)...)
}

// checkCompanies is Odoo's multi-company record rule for records named by
// id: one of another company is an AccessError.
func (s *Server) checkCompanies(u *user, m *model, companies []int64, recs []record) *Fault {
	if _, ok := m.Fields["company_id"]; !ok {
		return nil
	}
	var bad []string
	for _, r := range recs {
		if c, _ := r["company_id"].(int64); c != 0 && !containsID(companies, c) {
			bad = append(bad, fmt.Sprintf("%s (id=%d)", s.displayName(m.Name, r["id"].(int64)), r["id"].(int64)))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &Fault{Code: 4, String: fmt.Sprintf("Due to security restrictions, you are not allowed to access '%s' (%s) records.\n\nRecords: %s\nUser: %s (id=%d)\n\nThis restriction is due to the following rules:\n- %s multi-company\n\nNote: this might be a multi-company issue. Switching company may help - in Odoo, not in the conversation.\n\nContact your administrator to request access if necessary.",
		m.Label, m.Name, strings.Join(bad, ", "), u.Name, u.UID, m.Label)}
}

package odoosim

import (
	"fmt"
	"strings"
)

// Odoo decides what a user may do in two steps, and so does the simulator:
// access rights (ir.model.access: may this user read / write / create this
// model at all?) and record rules (ir.rule: which records of it?). Both
// are the demo database's, reduced to the models the simulator has.

// perm is one operation of ir.model.access.
type perm string

const (
	permRead   perm = "read"
	permWrite  perm = "write"
	permCreate perm = "create"
)

// acl is one access right: group → model → the operations it grants
// ("r", "rw", "rwc").
var acl = map[string]map[string]string{
	GroupUser: {
		"res.partner": "rwc", "res.users": "r", "res.country": "r", "res.currency": "r", "uom.uom": "r",
		"product.category": "r", "product.template": "r", "product.product": "r",
		"stock.warehouse": "r", "stock.location": "r", "stock.quant": "r",
		"crm.stage": "r", "crm.team": "r", "project.project": "r", "project.task.type": "r", "project.task": "rwc",
	},
	GroupSalesman:    {"sale.order": "rwc", "sale.order.line": "rwc", "crm.lead": "rwc"},
	GroupSaleManager: {"sale.order": "rwc", "sale.order.line": "rwc", "crm.lead": "rwc"},
	GroupInvoice:     {"account.move": "rwc", "account.move.line": "rwc"},
}

// groupLabels name groups the way Odoo's AccessError lists them.
var groupLabels = map[string]string{
	GroupSystem: "Administration/Settings", GroupUser: "User types/Internal User",
	GroupSalesman: "Sales/User: Own Documents Only", GroupSaleManager: "Sales/Administrator",
	GroupInvoice: "Invoicing/Billing",
}

// rule is one ir.rule: groups it applies to, and its domain for a user.
type rule struct {
	name   string
	groups []string
	domain func(uid int64) []any
}

// rules per model. As in Odoo, a user's rules of different groups are
// ORed; a group with an "all records" rule (nil domain) lifts the others.
var rules = map[string][]rule{
	"sale.order": {
		{name: "Personal Orders", groups: []string{GroupSalesman}, domain: func(uid int64) []any {
			return []any{"|", []any{"user_id", "=", uid}, []any{"user_id", "=", false}}
		}},
		{name: "All Orders", groups: []string{GroupSaleManager}},
	},
	"sale.order.line": {
		{name: "Personal Order Lines", groups: []string{GroupSalesman}, domain: func(uid int64) []any {
			return []any{"|", []any{"order_id.user_id", "=", uid}, []any{"order_id.user_id", "=", false}}
		}},
		{name: "All Orders Lines", groups: []string{GroupSaleManager}},
	},
	"crm.lead": {
		{name: "Personal Leads", groups: []string{GroupSalesman}, domain: func(uid int64) []any {
			return []any{"|", []any{"user_id", "=", uid}, []any{"user_id", "=", false}}
		}},
		{name: "All Leads", groups: []string{GroupSaleManager}},
	},
}

// allowed reports whether u has the access right op on model.
func allowed(u *user, model string, op perm) bool {
	if u.has(GroupSystem) {
		return true
	}
	for _, g := range u.Groups {
		if ops, ok := acl[g][model]; ok && strings.Contains(ops, string(op)[:1]) {
			return true
		}
	}
	return false
}

// accessFault is Odoo 17's AccessError for a missing access right
// (ir.model.access._make_access_error), fault 4 on /xmlrpc/2.
func accessFault(u *user, m *model, op perm) *Fault {
	verb := map[perm]string{permRead: "access", permWrite: "modify", permCreate: "create"}[op]
	var groups []string
	for _, g := range []string{GroupUser, GroupSalesman, GroupSaleManager, GroupInvoice} {
		if ops, ok := acl[g][m.Name]; ok && strings.Contains(ops, string(op)[:1]) {
			groups = append(groups, "\t- "+groupLabels[g])
		}
	}
	groups = append(groups, "\t- "+groupLabels[GroupSystem])
	return &Fault{Code: 4, String: fmt.Sprintf("You are not allowed to %s '%s' (%s) records.\n\nThis operation is allowed for the following groups:\n%s\n\nContact your administrator to request access if necessary.",
		verb, m.Label, m.Name, strings.Join(groups, "\n"))}
}

// ruleDomain is the record-rule filter of model for u: nil when every
// record is visible.
func ruleDomain(u *user, model string) (domain []any, names []string) {
	if u.has(GroupSystem) {
		return nil, nil
	}
	var parts [][]any
	for _, r := range rules[model] {
		applies := false
		for _, g := range r.groups {
			applies = applies || u.has(g)
		}
		if !applies {
			continue
		}
		if r.domain == nil {
			return nil, nil // an "all records" rule of one of the user's groups
		}
		parts = append(parts, r.domain(u.UID))
		names = append(names, r.name)
	}
	for i, p := range parts {
		if i > 0 {
			domain = append([]any{"|"}, domain...)
		}
		domain = append(domain, wrapAnd(p)...)
	}
	return domain, names
}

// restrict ANDs the user's record rules into a search domain.
func restrict(u *user, model string, domain []any) []any {
	rd, _ := ruleDomain(u, model)
	if rd == nil {
		return domain
	}
	if len(domain) == 0 {
		return rd
	}
	return append(append([]any{"&"}, wrapAnd(rd)...), wrapAnd(domain)...)
}

// checkRules returns Odoo 17's record-rule AccessError when one of recs is
// outside what u may see or change (ir.rule._make_access_error).
func (s *Server) checkRules(u *user, m *model, recs []record, op perm) *Fault {
	rd, names := ruleDomain(u, m.Name)
	if rd == nil {
		return nil
	}
	p, f := s.compile(m, rd)
	if f != nil {
		return f
	}
	var bad []string
	for _, r := range recs {
		if !p(r) {
			bad = append(bad, fmt.Sprintf("%s (id=%d)", s.displayName(m.Name, r["id"].(int64)), r["id"].(int64)))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	verb := map[perm]string{permRead: "access", permWrite: "modify", permCreate: "create"}[op]
	for i := range names {
		names[i] = "- " + names[i]
	}
	return &Fault{Code: 4, String: fmt.Sprintf("Due to security restrictions, you are not allowed to %s '%s' (%s) records.\n\nRecords: %s\nUser: %s (id=%d)\n\nThis restriction is due to the following rules:\n%s\n\nContact your administrator to request access if necessary.",
		verb, m.Label, m.Name, strings.Join(bad, ", "), u.Name, u.UID, strings.Join(names, "\n"))}
}

// checkAccess applies the access right a method needs; fields_get needs
// none (Odoo filters fields by group, not by model access).
func (s *Server) checkAccess(u *user, m *model, method string) *Fault {
	var op perm
	switch method {
	case "search", "search_read", "search_count", "read", "name_search":
		op = permRead
	case "create":
		op = permCreate
	case "write":
		op = permWrite
	default:
		return nil
	}
	if !allowed(u, m.Name, op) {
		return accessFault(u, m, op)
	}
	return nil
}

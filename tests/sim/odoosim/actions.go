package odoosim

import "fmt"

// action is a business method on records, as Odoo implements it for the
// demo models: check reports Odoo's UserError when a record is in the
// wrong state, apply changes it; result is what the method returns.
type action struct {
	check  func(s *Server, m *model, r record) string
	apply  func(s *Server, m *model, r record)
	result any
}

var actions = map[string]*action{
	// sale.order.action_confirm: quotation → sales order.
	"sale.order.action_confirm": {
		check: func(s *Server, m *model, r record) string {
			if st := r["state"]; st != "draft" && st != "sent" {
				return fmt.Sprintf("The following orders are not in a state requiring confirmation: %s", r["name"])
			}
			return ""
		},
		apply:  func(s *Server, m *model, r record) { r["state"] = "sale" },
		result: true,
	},
	// account.move.action_post: draft entry → posted, numbered.
	"account.move.action_post": {
		check: func(s *Server, m *model, r record) string {
			if r["state"] == "posted" {
				return fmt.Sprintf("The entry %s (id %d) is already posted.", r["name"], r["id"])
			}
			if r["state"] == "cancel" {
				return "You can't post a cancelled entry."
			}
			return ""
		},
		apply: func(s *Server, m *model, r record) {
			r["state"] = "posted"
			if n, _ := r["name"].(string); n == "" || n == "/" {
				r["name"] = fmt.Sprintf("INV/2026/%05d", r["id"])
			}
		},
		// Odoo's action_post returns False.
		result: false,
	},
	// crm.lead.action_set_won: the won stage, probability 100.
	"crm.lead.action_set_won": {
		check: func(s *Server, m *model, r record) string {
			if r["active"] == false {
				return "You cannot mark an archived lead as won."
			}
			return ""
		},
		apply: func(s *Server, m *model, r record) {
			r["stage_id"], r["probability"] = int64(4), 100.0
		},
		result: true,
	},
}

// runAction runs a business method on the records named by ids as u: it
// needs write access, obeys record rules and companies, and either changes
// every record or none.
func (s *Server) runAction(u *user, m *model, companies []int64, act *action, a arguments) (any, *Fault) {
	ids, ok := a.ids(0, "ids")
	if !ok || len(ids) == 0 {
		return nil, &Fault{Code: 1, String: traceback("TypeError: missing 1 required positional argument: 'ids'")}
	}
	if !allowed(u, m.Name, permWrite) {
		return nil, accessFault(u, m, permWrite)
	}
	recs := make([]record, 0, len(ids))
	for _, id := range ids {
		r := m.get(id)
		if r == nil {
			return nil, missing(m, ids, u.UID)
		}
		recs = append(recs, r)
	}
	if f := s.checkRules(u, m, recs, permWrite); f != nil {
		return nil, f
	}
	if f := s.checkCompanies(u, m, companies, recs); f != nil {
		return nil, f
	}
	for _, r := range recs {
		if msg := act.check(s, m, r); msg != "" {
			return nil, &Fault{Code: 2, String: msg}
		}
	}
	now := s.now().UTC().Format("2006-01-02 15:04:05")
	for _, r := range recs {
		act.apply(s, m, r)
		r["write_date"], r["write_uid"] = now, u.UID
	}
	return act.result, nil
}

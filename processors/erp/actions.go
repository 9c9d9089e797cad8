package erp

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/mariahq/maria/schemas"
)

// DefaultActions are the business actions Maria may propose (confirming a
// quotation, posting an invoice, marking a lead won).
const DefaultActions = "sale.order.action_confirm,account.move.action_post,crm.lead.action_set_won"

// OpAction is the command op that calls an allow-listed business method.
const OpAction = "action"

var actionRe = regexp.MustCompile(`^([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)\.([a-z][a-z0-9_]*)$`)

// ActionList is MARIA_ERP_ACTIONS: model → the public methods commands may
// call on its records.
type ActionList struct{ methods map[string]map[string]bool }

// ParseActions reads "model.method,model.method" (commas, spaces or
// newlines between entries). Private methods (leading _) are refused.
func ParseActions(s string) (*ActionList, error) {
	a := &ActionList{methods: map[string]map[string]bool{}}
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\t' }) {
		m := actionRe.FindStringSubmatch(e)
		if m == nil {
			return nil, fmt.Errorf("action %q: want model.method, e.g. sale.order.action_confirm", e)
		}
		if a.methods[m[1]] == nil {
			a.methods[m[1]] = map[string]bool{}
		}
		a.methods[m[1]][m[2]] = true
	}
	return a, nil
}

// Allowed reports whether method may be called on model's records.
func (a *ActionList) Allowed(model, method string) bool {
	return a != nil && a.methods[model][method]
}

// List is every allowed "model.method", sorted.
func (a *ActionList) List() []string {
	if a == nil {
		return nil
	}
	var out []string
	for model, ms := range a.methods {
		for m := range ms {
			out = append(out, model+"."+m)
		}
	}
	sort.Strings(out)
	return out
}

// checkAction validates an action command: an allow-listed method, the
// records to call it on, no values.
func (s *Service) checkAction(cmd *schemas.ERPCommand) error {
	if cmd.Model == "" || cmd.Method == "" {
		return refused("an action needs a model and a method")
	}
	if !s.cfg.Actions.Allowed(cmd.Model, cmd.Method) {
		return refused("%s.%s is not an action Maria may run (allowed: %s)", cmd.Model, cmd.Method, strings.Join(s.cfg.Actions.List(), ", "))
	}
	if len(cmd.Values) > 0 {
		return refused("an action takes no values")
	}
	if len(cmd.IDs) == 0 {
		return refused("an action needs the ids of the records to act on")
	}
	if len(cmd.IDs) > s.cfg.MaxLimit {
		return refused("an action runs on at most %d records at once", s.cfg.MaxLimit)
	}
	for _, id := range cmd.IDs {
		if id <= 0 {
			return refused("ids must be positive, got %d", id)
		}
	}
	return nil
}

package erp

import (
	"testing"

	"github.com/mariahq/maria/schemas"
)

// MARIA_ERP_READ_ONLY (the replay sandbox): every command is answered with a
// refusal and nothing reaches Odoo; queries still work.
func TestReadOnlyRefusesEveryCommandWithoutCallingOdoo(t *testing.T) {
	h := start(t, func(c *Config) { c.ReadOnly = true }, nil)
	for _, cmd := range []schemas.ERPCommand{
		{Op: "create", Model: "crm.lead", ConfirmedBy: "U1", Values: map[string]any{"name": "Acme"}},
		{Op: "write", Model: "crm.lead", IDs: []int64{1}, ConfirmedBy: "U1", Values: map[string]any{"name": "x"}},
	} {
		env := h.command(cmd)
		res := h.resultFor(env.ID)
		if res.OK || res.Error != ReadOnlyRefusal || res.ProposalID != proposalOf(env) {
			t.Fatalf("%s: result %+v", cmd.Op, res)
		}
	}
	if n := h.sim.Calls("*"); n != 0 {
		t.Fatalf("read-only commands reached Odoo: %d object calls", n)
	}
	if rep := h.query(schemas.ERPQuery{Method: "search_count", Model: "res.partner"}); rep.Error != "" {
		t.Fatalf("query refused in read-only mode: %+v", rep)
	}
}

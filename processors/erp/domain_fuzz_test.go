package erp

import (
	"context"
	"encoding/json"
	"testing"
)

// FuzzValidateDomain: a domain written by the model (or a hostile user
// through it) is JSON of any shape. Validation must refuse or normalize it,
// never panic, and what it lets through must be a well-formed prefix
// expression of allow-listed terms.
func FuzzValidateDomain(f *testing.F) {
	allow, err := ParseAllowList("sale.order:name,state,partner_id,amount_total;res.partner:name,email")
	if err != nil {
		f.Fatal(err)
	}
	relation := func(_ context.Context, model, field string) (string, error) {
		if model == "sale.order" && field == "partner_id" {
			return "res.partner", nil
		}
		return "", nil
	}
	for _, seed := range []string{
		`[["name","=","S00042"]]`,
		`["|",["state","=","sale"],["amount_total",">",1000]]`,
		`["!",["partner_id.name","ilike","azure"]]`,
		`[["name","in",["a","b"]]]`, `["&"]`, `[[]]`, `[["x"]]`, `[1,2,3]`, `"nope"`, `[["name","=",{"a":1}]]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d []any
		if json.Unmarshal([]byte(s), &d) != nil {
			return
		}
		out, err := validateDomain(context.Background(), allow, "sale.order", d, relation)
		if err != nil {
			if !IsRefused(err) {
				t.Fatalf("unexpected error kind for %s: %v", s, err)
			}
			return
		}
		if len(out) != len(d) {
			t.Fatalf("normalized domain changed length: %v → %v", d, out)
		}
		// Prefix arity, read right to left as Odoo does: every operator finds
		// its operands; what remains on the stack is implicitly AND-ed.
		stack := 0
		for i := len(out) - 1; i >= 0; i-- {
			switch out[i] {
			case "&", "|":
				if stack < 2 {
					t.Fatalf("accepted %v: operator %v lacks operands", out, out[i])
				}
				stack--
			case "!":
				if stack < 1 {
					t.Fatalf("accepted %v: ! lacks an operand", out)
				}
			default:
				stack++
			}
		}
		if len(out) > 0 && stack < 1 {
			t.Fatalf("accepted an empty expression: %v", out)
		}
	})
}

package schemas

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCanonicalJSON(t *testing.T) {
	for _, c := range []struct {
		name string
		in   any
		want string
	}{
		{"keys sorted", map[string]any{"b": 1, "a": "x"}, `{"a":"x","b":1}`},
		{"float64 integer", map[string]any{"n": 5000.0}, `{"n":5000}`},
		{"json.Number with .0", map[string]any{"n": json.Number("5000.0")}, `{"n":5000}`},
		{"big id exact", map[string]any{"n": json.Number("9007199254740993")}, `{"n":9007199254740993}`},
		{"fraction", map[string]any{"n": json.Number("12.50")}, `{"n":12.5}`},
		{"nested", map[string]any{"v": []any{map[string]any{"id": 2.0}}}, `{"v":[{"id":2}]}`},
	} {
		got, err := CanonicalJSON(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %s (%v), want %s", c.name, got, err, c.want)
		}
	}
}

// The digest ai puts in the Confirm button must equal the one erp computes
// from the command it receives (numbers decoded differently), and change
// with anything the user confirms.
func TestERPCommandDigest(t *testing.T) {
	cmd := ERPCommand{Op: "create", Model: "crm.lead", ProposalID: "p1", Values: map[string]any{"name": "Acme", "expected_revenue": 5000.0}}
	base, err := ERPCommandDigest(cmd, "U1", "T1", "C1")
	if err != nil || len(base) != 64 {
		t.Fatalf("%q %v", base, err)
	}
	raw, _ := json.Marshal(cmd)
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var received ERPCommand
	if err := dec.Decode(&received); err != nil {
		t.Fatal(err)
	}
	received.ConfirmedBy, received.Confirmation = "U1", &ERPConfirmation{EventID: "e", StreamSeq: 3}
	if d, _ := ERPCommandDigest(received, "U1", "T1", "C1"); d != base {
		t.Fatal("the same command decoded with json.Number must give the same digest")
	}
	for name, change := range map[string]func(c *ERPCommand) (string, string, string){
		"value": func(c *ERPCommand) (string, string, string) {
			c.Values = map[string]any{"name": "Acme", "expected_revenue": 5001}
			return "U1", "T1", "C1"
		},
		"op":       func(c *ERPCommand) (string, string, string) { c.Op = "write"; return "U1", "T1", "C1" },
		"ids":      func(c *ERPCommand) (string, string, string) { c.IDs = []int64{1}; return "U1", "T1", "C1" },
		"proposal": func(c *ERPCommand) (string, string, string) { c.ProposalID = "p2"; return "U1", "T1", "C1" },
		"asker":    func(*ERPCommand) (string, string, string) { return "U2", "T1", "C1" },
		"channel":  func(*ERPCommand) (string, string, string) { return "U1", "T1", "C2" },
	} {
		c := cmd
		u, tm, ch := change(&c)
		if d, _ := ERPCommandDigest(c, u, tm, ch); d == base {
			t.Errorf("changing the %s must change the digest", name)
		}
	}
}

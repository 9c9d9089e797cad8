package ai

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mariahq/maria/schemas"
)

// recordsERP answers reads of display_name from a fixed set of records and
// fields_get from fixed field types, like the ERP query service would.
type recordsERP struct {
	names  map[string]map[int64]string // model → id → display_name
	fields map[string]map[string]any   // model → fields_get
	calls  []schemas.ERPQuery
}

func (f *recordsERP) Query(_ context.Context, q schemas.ERPQuery) (*schemas.ERPReply, error) {
	f.calls = append(f.calls, q)
	switch q.Method {
	case "fields_get":
		return &schemas.ERPReply{Fields: f.fields[q.Model]}, nil
	case "read":
		var recs []map[string]any
		for _, id := range q.IDs {
			if n, ok := f.names[q.Model][id]; ok {
				recs = append(recs, map[string]any{"id": json.Number(jsonInt(id)), "display_name": n})
			}
		}
		return &schemas.ERPReply{Records: recs}, nil
	}
	return &schemas.ERPReply{Error: "unexpected " + q.Method, Kind: "refused"}, nil
}

func jsonInt(id int64) string { b, _ := json.Marshal(id); return string(b) }

func testERP() *recordsERP {
	return &recordsERP{
		names: map[string]map[int64]string{"crm.lead": {12: "Acme deal"}, "res.partner": {10: "Azure Interior"}},
		fields: map[string]map[string]any{"crm.lead": {
			"partner_id": map[string]any{"type": "many2one", "relation": "res.partner"},
			"priority":   map[string]any{"type": "selection"},
		}},
	}
}

func TestProposalShowsRecordAndValueNames(t *testing.T) {
	r := newToolRunner(testERP(), nil, "U1")
	cmd := schemas.ERPCommand{Op: "write", Model: "crm.lead", IDs: []int64{12}, ProposalID: "p1",
		Values: map[string]any{"partner_id": 10.0, "priority": "2", "name": "<!channel> & co"}}
	names, err := r.names(context.Background(), cmd)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proposal{Proposal: schemas.Proposal{ID: "p1", Command: cmd, User: "U1", RecordNames: names.Records, ValueNames: names.Values, Digest: "d1"}}
	if got := Describe(p); got != "update `crm.lead` #12 “Acme deal”" {
		t.Fatalf("describe: %s", got)
	}
	blocks := ProposalBlocks(p)
	text := blocks[0].(map[string]any)["text"].(map[string]any)["text"].(string)
	for _, want := range []string{"• `partner_id`: 10 (“Azure Interior”)", "• `priority`: \"2\"", "&lt;!channel&gt; &amp; co"} {
		if !strings.Contains(text, want) {
			t.Errorf("section lacks %q:\n%s", want, text)
		}
	}
	if id := blocks[2].(map[string]any)["block_id"]; id != schemas.ConfirmBlockID("d1") {
		t.Errorf("block_id %v", id)
	}
	if ProposalAttachment(p) != nil {
		t.Error("short values need no attachment")
	}
}

func TestProposalOnMissingRecordIsRefusedToTheModel(t *testing.T) {
	r := newToolRunner(testERP(), func(context.Context, string, schemas.ERPCommand, ProposalNames) (string, error) {
		t.Fatal("no proposal may be made for a record that does not exist")
		return "", nil
	}, "U1")
	out, err := r.proposal(context.Background(), "c1", ToolWrite, toolArgs{Model: "crm.lead", IDs: []int64{12, 99}, Values: map[string]any{"priority": "1"}})
	if err != nil || !strings.Contains(out.Content, "#99 not found") {
		t.Fatalf("%v %s", err, out.Content)
	}
}

func TestLongValuesAreAttachedInFull(t *testing.T) {
	long := strings.Repeat("0123456789", 50) + "END"
	many := map[string]any{"description": long}
	for i := 0; i < 40; i++ { // many fields that overflow one section together
		many["x_field_"+string(rune('a'+i%26))+jsonInt(int64(i))] = strings.Repeat("v", 90)
	}
	for name, values := range map[string]map[string]any{"one long value": {"description": long, "name": "Acme"}, "many fields": many} {
		p := &Proposal{Proposal: schemas.Proposal{ID: "0123456789abcdef", User: "U1", ThreadTS: "1.2",
			Command: schemas.ERPCommand{Op: "create", Model: "crm.lead", Values: values}}}
		text := ProposalBlocks(p)[0].(map[string]any)["text"].(map[string]any)["text"].(string)
		if len(text) > 3000 || !strings.Contains(text, "attached `proposal-0123456789ab.json`") {
			t.Fatalf("%s: section (%d chars) should point at the attachment:\n%s", name, len(text), text)
		}
		up := ProposalAttachment(p)
		if up == nil || up.ThreadTS != "1.2" || up.Filename != "proposal-0123456789ab.json" {
			t.Fatalf("%s: attachment %+v", name, up)
		}
		var got struct {
			Values map[string]any `json:"values"`
		}
		if err := json.Unmarshal(up.Content, &got); err != nil {
			t.Fatal(err)
		}
		for k, v := range values {
			if got.Values[k] != v {
				t.Fatalf("%s: attachment value %s = %v, want in full", name, k, got.Values[k])
			}
		}
	}
}

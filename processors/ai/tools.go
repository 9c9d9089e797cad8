package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/mariahq/maria/schemas"
	openai "github.com/sashabaranov/go-openai"
)

// Tool names: the model reaches Odoo only through these.
const (
	ToolSearchRead = "odoo_search_read"
	ToolCount      = "odoo_count"
	ToolFields     = "odoo_fields"
	ToolCreate     = "odoo_create"
	ToolWrite      = "odoo_write"
)

const (
	defaultLimit = 20
	maxLimit     = 80
	// maxToolResultChars bounds what one tool result puts into the prompt.
	maxToolResultChars = 12000
	// maxNoteChars bounds a tool result's summary kept in memory.
	maxNoteChars = 600
)

var domainSchema = map[string]any{
	"type":        "array",
	"description": `Odoo domain: a list of [field, operator, value] triples, optionally with "&", "|", "!" prefix operators. Example: [["name","=","S00123"]] or [["partner_id.name","ilike","Acme"],["payment_state","!=","paid"]]. Empty list matches everything.`,
	"items": map[string]any{
		"anyOf": []any{
			map[string]any{"type": "string", "enum": []string{"&", "|", "!"}},
			map[string]any{"type": "array", "minItems": 3, "maxItems": 3,
				"items": map[string]any{"anyOf": []any{
					map[string]any{"type": "string"}, map[string]any{"type": "number"}, map[string]any{"type": "boolean"},
					map[string]any{"type": "null"},
					map[string]any{"type": "array", "items": map[string]any{"type": []string{"string", "number", "boolean"}}},
				}}},
		},
	},
}

var modelSchema = map[string]any{"type": "string", "description": "Odoo model technical name, e.g. sale.order, account.move, res.partner, product.product, stock.quant, crm.lead."}

// ToolDefinitions are the tools offered to the model, with exactly the
// documented names and parameters.
func ToolDefinitions() []openai.Tool {
	fn := func(name, desc string, props map[string]any, required ...string) openai.Tool {
		return openai.Tool{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name: name, Description: desc,
			Parameters: map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false},
		}}
	}
	tools := []openai.Tool{
		fn(ToolSearchRead, "Search Odoo records and read fields. Use for any question about orders, invoices, customers, products, stock, leads.",
			map[string]any{
				"model":   modelSchema,
				"domain":  domainSchema,
				"fields":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "Fields to read; keep it short (e.g. name, partner_id, state, amount_total)."},
				"limit":   map[string]any{"type": "integer", "minimum": 1, "maximum": maxLimit, "description": "Maximum records (default 20)."},
				"order":   map[string]any{"type": "string", "description": "Sort order, e.g. \"date_order desc\"."},
				"company": companySchema,
			}, "model"),
		fn(ToolCount, "Count Odoo records matching a domain.",
			map[string]any{"model": modelSchema, "domain": domainSchema, "company": companySchema}, "model"),
		fn(ToolFields, "List the fields of an Odoo model (name, type, label) to know what to read or filter on.",
			map[string]any{"model": modelSchema}, "model"),
		fn(ToolCreate, "PROPOSE creating an Odoo record. Nothing is written: the user gets Confirm/Cancel buttons and only their click executes it.",
			map[string]any{"model": modelSchema,
				"values": map[string]any{"type": "object", "description": "Field values of the new record, e.g. {\"name\": \"Acme\", \"expected_revenue\": 5000}."}},
			"model", "values"),
		fn(ToolWrite, "PROPOSE updating Odoo records. Nothing is written: the user gets Confirm/Cancel buttons and only their click executes it.",
			map[string]any{"model": modelSchema,
				"ids":    map[string]any{"type": "array", "items": map[string]any{"type": "integer"}, "description": "Ids of the records to update."},
				"values": map[string]any{"type": "object", "description": "Field values to set."}},
			"model", "ids", "values"),
	}
	return append(tools, depthTools(fn)...)
}

var modelName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)
var fieldName = regexp.MustCompile(`^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$`)

type toolArgs struct {
	Model  string         `json:"model"`
	Domain []any          `json:"domain"`
	Fields []string       `json:"fields"`
	Limit  int            `json:"limit"`
	Order  string         `json:"order"`
	IDs    []int64        `json:"ids"`
	Values map[string]any `json:"values"`
	// erp_aggregate, odoo_action, and a company a question names.
	GroupBy  []string `json:"groupby"`
	Measures []string `json:"measures"`
	Action   string   `json:"action"`
	Company  string   `json:"company"`
}

// ProposeFunc turns a create/write into a proposal, shown with names, and
// returns its id.
type ProposeFunc func(ctx context.Context, callID string, cmd schemas.ERPCommand, names ProposalNames) (string, error)

// RecordLink is an Odoo record the answer is about.
type RecordLink struct {
	Model string
	ID    int64
	Label string
	URL   string
}

// toolRunner executes the tool calls of one turn. Identical reads are
// answered from a per-turn cache.
type toolRunner struct {
	erp     ERPQuerier
	propose ProposeFunc
	user    string
	// team is the asker's workspace: with user, the erp service runs the
	// reads as their own Odoo user when they connected one.
	team string
	// access gates every call (see erpAccess.gate); the zero value refuses all.
	access erpAccess
	// patience waits out an unavailable ERP (patience.go); nil never waits.
	patience *patience
	// hosts learns the Odoo host of replies, so record links stay clickable.
	hosts *linkPolicy
	// refusals are the reasons calls were refused, for the user.
	refusals []string

	mu    sync.Mutex
	cache map[string]*schemas.ERPReply
	links []RecordLink
	seen  map[string]bool
	// notConnected: a read was refused until the asker connects their own
	// Odoo user (the answer then offers the connect button).
	notConnected bool
}

func newToolRunner(erp ERPQuerier, propose ProposeFunc, user string) *toolRunner {
	return &toolRunner{erp: erp, propose: propose, user: user, cache: map[string]*schemas.ERPReply{}, seen: map[string]bool{}}
}

// toolOutcome is one executed call: the content for the model and a short
// note for memory.
type toolOutcome struct {
	Content string
	Note    string
	// Status for the thread's status line while it runs.
	Model string
}

// Run executes one call. Errors are tool results for the model, never Go
// errors, except when ctx ended or a proposal could not be stored.
func (r *toolRunner) Run(ctx context.Context, call openai.ToolCall) (toolOutcome, error) {
	name := call.Function.Name
	if out, refused := r.refuse(name); refused {
		return out, nil
	}
	var a toolArgs
	if err := json.Unmarshal([]byte(orEmptyObject(call.Function.Arguments)), &a); err != nil {
		metricToolCalls.WithLabelValues(toolLabel(name), "invalid").Inc()
		return errOutcome(name, "", "invalid arguments: "+err.Error()), nil
	}
	if !modelName.MatchString(a.Model) {
		metricToolCalls.WithLabelValues(toolLabel(name), "invalid").Inc()
		return errOutcome(name, a.Model, fmt.Sprintf("invalid model name %q: use a technical name such as sale.order", a.Model)), nil
	}
	switch name {
	case ToolSearchRead:
		return r.read(ctx, name, schemas.ERPQuery{Method: "search_read", Model: a.Model, Domain: a.Domain, Fields: a.Fields, Limit: clampLimit(a.Limit), Order: a.Order, Company: a.Company})
	case ToolCount:
		return r.read(ctx, name, schemas.ERPQuery{Method: "search_count", Model: a.Model, Domain: a.Domain, Company: a.Company})
	case ToolAggregate:
		return r.aggregate(ctx, a)
	case ToolAction:
		return r.actionProposal(ctx, call.ID, a)
	case ToolFields:
		return r.read(ctx, name, schemas.ERPQuery{Method: "fields_get", Model: a.Model})
	case ToolCreate, ToolWrite:
		return r.proposal(ctx, call.ID, name, a)
	}
	metricToolCalls.WithLabelValues("unknown", "invalid").Inc()
	return errOutcome(name, a.Model, fmt.Sprintf("unknown tool %q; available: %s, %s, %s, %s, %s, %s, %s", name, ToolSearchRead, ToolCount, ToolFields, ToolAggregate, ToolCreate, ToolWrite, ToolAction)), nil
}

func (r *toolRunner) read(ctx context.Context, tool string, q schemas.ERPQuery) (toolOutcome, error) {
	for _, f := range q.Fields {
		if !fieldName.MatchString(f) {
			metricToolCalls.WithLabelValues(tool, "invalid").Inc()
			return errOutcome(tool, q.Model, fmt.Sprintf("invalid field name %q", f)), nil
		}
	}
	if q.Domain == nil && q.Method != "fields_get" {
		q.Domain = []any{}
	}
	q.Team, q.User = r.team, r.user
	keyRaw, _ := json.Marshal(q)
	key := string(keyRaw)
	r.mu.Lock()
	reply, cached := r.cache[key]
	r.mu.Unlock()
	if !cached {
		var err error
		reply, err = r.queryERP(ctx, q)
		if err != nil {
			return toolOutcome{}, err
		}
		if r.hosts != nil && reply.BaseURL != "" {
			r.hosts.Learn(reply.BaseURL)
		}
		if reply.Kind != "unavailable" { // a transient outage may be over on the next call
			r.mu.Lock()
			r.cache[key] = reply
			r.mu.Unlock()
		}
	}
	outcome := "ok"
	switch {
	case cached:
		outcome = "cached"
	case reply.Error != "":
		outcome = "error"
	}
	metricToolCalls.WithLabelValues(tool, outcome).Inc()
	if reply.Kind == schemas.ERPKindNotConnected {
		r.mu.Lock()
		r.notConnected = true
		r.mu.Unlock()
	}
	if reply.Error != "" {
		return errOutcomeKind(tool, q.Model, reply.Error, reply.Kind), nil
	}
	return r.render(tool, q, reply), nil
}

// render builds the model's view of a reply (records with links) and the
// memory note summarizing it.
func (r *toolRunner) render(tool string, q schemas.ERPQuery, reply *schemas.ERPReply) toolOutcome {
	domain, _ := json.Marshal(q.Domain)
	switch q.Method {
	case "read_group":
		return renderGroups(tool, q, reply)
	case "search_count":
		n := int64(0)
		if reply.Count != nil {
			n = *reply.Count
		}
		out := map[string]any{"model": q.Model, "count": n}
		withCompanies(out, reply)
		content, _ := json.Marshal(out)
		return toolOutcome{Content: string(content), Model: q.Model,
			Note: truncate(fmt.Sprintf("%s %s %s → %d", tool, q.Model, domain, n), maxNoteChars)}
	case "fields_get":
		names := make([]string, 0, len(reply.Fields))
		for k := range reply.Fields {
			names = append(names, k)
		}
		sort.Strings(names)
		content, _ := json.Marshal(map[string]any{"model": q.Model, "fields": reply.Fields})
		return toolOutcome{Content: truncate(string(content), maxToolResultChars), Model: q.Model,
			Note: truncate(fmt.Sprintf("%s %s → %d fields: %s", tool, q.Model, len(names), strings.Join(names, ", ")), maxNoteChars)}
	}
	records := make([]map[string]any, 0, len(reply.Records))
	var parts []string
	for _, rec := range reply.Records {
		out := make(map[string]any, len(rec)+1)
		for k, v := range rec {
			out[k] = v
		}
		id, hasID := recordID(rec)
		label := recordLabel(rec, id)
		if hasID && reply.BaseURL != "" {
			u := schemas.OdooRecordLink(reply.BaseURL, q.Model, id, reply.OdooMajor)
			out["url"] = u
			r.addLink(RecordLink{Model: q.Model, ID: id, Label: label, URL: u})
		}
		records = append(records, out)
		parts = append(parts, summarizeRecord(rec, label))
	}
	out := map[string]any{"model": q.Model, "count": len(records), "records": records}
	withCompanies(out, reply)
	content, _ := json.Marshal(out)
	c := string(content)
	if len(c) > maxToolResultChars {
		c = truncate(c, maxToolResultChars) + ` (truncated: ask for fewer fields or records)`
	}
	note := fmt.Sprintf("%s %s %s → %d record(s)", tool, q.Model, domain, len(records))
	if len(parts) > 0 {
		note += ": " + strings.Join(parts, "; ")
	}
	return toolOutcome{Content: c, Model: q.Model, Note: truncate(note, maxNoteChars)}
}

func (r *toolRunner) addLink(l RecordLink) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := fmt.Sprintf("%s/%d", l.Model, l.ID)
	if r.seen[k] {
		return
	}
	r.seen[k] = true
	r.links = append(r.links, l)
}

// Links returns the records read in this turn, in first-seen order.
func (r *toolRunner) Links() []RecordLink {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RecordLink(nil), r.links...)
}

// NotConnected reports a read refused until the asker connects their own
// Odoo user.
func (r *toolRunner) NotConnected() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.notConnected
}

func (r *toolRunner) proposal(ctx context.Context, callID, tool string, a toolArgs) (toolOutcome, error) {
	if len(a.Values) == 0 {
		metricToolCalls.WithLabelValues(tool, "invalid").Inc()
		return errOutcome(tool, a.Model, "values must name at least one field to set"), nil
	}
	for k := range a.Values {
		if !fieldName.MatchString(k) || strings.Contains(k, ".") {
			metricToolCalls.WithLabelValues(tool, "invalid").Inc()
			return errOutcome(tool, a.Model, fmt.Sprintf("invalid field name %q", k)), nil
		}
	}
	cmd := schemas.ERPCommand{Op: "create", Model: a.Model, Values: a.Values}
	if tool == ToolWrite {
		if len(a.IDs) == 0 {
			metricToolCalls.WithLabelValues(tool, "invalid").Inc()
			return errOutcome(tool, a.Model, "ids must list the records to update"), nil
		}
		cmd.Op, cmd.IDs = "write", a.IDs
	}
	return r.submit(ctx, callID, tool, cmd)
}

// submit posts cmd as a proposal (with the names of the records it
// touches) and tells the model it awaits the user's click.
func (r *toolRunner) submit(ctx context.Context, callID, tool string, cmd schemas.ERPCommand) (toolOutcome, error) {
	a := toolArgs{Model: cmd.Model, Values: cmd.Values}
	names, err := r.names(ctx, cmd)
	var missing *errMissingRecords
	if errors.As(err, &missing) {
		metricToolCalls.WithLabelValues(tool, "invalid").Inc()
		return errOutcome(tool, a.Model, missing.Error()), nil
	}
	if err != nil {
		return toolOutcome{}, err
	}
	id, err := r.propose(ctx, callID, cmd, names)
	if err != nil {
		return toolOutcome{}, err
	}
	metricToolCalls.WithLabelValues(tool, "proposal").Inc()
	content, _ := json.Marshal(map[string]any{
		"status":      "proposal_posted",
		"proposal_id": id,
		"message": fmt.Sprintf("Nothing was changed yet. A proposal to %s %s with Confirm/Cancel buttons was posted in the thread; "+
			"it runs only if <@%s> clicks Confirm. Tell the user briefly what was proposed and that it awaits their confirmation.", cmd.Op, cmd.Model, r.user),
	})
	values, _ := json.Marshal(a.Values)
	note := fmt.Sprintf("proposed %s %s %s (proposal %s, awaiting confirmation)", cmd.Op, cmd.Model, values, id)
	switch cmd.Op {
	case "write":
		note = fmt.Sprintf("proposed write %s ids %v %s (proposal %s, awaiting confirmation)", cmd.Model, cmd.IDs, values, id)
	case "action":
		note = fmt.Sprintf("proposed action %s.%s on ids %v (proposal %s, awaiting confirmation)", cmd.Model, cmd.Method, cmd.IDs, id)
	}
	return toolOutcome{Content: string(content), Model: a.Model, Note: truncate(note, maxNoteChars)}, nil
}

func errOutcome(tool, model, msg string) toolOutcome {
	return errOutcomeKind(tool, model, msg, "invalid")
}

func errOutcomeKind(tool, model, msg, kind string) toolOutcome {
	content, _ := json.Marshal(map[string]any{"error": msg, "kind": kind})
	return toolOutcome{Content: string(content), Model: model,
		Note: truncate(fmt.Sprintf("%s %s failed (%s): %s", tool, model, kind, msg), maxNoteChars)}
}

func toolLabel(name string) string {
	switch name {
	case ToolSearchRead, ToolCount, ToolFields, ToolCreate, ToolWrite, ToolAggregate, ToolAction:
		return name
	}
	return "unknown"
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return defaultLimit
	case n > maxLimit:
		return maxLimit
	}
	return n
}

func orEmptyObject(s string) string {
	if strings.TrimSpace(s) == "" {
		return "{}"
	}
	return s
}

func recordID(rec map[string]any) (int64, bool) {
	switch v := rec["id"].(type) {
	case float64:
		return int64(v), true
	case int64:
		return v, true
	case int:
		return int64(v), true
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	}
	return 0, false
}

func recordLabel(rec map[string]any, id int64) string {
	for _, k := range []string{"display_name", "name"} {
		if s, ok := rec[k].(string); ok && s != "" {
			return s
		}
	}
	return fmt.Sprintf("#%d", id)
}

// summarizeRecord renders a record as "label (field: value, ...)" with
// many2one pairs shown by name and empty (false) values left out.
func summarizeRecord(rec map[string]any, label string) string {
	keys := make([]string, 0, len(rec))
	for k := range rec {
		if k == "id" || k == "display_name" || k == "name" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var fs []string
	for _, k := range keys {
		v := plainValue(rec[k])
		if v == "" {
			continue
		}
		fs = append(fs, k+": "+truncate(v, 60))
	}
	if id, ok := recordID(rec); ok {
		label = fmt.Sprintf("%s [id %d]", label, id)
	}
	if len(fs) == 0 {
		return label
	}
	return label + " (" + strings.Join(fs, ", ") + ")"
}

func plainValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if !x {
			return ""
		}
		return "true"
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%.2f", x)
	case []any:
		// many2one: [id, "name"]
		if len(x) == 2 {
			if s, ok := x[1].(string); ok {
				return s
			}
		}
		if len(x) == 0 {
			return ""
		}
		return fmt.Sprintf("%d items", len(x))
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

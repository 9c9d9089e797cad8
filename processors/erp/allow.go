package erp

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// AllowList says which Odoo models and fields Maria may touch. Nothing
// outside it reaches Odoo: not a model, not a field in a domain, an order,
// a field list or written values.
type AllowList struct {
	models map[string]fieldSet
}

// fieldSet is the allowed fields of one model; all means "*".
type fieldSet struct {
	all    bool
	fields map[string]bool
	order  []string // as written, for defaults and docs
}

// Always allowed: every model has them and they reveal nothing.
var implicitFields = map[string]bool{"id": true, "display_name": true}

var (
	modelRe = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)
	fieldRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

// DefaultReadAllow is the default read allow-list (MARIA_ERP_ALLOW).
const DefaultReadAllow = "res.partner:name,display_name,is_company,parent_id,email,phone,mobile,street,city,zip,country_id,vat,website,ref,user_id,customer_rank,supplier_rank,active,child_ids,create_date,write_date;" +
	"sale.order:name,partner_id,date_order,state,amount_untaxed,amount_tax,amount_total,currency_id,user_id,team_id,invoice_status,client_order_ref,validity_date,commitment_date,order_line,create_date,write_date;" +
	"sale.order.line:order_id,product_id,name,product_uom_qty,qty_delivered,qty_invoiced,price_unit,discount,price_subtotal,price_total,product_uom,state;" +
	"account.move:name,partner_id,move_type,state,invoice_date,invoice_date_due,amount_untaxed,amount_tax,amount_total,amount_residual,payment_state,currency_id,invoice_origin,ref,invoice_user_id,create_date;" +
	"product.product:name,default_code,barcode,list_price,standard_price,type,categ_id,uom_id,sale_ok,purchase_ok,active,qty_available,virtual_available,product_tmpl_id,description_sale;" +
	"product.template:name,default_code,barcode,list_price,standard_price,type,categ_id,uom_id,sale_ok,purchase_ok,active,qty_available,product_variant_ids,description_sale;" +
	"stock.quant:product_id,location_id,warehouse_id,quantity,reserved_quantity,available_quantity;" +
	"crm.lead:name,partner_id,partner_name,contact_name,email_from,phone,expected_revenue,probability,stage_id,user_id,team_id,type,date_deadline,priority,active,description,create_date,write_date;" +
	"project.task:name,project_id,user_ids,stage_id,date_deadline,priority,state,description,partner_id,active,create_date,write_date;" +
	"res.users:name,login,email,partner_id"

// DefaultWriteAllow is the default write allow-list (MARIA_ERP_WRITE_ALLOW):
// contacts, leads and tasks, plus a few safe sale order fields. Invoices,
// stock and products are read-only unless an operator says otherwise.
const DefaultWriteAllow = "res.partner:name,is_company,parent_id,email,phone,mobile,street,city,zip,country_id,website,ref,user_id,comment;" +
	"crm.lead:name,partner_id,partner_name,contact_name,email_from,phone,expected_revenue,probability,stage_id,user_id,team_id,type,date_deadline,priority,description;" +
	"project.task:name,project_id,user_ids,stage_id,date_deadline,priority,description,partner_id;" +
	"sale.order:client_order_ref,validity_date,commitment_date,note,user_id"

// ParseAllowList reads the compact syntax
//
//	model:field,field;model:*
//
// or, when s starts with "{", a JSON object {"model": ["field", ...]}
// (["*"] for every field). Whitespace and newlines are ignored.
func ParseAllowList(s string) (*AllowList, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		return parseAllowJSON([]byte(s))
	}
	a := &AllowList{models: map[string]fieldSet{}}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		model, fields, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("allow-list entry %q: want model:field,field or model:*", part)
		}
		var list []string
		for _, f := range strings.Split(fields, ",") {
			if f = strings.TrimSpace(f); f != "" {
				list = append(list, f)
			}
		}
		if err := a.add(strings.TrimSpace(model), list); err != nil {
			return nil, err
		}
	}
	if len(a.models) == 0 {
		return nil, fmt.Errorf("allow-list is empty")
	}
	return a, nil
}

func parseAllowJSON(raw []byte) (*AllowList, error) {
	var m map[string][]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("allow-list JSON: want {\"model\": [\"field\", ...]}: %w", err)
	}
	a := &AllowList{models: map[string]fieldSet{}}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := a.add(k, m[k]); err != nil {
			return nil, err
		}
	}
	if len(a.models) == 0 {
		return nil, fmt.Errorf("allow-list is empty")
	}
	return a, nil
}

// LoadAllowList reads a file holding either syntax.
func LoadAllowList(path string) (*AllowList, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("allow-list file: %w", err)
	}
	return ParseAllowList(string(raw))
}

func (a *AllowList) add(model string, fields []string) error {
	if !modelRe.MatchString(model) {
		return fmt.Errorf("allow-list: %q is not a model name", model)
	}
	if len(fields) == 0 {
		return fmt.Errorf("allow-list: model %s lists no fields (use * for all)", model)
	}
	fs := a.models[model]
	if fs.fields == nil {
		fs.fields = map[string]bool{}
	}
	for _, f := range fields {
		if f == "*" {
			fs.all = true
			continue
		}
		if !fieldRe.MatchString(f) {
			return fmt.Errorf("allow-list: %q is not a field name (model %s)", f, model)
		}
		if !fs.fields[f] {
			fs.fields[f] = true
			fs.order = append(fs.order, f)
		}
	}
	a.models[model] = fs
	return nil
}

// Model reports whether model is allowed.
func (a *AllowList) Model(model string) bool {
	_, ok := a.models[model]
	return ok
}

// Field reports whether field of model is allowed.
func (a *AllowList) Field(model, field string) bool {
	fs, ok := a.models[model]
	if !ok {
		return false
	}
	return fs.all || fs.fields[field] || implicitFields[field]
}

// AllFields reports whether the model is allowed with "*".
func (a *AllowList) AllFields(model string) bool { return a.models[model].all }

// Fields lists the explicitly allowed fields of model, in declared order.
func (a *AllowList) Fields(model string) []string {
	return append([]string(nil), a.models[model].order...)
}

// Models lists the allowed models, sorted.
func (a *AllowList) Models() []string {
	out := make([]string, 0, len(a.models))
	for m := range a.models {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// String renders the compact syntax.
func (a *AllowList) String() string {
	var parts []string
	for _, m := range a.Models() {
		fs := a.models[m]
		list := fs.order
		if fs.all {
			list = append([]string{"*"}, list...)
		}
		parts = append(parts, m+":"+strings.Join(list, ","))
	}
	return strings.Join(parts, ";")
}

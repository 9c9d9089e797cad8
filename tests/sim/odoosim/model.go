package odoosim

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

// field is one column of a model, as fields_get describes it.
type field struct {
	Type     string // char, text, html, integer, float, monetary, boolean, date, datetime, selection, many2one, one2many, many2many
	Label    string
	Relation string
	Inverse  string // one2many: the many2one field on Relation pointing back
	Required bool
	Readonly bool
	// Selection lists (value, label) pairs.
	Selection [][2]string
	// Compute derives a readonly value at read time.
	Compute func(s *Server, rec record) any
	// Default fills the field on create when the values do not set it.
	Default func(s *Server, m *model) any
}

// record stores values the simulator's way: many2one as int64 (0 empty),
// x2many as []int64, text as string ("" empty), numbers, bools.
type record map[string]any

type model struct {
	Name   string
	Label  string
	Fields map[string]*field
	// Order is _order (default "id").
	Order string
	// RecName is _rec_name (default "name").
	RecName string
	recs    []record // ascending id
	nextID  int64
}

func (m *model) get(id int64) record {
	i := sort.Search(len(m.recs), func(i int) bool { return m.recs[i]["id"].(int64) >= id })
	if i < len(m.recs) && m.recs[i]["id"].(int64) == id {
		return m.recs[i]
	}
	return nil
}

func (m *model) add(r record) {
	id := r["id"].(int64)
	if id >= m.nextID {
		m.nextID = id + 1
	}
	m.recs = append(m.recs, r)
	sort.Slice(m.recs, func(i, j int) bool { return m.recs[i]["id"].(int64) < m.recs[j]["id"].(int64) })
}

func (s *Server) displayName(model string, id int64) string {
	m := s.models[model]
	if m == nil {
		return ""
	}
	r := m.get(id)
	if r == nil {
		return ""
	}
	if m.Name == "product.product" || m.Name == "product.template" {
		if code, _ := r["default_code"].(string); code != "" {
			return "[" + code + "] " + r["name"].(string)
		}
	}
	if m.Name == "res.partner" {
		if p, _ := r["parent_id"].(int64); p != 0 {
			return s.displayName("res.partner", p) + ", " + r["name"].(string)
		}
	}
	name, _ := r[m.recName()].(string)
	return name
}

func (m *model) recName() string {
	if m.RecName != "" {
		return m.RecName
	}
	return "name"
}

// value returns a field's stored or computed value.
func (s *Server) value(m *model, r record, name string) any {
	if name == "display_name" {
		return s.displayName(m.Name, r["id"].(int64))
	}
	f := m.Fields[name]
	if f != nil && f.Compute != nil {
		return f.Compute(s, r)
	}
	if f != nil && f.Type == "one2many" {
		var ids []int64
		for _, c := range s.models[f.Relation].recs {
			if c[f.Inverse] == r["id"] {
				ids = append(ids, c["id"].(int64))
			}
		}
		return ids
	}
	return r[name]
}

// wire renders a value as Odoo sends it: empty → false, many2one → [id, name].
func (s *Server) wire(m *model, r record, name string) any {
	v := s.value(m, r, name)
	if name == "id" {
		return v
	}
	if name == "display_name" {
		return v
	}
	f := m.Fields[name]
	switch f.Type {
	case "many2one":
		id, _ := v.(int64)
		if id == 0 {
			return false
		}
		return []any{id, s.displayName(f.Relation, id)}
	case "one2many", "many2many":
		ids, _ := v.([]int64)
		out := make([]any, len(ids))
		for i, id := range ids {
			out[i] = id
		}
		return out
	case "boolean":
		b, _ := v.(bool)
		return b
	case "integer":
		n, _ := v.(int64)
		return n
	case "float", "monetary":
		switch x := v.(type) {
		case float64:
			return x
		case int64:
			return float64(x)
		}
		return 0.0
	default:
		str, _ := v.(string)
		if str == "" {
			return false
		}
		return str
	}
}

func invalidField(m *model, name string) *Fault {
	return &Fault{Code: 1, String: traceback(fmt.Sprintf("ValueError: Invalid field %s on model %s", pyRepr(name), pyRepr(m.Name)))}
}

func pyRepr(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

func (m *model) has(name string) bool {
	if name == "id" || name == "display_name" {
		return true
	}
	_, ok := m.Fields[name]
	return ok
}

// read renders records with the given fields (all when empty).
func (s *Server) read(m *model, recs []record, fields []string) ([]any, *Fault) {
	if len(fields) == 0 {
		for name, f := range m.Fields {
			if f.Type != "binary" {
				fields = append(fields, name)
			}
		}
		fields = append(fields, "display_name")
		sort.Strings(fields)
	}
	for _, f := range fields {
		if !m.has(f) {
			return nil, invalidField(m, f)
		}
	}
	out := make([]any, 0, len(recs))
	for _, r := range recs {
		row := map[string]any{"id": r["id"]}
		for _, f := range fields {
			row[f] = s.wire(m, r, f)
		}
		out = append(out, row)
	}
	return out, nil
}

// --- domains -------------------------------------------------------------

var operators = map[string]bool{"=": true, "!=": true, "<>": true, "<": true, ">": true, "<=": true, ">=": true,
	"in": true, "not in": true, "like": true, "not like": true, "ilike": true, "not ilike": true,
	"=like": true, "=ilike": true, "=?": true}

// search filters, orders and pages a model's records.
func (s *Server) search(m *model, domain []any, order string, offset, limit int) ([]record, *Fault) {
	pred, f := s.compile(m, domain)
	if f != nil {
		return nil, f
	}
	var out []record
	for _, r := range m.recs {
		if active, ok := m.Fields["active"]; ok && active.Type == "boolean" && !mentions(domain, "active") {
			if a, _ := r["active"].(bool); !a {
				continue
			}
		}
		if pred(r) {
			out = append(out, r)
		}
	}
	if f := s.sortRecords(m, out, order); f != nil {
		return nil, f
	}
	if offset > 0 {
		if offset >= len(out) {
			out = nil
		} else {
			out = out[offset:]
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func mentions(domain []any, name string) bool {
	for _, e := range domain {
		if t, ok := e.([]any); ok && len(t) == 3 && t[0] == name {
			return true
		}
	}
	return false
}

type pred func(record) bool

// compile turns a prefix-notation domain into a predicate. Top-level terms
// without an operator are ANDed, as in Odoo.
func (s *Server) compile(m *model, domain []any) (pred, *Fault) {
	var stack []pred
	for i := len(domain) - 1; i >= 0; i-- {
		switch e := domain[i].(type) {
		case string:
			switch e {
			case "!":
				if len(stack) < 1 {
					return nil, badDomain(domain)
				}
				a := stack[len(stack)-1]
				stack[len(stack)-1] = func(r record) bool { return !a(r) }
			case "&", "|":
				if len(stack) < 2 {
					return nil, badDomain(domain)
				}
				a, b := stack[len(stack)-1], stack[len(stack)-2]
				stack = stack[:len(stack)-2]
				if e == "&" {
					stack = append(stack, func(r record) bool { return a(r) && b(r) })
				} else {
					stack = append(stack, func(r record) bool { return a(r) || b(r) })
				}
			default:
				return nil, badDomain(domain)
			}
		case []any:
			p, f := s.term(m, e)
			if f != nil {
				return nil, f
			}
			stack = append(stack, p)
		default:
			return nil, badDomain(domain)
		}
	}
	return func(r record) bool {
		for _, p := range stack {
			if !p(r) {
				return false
			}
		}
		return true
	}, nil
}

func badDomain(d []any) *Fault {
	return &Fault{Code: 1, String: traceback(fmt.Sprintf("ValueError: Invalid domain: %v", d))}
}

func (s *Server) term(m *model, t []any) (pred, *Fault) {
	if len(t) != 3 {
		return nil, &Fault{Code: 1, String: traceback(fmt.Sprintf("ValueError: Invalid leaf %v", t))}
	}
	path, ok1 := t[0].(string)
	op, ok2 := t[1].(string)
	if !ok1 || !ok2 {
		return nil, &Fault{Code: 1, String: traceback(fmt.Sprintf("ValueError: Invalid leaf %v", t))}
	}
	op = strings.ToLower(op)
	if !operators[op] {
		return nil, &Fault{Code: 1, String: traceback(fmt.Sprintf("ValueError: Invalid leaf %v", t))}
	}
	want := t[2]
	name, rest, dotted := strings.Cut(path, ".")
	if !m.has(name) {
		return nil, invalidField(m, name)
	}
	f := m.Fields[name]
	if dotted {
		if f == nil || f.Type != "many2one" {
			return nil, invalidField(m, path)
		}
		sub := s.models[f.Relation]
		p, fault := s.term(sub, []any{rest, op, want})
		if fault != nil {
			return nil, fault
		}
		return func(r record) bool {
			id, _ := s.value(m, r, name).(int64)
			if id == 0 {
				return false
			}
			return p(sub.get(id))
		}, nil
	}
	return func(r record) bool {
		v := s.value(m, r, name)
		if f != nil && f.Type == "many2one" {
			id, _ := v.(int64)
			if _, isStr := want.(string); isStr && (op == "ilike" || op == "like" || op == "=" || op == "!=" || op == "not ilike" || op == "=ilike") {
				if id == 0 {
					return op == "!=" || op == "not ilike"
				}
				return match(s.displayName(f.Relation, id), op, want)
			}
			if id == 0 {
				return match(false, op, want)
			}
			return match(id, op, want)
		}
		if ids, ok := v.([]int64); ok { // x2many: any element matches
			if len(ids) == 0 {
				return match(false, op, want)
			}
			for _, id := range ids {
				if match(id, op, want) {
					return true
				}
			}
			return strings.HasPrefix(op, "not") || op == "!="
		}
		if str, ok := v.(string); ok && str == "" {
			return match(false, op, want)
		}
		return match(v, op, want)
	}, nil
}

// match compares a stored value with a domain value, Odoo-style (SQL-ish:
// false stands for NULL).
func match(v any, op string, want any) bool {
	switch op {
	case "=?":
		if want == false || want == nil {
			return true
		}
		return match(v, "=", want)
	case "=":
		return equal(v, want)
	case "!=", "<>":
		return !equal(v, want)
	case "in", "not in":
		list, _ := want.([]any)
		found := false
		for _, w := range list {
			if equal(v, w) {
				found = true
			}
		}
		return found == (op == "in")
	case "<", ">", "<=", ">=":
		c, ok := compare(v, want)
		if !ok {
			return false
		}
		switch op {
		case "<":
			return c < 0
		case ">":
			return c > 0
		case "<=":
			return c <= 0
		}
		return c >= 0
	case "like", "ilike", "not like", "not ilike", "=like", "=ilike":
		str, ok := v.(string)
		if !ok {
			return strings.HasPrefix(op, "not")
		}
		pat := fmt.Sprint(want)
		ci := strings.Contains(op, "ilike")
		if ci {
			str, pat = strings.ToLower(str), strings.ToLower(pat)
		}
		var hit bool
		if strings.HasPrefix(op, "=") {
			hit = likeRegexp(pat).MatchString(str)
		} else {
			hit = strings.Contains(str, pat)
		}
		return hit != strings.HasPrefix(op, "not")
	}
	return false
}

func likeRegexp(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pat {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

func equal(a, b any) bool {
	if fa, ok := num(a); ok {
		fb, ok := num(b)
		return ok && math.Abs(fa-fb) < 1e-9
	}
	if a == false || a == nil {
		return b == false || b == nil
	}
	return a == b
}

func compare(a, b any) (int, bool) {
	if fa, ok := num(a); ok {
		fb, ok := num(b)
		if !ok {
			return 0, false
		}
		switch {
		case fa < fb:
			return -1, true
		case fa > fb:
			return 1, true
		}
		return 0, true
	}
	sa, ok1 := a.(string)
	sb, ok2 := b.(string)
	if !ok1 || !ok2 {
		return 0, false
	}
	return strings.Compare(sa, sb), true
}

// sortRecords applies an order spec such as "date_order desc, id".
func (s *Server) sortRecords(m *model, recs []record, order string) *Fault {
	if order == "" {
		order = m.Order
	}
	if order == "" {
		order = "id"
	}
	type key struct {
		name string
		desc bool
	}
	var keys []key
	for _, part := range strings.Split(order, ",") {
		words := strings.Fields(part)
		if len(words) == 0 || len(words) > 2 {
			return &Fault{Code: 1, String: traceback(fmt.Sprintf("ValueError: Invalid \"order\" specified (%s).", order))}
		}
		k := key{name: words[0]}
		if len(words) == 2 {
			switch strings.ToLower(words[1]) {
			case "asc":
			case "desc":
				k.desc = true
			default:
				return &Fault{Code: 1, String: traceback(fmt.Sprintf("ValueError: Invalid \"order\" specified (%s).", order))}
			}
		}
		if !m.has(k.name) {
			return invalidField(m, k.name)
		}
		keys = append(keys, k)
	}
	sortVal := func(r record, name string) any {
		v := s.value(m, r, name)
		if f := m.Fields[name]; f != nil && f.Type == "many2one" {
			id, _ := v.(int64)
			return s.displayName(f.Relation, id)
		}
		return v
	}
	sort.SliceStable(recs, func(i, j int) bool {
		for _, k := range keys {
			c, ok := compare(sortVal(recs[i], k.name), sortVal(recs[j], k.name))
			if !ok || c == 0 {
				continue
			}
			if k.desc {
				return c > 0
			}
			return c < 0
		}
		return false
	})
	return nil
}

// --- writes --------------------------------------------------------------

// assign validates and stores values into r, like BaseModel.write.
func (s *Server) assign(m *model, r record, vals map[string]any) *Fault {
	for name, v := range vals {
		f := m.Fields[name]
		if f == nil || name == "id" {
			return invalidField(m, name)
		}
		if f.Compute != nil || f.Type == "one2many" {
			continue // Odoo ignores writes to non-stored computed fields
		}
		stored, fault := s.coerce(m, name, f, v)
		if fault != nil {
			return fault
		}
		r[name] = stored
	}
	return nil
}

func (s *Server) coerce(m *model, name string, f *field, v any) (any, *Fault) {
	wrong := func() *Fault {
		return &Fault{Code: 1, String: traceback(fmt.Sprintf("ValueError: Wrong value for %s.%s: %v", m.Name, name, pyValue(v)))}
	}
	switch f.Type {
	case "many2one":
		if v == false {
			return int64(0), nil
		}
		id, ok := v.(int64)
		if !ok {
			return nil, wrong()
		}
		if s.models[f.Relation].get(id) == nil {
			return nil, &Fault{Code: 2, String: fmt.Sprintf("The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.\n\nModel: %s (%s)\nConstraint: %s_%s_fkey", m.Label, m.Name, strings.ReplaceAll(m.Name, ".", "_"), name)}
		}
		return id, nil
	case "many2many":
		list, ok := v.([]any)
		if !ok {
			return nil, wrong()
		}
		var ids []int64
		for _, e := range list {
			id, ok := e.(int64)
			if !ok {
				return nil, wrong()
			}
			ids = append(ids, id)
		}
		return ids, nil
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, wrong()
		}
		return b, nil
	case "integer":
		if v == false {
			return int64(0), nil
		}
		n, ok := v.(int64)
		if !ok {
			return nil, wrong()
		}
		return n, nil
	case "float", "monetary":
		if v == false {
			return 0.0, nil
		}
		n, ok := num(v)
		if !ok {
			return nil, wrong()
		}
		return n, nil
	case "selection":
		if v == false {
			return "", nil
		}
		str, ok := v.(string)
		if !ok {
			return nil, wrong()
		}
		for _, sel := range f.Selection {
			if sel[0] == str {
				return str, nil
			}
		}
		return nil, wrong()
	default:
		if v == false {
			return "", nil
		}
		str, ok := v.(string)
		if !ok {
			return nil, wrong()
		}
		return str, nil
	}
}

func pyValue(v any) string {
	if str, ok := v.(string); ok {
		return pyRepr(str)
	}
	return fmt.Sprint(v)
}

func (s *Server) create(m *model, vals map[string]any, u *user) (int64, *Fault) {
	r := record{"id": m.nextID}
	for name, f := range m.Fields {
		switch f.Type {
		case "boolean":
			r[name] = name == "active"
		case "many2many":
			r[name] = []int64(nil)
		}
	}
	if f := s.assign(m, r, vals); f != nil {
		return 0, f
	}
	for name, f := range m.Fields {
		if _, set := vals[name]; !set && f.Default != nil {
			r[name] = f.Default(s, m)
		}
	}
	for name, f := range m.Fields {
		if !f.Required || f.Compute != nil {
			continue
		}
		if v := r[name]; v == nil || v == "" || v == int64(0) {
			return 0, &Fault{Code: 2, String: fmt.Sprintf("The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n- Delete: another model requires the record being deleted. If possible, archive it instead.\n\nModel: %s (%s)\nField: %s (%s)", m.Label, m.Name, f.Label, name)}
		}
	}
	now := s.now().UTC().Format(time.DateTime)
	if _, ok := m.Fields["create_date"]; ok {
		r["create_date"] = now
		r["write_date"] = now
		r["create_uid"] = u.UID
		r["write_uid"] = u.UID
	}
	if f := s.checkRules(u, m, []record{r}, permCreate); f != nil {
		return 0, f
	}
	m.nextID++
	m.add(r)
	return r["id"].(int64), nil
}

func (s *Server) write(m *model, ids []int64, vals map[string]any, u *user) *Fault {
	var recs []record
	for _, id := range ids {
		r := m.get(id)
		if r == nil {
			return missing(m, ids, u.UID)
		}
		recs = append(recs, r)
	}
	if f := s.checkRules(u, m, recs, permWrite); f != nil {
		return f
	}
	for _, r := range recs {
		// Validate on a copy first so a failed write changes nothing.
		tmp := record{}
		for k, v := range r {
			tmp[k] = v
		}
		if f := s.assign(m, tmp, vals); f != nil {
			return f
		}
	}
	now := s.now().UTC().Format(time.DateTime)
	for _, r := range recs {
		_ = s.assign(m, r, vals)
		if _, ok := m.Fields["write_date"]; ok {
			r["write_date"] = now
			r["write_uid"] = u.UID
		}
	}
	return nil
}

func missing(m *model, ids []int64, uid int64) *Fault {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return &Fault{Code: 2, String: fmt.Sprintf("Record does not exist or has been deleted.\n(Record: %s(%s,), User: %d)", m.Name, strings.Join(parts, ", "), uid)}
}

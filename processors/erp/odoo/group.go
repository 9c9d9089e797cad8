package odoo

import (
	"strings"
)

// GroupOptions page and order a grouped read.
type GroupOptions struct {
	Limit int
	// Order is e.g. "amount_total:sum desc" or "partner_id".
	Order string
}

// readGroupCall builds the method and arguments of a grouped read for a
// server of the given major version: Odoo 19's formatted_read_group(domain,
// groupby, aggregates, …) or read_group(domain, fields, groupby, …,
// lazy=False) before. aggregates are "field:sum|avg|count…" or "__count".
func readGroupCall(major int, domain []any, groupby, aggregates []string, o GroupOptions) (method string, kw map[string]any) {
	kw = map[string]any{"domain": sanitizeDomain(domain), "groupby": fieldList(groupby)}
	if o.Limit > 0 {
		kw["limit"] = int64(o.Limit)
	}
	if major >= FormattedReadGroupSince {
		kw["aggregates"] = fieldList(aggregates)
		if o.Order != "" {
			kw["order"] = o.Order
		}
		return "formatted_read_group", kw
	}
	kw["fields"] = fieldList(aggregates)
	kw["lazy"] = false
	if o.Order != "" {
		kw["orderby"] = legacyOrder(o.Order)
	}
	return "read_group", kw
}

// legacyOrder turns "amount_total:sum desc" into read_group's orderby,
// which names aggregated fields without their function.
func legacyOrder(order string) string {
	parts := strings.Split(order, ",")
	for i, p := range parts {
		f := strings.Fields(strings.TrimSpace(p))
		if len(f) == 0 {
			continue
		}
		if name, agg, ok := strings.Cut(f[0], ":"); ok && agg != "" && !isGranularity(agg) {
			f[0] = name
		}
		parts[i] = strings.Join(f, " ")
	}
	return strings.Join(parts, ", ")
}

// Granularities Odoo groups dates by ("date_order:month").
var Granularities = []string{"day", "week", "month", "quarter", "year"}

func isGranularity(s string) bool {
	for _, g := range Granularities {
		if g == s {
			return true
		}
	}
	return false
}

// asGroups normalizes either method's answer to one shape: a row per group
// with each groupby spec ("partner_id", "date_order:month") → its value
// (many2one as {"id","name"}, a date bucket as its label), each aggregate
// spec ("amount_total:sum") → its value and "__count" → the group's size.
func asGroups(op string, v any, groupby, aggregates []string) ([]map[string]any, error) {
	rows, err := asRecords(op, v)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		g := make(map[string]any, len(groupby)+len(aggregates)+1)
		for _, spec := range groupby {
			g[spec] = groupValue(r[spec])
		}
		for _, spec := range aggregates {
			if spec == "__count" {
				continue
			}
			val, ok := r[spec] // formatted_read_group: "amount_total:sum"
			if !ok {
				name, _, _ := strings.Cut(spec, ":") // read_group: "amount_total"
				val = r[name]
			}
			g[spec] = val
		}
		n, ok := asInt64(r["__count"])
		if !ok {
			// read_group(lazy=True) names the count after the field
			n, _ = asInt64(r[groupby0(groupby)+"_count"])
		}
		g["__count"] = n
		out = append(out, g)
	}
	return out, nil
}

func groupby0(g []string) string {
	if len(g) == 0 {
		return ""
	}
	name, _, _ := strings.Cut(g[0], ":")
	return name
}

// groupValue decodes one group key: [id, name] → {"id","name"}; a date
// bucket ["2026-11-01", "November 2026"] (Odoo 19) or "November 2026" → the
// label; false (no value) stays false.
func groupValue(v any) any {
	if x, ok := v.([]any); ok && len(x) == 2 {
		if ref, ok := many2one(x); ok {
			return ref
		}
		if label, ok := x[1].(string); ok {
			return label
		}
	}
	return v
}

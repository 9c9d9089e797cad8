package odoosim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// readGroup serves read_group (Odoo ≤ 18: fields like "amount_total:sum",
// answers keyed by field name, lazy=False gives "__count") and
// formatted_read_group (Odoo 19: aggregates like "amount_total:sum" and
// "__count", answers keyed by the aggregate spec), each only on the
// versions that have it. Dates group by day, week, month, quarter or year.
func (s *Server) readGroup(u *user, m *model, companies []int64, method string, a arguments) (any, *Fault) {
	modern := method == "formatted_read_group"
	if modern != (s.major >= 19) {
		return nil, &Fault{Code: 1, String: traceback(fmt.Sprintf("AttributeError: The method '%s' does not exist on the model '%s'", method, m.Name))}
	}
	if !allowed(u, m.Name, permRead) {
		return nil, accessFault(u, m, permRead)
	}
	domain, f := a.domain(0, "domain")
	if f != nil {
		return nil, f
	}
	var specs, groupby []string
	if modern {
		groupby, specs = a.strings(1, "groupby"), a.strings(2, "aggregates")
	} else {
		specs, groupby = a.strings(1, "fields"), a.strings(2, "groupby")
	}
	if len(groupby) == 0 {
		return nil, &Fault{Code: 1, String: traceback("ValueError: groupby is required")}
	}
	for _, g := range groupby {
		name, gran, _ := strings.Cut(g, ":")
		fd := m.Fields[name]
		if fd == nil {
			return nil, invalidField(m, name)
		}
		if gran != "" && fd.Type != "date" && fd.Type != "datetime" {
			return nil, &Fault{Code: 1, String: traceback(fmt.Sprintf("ValueError: Granularity set on a no-datetime field or property: '%s'", g))}
		}
	}
	type agg struct{ spec, field, fn string }
	var aggs []agg
	for _, sp := range specs {
		if sp == "__count" {
			continue
		}
		name, fn, _ := strings.Cut(sp, ":")
		if m.Fields[name] == nil {
			return nil, invalidField(m, name)
		}
		switch fn {
		case "sum", "avg", "min", "max", "count":
		default:
			return nil, &Fault{Code: 1, String: traceback(fmt.Sprintf("ValueError: Invalid aggregate function '%s' in %q", fn, sp))}
		}
		aggs = append(aggs, agg{sp, name, fn})
	}
	recs, f := s.search(m, s.scope(u, m, companies, domain), "", 0, 0)
	if f != nil {
		return nil, f
	}
	type group struct {
		key  string
		vals []any
		recs []record
	}
	byKey := map[string]*group{}
	var groups []*group
	for _, r := range recs {
		vals := make([]any, len(groupby))
		var parts []string
		for i, g := range groupby {
			vals[i] = s.groupKey(m, r, g, modern)
			parts = append(parts, fmt.Sprint(vals[i]))
		}
		k := strings.Join(parts, "\x00")
		g := byKey[k]
		if g == nil {
			g = &group{key: k, vals: vals}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.recs = append(g.recs, r)
	}
	rows := make([]map[string]any, 0, len(groups))
	for _, g := range groups {
		row := map[string]any{"__count": int64(len(g.recs))}
		for i, spec := range groupby {
			row[spec] = g.vals[i]
		}
		for _, ag := range aggs {
			var sum, minV, maxV float64
			for i, r := range g.recs {
				x, _ := num(s.value(m, r, ag.field))
				sum += x
				if i == 0 || x < minV {
					minV = x
				}
				if i == 0 || x > maxV {
					maxV = x
				}
			}
			var v any
			switch ag.fn {
			case "sum":
				v = round2(sum)
			case "avg":
				v = round2(sum / float64(len(g.recs)))
			case "min":
				v = minV
			case "max":
				v = maxV
			case "count":
				v = int64(len(g.recs))
			}
			key := ag.field // read_group names the value after the field
			if modern {
				key = ag.spec
			}
			row[key] = v
		}
		rows = append(rows, row)
	}
	order, limit := a.str(5, "orderby"), a.integer(4, "limit")
	if modern {
		order, limit = a.str(6, "order"), a.integer(5, "limit")
	}
	sortGroups(rows, order, groupby)
	if limit > 0 && limit < len(rows) {
		rows = rows[:limit]
	}
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out, nil
}

// groupKey is one record's value for a groupby spec, as Odoo answers it:
// many2one [id, name], a date bucket's label ("November 2026"; Odoo 19:
// [first day, label]), else the value (false when empty).
func (s *Server) groupKey(m *model, r record, spec string, modern bool) any {
	name, gran, _ := strings.Cut(spec, ":")
	fd := m.Fields[name]
	v := s.value(m, r, name)
	if fd.Type == "many2one" {
		id, _ := v.(int64)
		if id == 0 {
			return false
		}
		return []any{id, s.displayName(fd.Relation, id)}
	}
	if fd.Type == "date" || fd.Type == "datetime" {
		str, _ := v.(string)
		if str == "" {
			return false
		}
		if gran == "" {
			gran = "month"
		}
		t, err := time.Parse(time.DateOnly, str[:min(len(str), 10)])
		if err != nil {
			return str
		}
		start, label := bucket(t, gran)
		if modern {
			return []any{start.Format(time.DateOnly), label}
		}
		return label
	}
	if v == nil || v == "" {
		return false
	}
	return v
}

func bucket(t time.Time, gran string) (time.Time, string) {
	switch gran {
	case "day":
		return t, t.Format("02 Jan 2006")
	case "week":
		y, w := t.ISOWeek()
		return t.AddDate(0, 0, -int((t.Weekday()+6)%7)), fmt.Sprintf("W%d %d", w, y)
	case "quarter":
		q := (int(t.Month())-1)/3 + 1
		return time.Date(t.Year(), time.Month(3*q-2), 1, 0, 0, 0, 0, time.UTC), fmt.Sprintf("Q%d %d", q, t.Year())
	case "year":
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC), fmt.Sprint(t.Year())
	}
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC), t.Format("January 2006")
}

// sortGroups orders rows by "key [desc]" terms (an aggregate or groupby
// key), by the groupby keys ascending by default.
func sortGroups(rows []map[string]any, order string, groupby []string) {
	type term struct {
		key  string
		desc bool
	}
	var terms []term
	for _, p := range strings.Split(order, ",") {
		f := strings.Fields(p)
		if len(f) == 0 {
			continue
		}
		terms = append(terms, term{f[0], len(f) > 1 && strings.EqualFold(f[1], "desc")})
	}
	if len(terms) == 0 {
		for _, g := range groupby {
			terms = append(terms, term{key: g})
		}
	}
	sortKey := func(v any) any {
		if x, ok := v.([]any); ok && len(x) == 2 {
			if s, ok := x[1].(string); ok {
				return s
			}
		}
		return v
	}
	sort.SliceStable(rows, func(i, j int) bool {
		for _, t := range terms {
			c, ok := compare(sortKey(rows[i][t.key]), sortKey(rows[j][t.key]))
			if !ok || c == 0 {
				continue
			}
			if t.desc {
				return c > 0
			}
			return c < 0
		}
		return false
	})
}

package erp

import (
	"context"
	"slices"
	"strings"

	"github.com/mariahq/maria/processors/erp/odoo"
	"github.com/mariahq/maria/schemas"
)

// Limits of one grouped read: enough for "sales per customer per month",
// small enough to render as a Slack table.
const (
	maxGroupBy    = 3
	maxAggregates = 6
)

var aggregateFuncs = []string{"sum", "avg", "min", "max", "count"}

var numericTypes = []string{"integer", "float", "monetary"}

// validateGroup checks a read_group's groupby and aggregates against the
// read allow-list and the fields' types: groups on allow-listed fields
// (dates and datetimes with a granularity), sums and averages of
// allow-listed numeric fields, "__count"; order names one of them.
func (s *Service) validateGroup(ctx context.Context, q schemas.ERPQuery, n *normalized) error {
	if len(q.GroupBy) == 0 || len(q.GroupBy) > maxGroupBy {
		return refused("read_group needs 1 to %d groupby fields", maxGroupBy)
	}
	if len(q.Aggregates) > maxAggregates {
		return refused("read_group takes at most %d aggregates", maxAggregates)
	}
	fields, err := s.fields(ctx, q.Model)
	if err != nil {
		return err
	}
	typeOf := func(name string) (string, error) {
		if !fieldRe.MatchString(name) || !s.cfg.Read.Field(q.Model, name) {
			return "", refused("field %s of %s is not in Maria's allow-list", name, q.Model)
		}
		attrs, ok := fields[name]
		if !ok {
			return "", refused("field %s does not exist on %s", name, q.Model)
		}
		t, _ := attrs["type"].(string)
		return t, nil
	}
	for _, g := range q.GroupBy {
		name, gran, hasGran := strings.Cut(g, ":")
		t, err := typeOf(name)
		if err != nil {
			return err
		}
		switch {
		case hasGran && t != "date" && t != "datetime":
			return refused("%s is a %s field: only dates take a granularity (%s)", name, t, g)
		case hasGran && !slices.Contains(odoo.Granularities, gran):
			return refused("granularity %q is not one of %s", gran, strings.Join(odoo.Granularities, ", "))
		case t == "one2many" || t == "many2many" || t == "html" || t == "text" || t == "binary":
			return refused("cannot group by %s (a %s field)", name, t)
		}
	}
	aggs := q.Aggregates
	if len(aggs) == 0 {
		aggs = []string{"__count"}
	}
	for _, a := range aggs {
		if a == "__count" {
			continue
		}
		name, fn, _ := strings.Cut(a, ":")
		if !slices.Contains(aggregateFuncs, fn) {
			return refused("aggregate %q: want field:sum, field:avg, field:min, field:max, field:count or __count", a)
		}
		t, err := typeOf(name)
		if err != nil {
			return err
		}
		if fn != "count" && !slices.Contains(numericTypes, t) {
			return refused("%s is a %s field: %s needs a number", name, t, fn)
		}
	}
	if !slices.Contains(aggs, "__count") {
		aggs = append(aggs, "__count") // every group says how many records it holds
	}
	n.GroupBy, n.Aggregates = q.GroupBy, aggs
	if o := strings.TrimSpace(q.Order); o != "" {
		f := strings.Fields(o)
		if len(f) > 2 || (len(f) == 2 && !strings.EqualFold(f[1], "asc") && !strings.EqualFold(f[1], "desc")) ||
			(!slices.Contains(aggs, f[0]) && !slices.Contains(q.GroupBy, f[0])) {
			return refused("order %q: name one groupby or aggregate, then asc or desc", o)
		}
		n.Order = o
	}
	return nil
}

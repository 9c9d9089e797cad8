package erp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mariahq/maria/processors/erp/odoo"
)

// RefusedError is a request Maria refuses before it reaches Odoo: a model
// or field outside the allow-list, a malformed domain, a bad order.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

func refused(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// IsRefused reports a RefusedError.
func IsRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

// Domain limits.
const (
	maxDomainLen  = 64
	maxListValues = 500
	maxStringLen  = 1000
	maxPathDepth  = 3
)

// domainOperators are the comparison operators Maria lets through.
// "any"/"not any" (sub-domains), child_of/parent_of (hierarchies) and raw
// SQL-ish tricks are left out on purpose.
var domainOperators = map[string]bool{
	"=": true, "!=": true, "<": true, ">": true, "<=": true, ">=": true, "=?": true,
	"in": true, "not in": true, "like": true, "not like": true, "ilike": true, "not ilike": true,
	"=like": true, "=ilike": true,
}

// relationFunc returns the model a relational field points to ("" when the
// field is not relational).
type relationFunc func(ctx context.Context, model, field string) (string, error)

// validateDomain checks a domain's shape, operators and fields against the
// allow-list and returns it normalized for the wire (JSON numbers → int64
// or float64, null → false, operators lower-cased). Dotted paths
// ("partner_id.name") are followed through relation, each hop allow-listed.
func validateDomain(ctx context.Context, allow *AllowList, model string, d []any, relation relationFunc) ([]any, error) {
	if len(d) > maxDomainLen {
		return nil, refused("domain has %d elements; at most %d", len(d), maxDomainLen)
	}
	out := make([]any, len(d))
	// Prefix notation checked right to left: a term pushes one operand,
	// '!' needs one, '&' and '|' need two and leave one. Operands left over
	// at the end are ANDed, as Odoo does.
	operands := 0
	for i := len(d) - 1; i >= 0; i-- {
		switch e := d[i].(type) {
		case string:
			switch e {
			case "!":
				if operands < 1 {
					return nil, refused("domain element %d: '!' needs one operand after it", i)
				}
			case "&", "|":
				if operands < 2 {
					return nil, refused("domain element %d: '%s' needs two operands after it", i, e)
				}
				operands--
			default:
				return nil, refused("domain element %d: %q is not an operator ('&', '|', '!') nor a [field, operator, value] term", i, e)
			}
			out[i] = e
		case []any:
			t, err := validateTerm(ctx, allow, model, e, relation)
			if err != nil {
				var r *RefusedError
				if errors.As(err, &r) {
					return nil, refused("domain element %d: %s", i, r.Reason)
				}
				return nil, err
			}
			out[i] = t
			operands++
		default:
			return nil, refused("domain element %d: want an operator or a [field, operator, value] term, got %s", i, jsonType(e))
		}
	}
	return out, nil
}

func validateTerm(ctx context.Context, allow *AllowList, model string, t []any, relation relationFunc) ([]any, error) {
	if len(t) != 3 {
		return nil, refused("a term is [field, operator, value], got %d elements", len(t))
	}
	path, ok := t[0].(string)
	if !ok {
		return nil, refused("a term's field must be a string, got %s", jsonType(t[0]))
	}
	op, ok := t[1].(string)
	if !ok {
		return nil, refused("a term's operator must be a string, got %s", jsonType(t[1]))
	}
	op = strings.ToLower(strings.TrimSpace(op))
	if !domainOperators[op] {
		return nil, refused("operator %q is not allowed (allowed: = != < > <= >= =? in, not in, like, not like, ilike, not ilike, =like, =ilike)", t[1])
	}
	if err := checkPath(ctx, allow, model, path, relation); err != nil {
		return nil, err
	}
	v, err := termValue(op, t[2])
	if err != nil {
		return nil, err
	}
	return []any{path, op, v}, nil
}

// checkPath allows "field" or "m2o_field.field[.field]" when every hop is allowed.
func checkPath(ctx context.Context, allow *AllowList, model, path string, relation relationFunc) error {
	parts := strings.Split(path, ".")
	if len(parts) > maxPathDepth {
		return refused("field path %q is deeper than %d", path, maxPathDepth)
	}
	cur := model
	for i, f := range parts {
		if !fieldRe.MatchString(f) {
			return refused("%q is not a field name", path)
		}
		if !allow.Field(cur, f) {
			return refused("field %s of %s is not in Maria's allow-list", f, cur)
		}
		if i == len(parts)-1 {
			break
		}
		if relation == nil {
			return refused("field path %q: related fields are not supported here", path)
		}
		rel, err := relation(ctx, cur, f)
		if err != nil {
			return err
		}
		if rel == "" {
			return refused("field %s of %s is not relational; %q cannot go through it", f, cur, path)
		}
		if !allow.Model(rel) {
			return refused("field path %q reaches model %s, which is not in Maria's allow-list", path, rel)
		}
		cur = rel
	}
	return nil
}

func termValue(op string, v any) (any, error) {
	if list, ok := v.([]any); ok {
		if op != "in" && op != "not in" {
			return nil, refused("a list value needs operator 'in' or 'not in', not %q", op)
		}
		if len(list) > maxListValues {
			return nil, refused("a list value has %d elements; at most %d", len(list), maxListValues)
		}
		out := make([]any, len(list))
		for i, e := range list {
			s, err := scalar(e)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	return scalar(v)
}

func scalar(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case string:
		if utf8.RuneCountInString(x) > maxStringLen {
			return nil, refused("a string value is longer than %d characters", maxStringLen)
		}
		return x, nil
	case json.Number, float64, int64, int:
		return odoo.Sanitize(x), nil
	}
	return nil, refused("a value must be a string, number, boolean, null or a list of those; got %s", jsonType(v))
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number, float64, int64, int:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// validateOrder checks "field [asc|desc], ..." against the allow-list.
func validateOrder(allow *AllowList, model, order string) (string, error) {
	order = strings.TrimSpace(order)
	if order == "" {
		return "", nil
	}
	var parts []string
	for _, p := range strings.Split(order, ",") {
		w := strings.Fields(p)
		if len(w) == 0 || len(w) > 2 {
			return "", refused("order %q: want \"field [asc|desc], ...\"", order)
		}
		if !fieldRe.MatchString(w[0]) || !allow.Field(model, w[0]) {
			return "", refused("order field %q of %s is not in Maria's allow-list", w[0], model)
		}
		if len(w) == 2 {
			d := strings.ToLower(w[1])
			if d != "asc" && d != "desc" {
				return "", refused("order %q: direction must be asc or desc", order)
			}
			w[1] = d
		}
		parts = append(parts, strings.Join(w, " "))
	}
	return strings.Join(parts, ", "), nil
}

// validateFields checks a field list; empty means the allow-listed fields
// (or Odoo's default when the model is allowed with "*").
func validateFields(allow *AllowList, model string, fields []string) ([]string, error) {
	if len(fields) == 0 {
		return allow.Fields(model), nil
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		if !fieldRe.MatchString(f) {
			return nil, refused("%q is not a field name", f)
		}
		if !allow.Field(model, f) {
			return nil, refused("field %s of %s is not in Maria's allow-list", f, model)
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

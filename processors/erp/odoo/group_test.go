package odoo

import (
	"reflect"
	"testing"
)

func TestReadGroupCallPerVersion(t *testing.T) {
	for _, tc := range []struct {
		major      int
		wantMethod string
		wantKeys   []string
	}{
		{17, "read_group", []string{"domain", "fields", "groupby", "lazy", "limit", "orderby"}},
		{18, "read_group", []string{"domain", "fields", "groupby", "lazy", "limit", "orderby"}},
		{19, "formatted_read_group", []string{"aggregates", "domain", "groupby", "limit", "order"}},
	} {
		m, kw := readGroupCall(tc.major, nil, []string{"partner_id"}, []string{"amount_total:sum", "__count"}, GroupOptions{Limit: 5, Order: "amount_total:sum desc"})
		if m != tc.wantMethod {
			t.Fatalf("%d: method %s, want %s", tc.major, m, tc.wantMethod)
		}
		var keys []string
		for _, k := range []string{"aggregates", "domain", "fields", "groupby", "lazy", "limit", "order", "orderby"} {
			if _, ok := kw[k]; ok {
				keys = append(keys, k)
			}
		}
		if !reflect.DeepEqual(keys, tc.wantKeys) {
			t.Fatalf("%d: arguments %v, want %v", tc.major, keys, tc.wantKeys)
		}
		if tc.major < 19 && kw["orderby"] != "amount_total desc" {
			t.Fatalf("read_group orders by the field name, got %v", kw["orderby"])
		}
	}
}

func TestAsGroupsBothShapes(t *testing.T) {
	legacy := []any{map[string]any{"partner_id": []any{int64(10), "Azure Interior"}, "date_order:month": "November 2026", "amount_total": 12.5, "__count": int64(2)}}
	modern := []any{map[string]any{"partner_id": []any{int64(10), "Azure Interior"}, "date_order:month": []any{"2026-11-01", "November 2026"}, "amount_total:sum": 12.5, "__count": int64(2)}}
	want := map[string]any{"partner_id": map[string]any{"id": int64(10), "name": "Azure Interior"}, "date_order:month": "November 2026", "amount_total:sum": 12.5, "__count": int64(2)}
	for name, v := range map[string]any{"read_group": legacy, "formatted_read_group": modern} {
		got, err := asGroups(name, v, []string{"partner_id", "date_order:month"}, []string{"amount_total:sum", "__count"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Fatalf("%s: %#v, want %#v", name, got, want)
		}
	}
}

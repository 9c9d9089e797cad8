package odoo

// Clean decodes one record for readers, in place:
//   - false on a non-boolean field (Odoo's "empty") is removed;
//   - a many2one [id, "name"] becomes {"id": id, "name": name};
//   - empty strings (which the XML-RPC decoder hands back as nil) are removed.
//
// types maps field name → Odoo field type (from fields_get); without an
// entry, a field is judged by its value: false is taken as empty and a
// two-element [int, string] as a many2one.
func Clean(rec map[string]any, types map[string]string) map[string]any {
	for k, v := range rec {
		typ := types[k]
		switch x := v.(type) {
		case nil:
			delete(rec, k)
		case bool:
			if !x && typ != "boolean" {
				delete(rec, k)
			}
		case []any:
			if typ == "many2one" || typ == "" {
				if ref, ok := many2one(x); ok {
					rec[k] = ref
				}
			}
		}
	}
	return rec
}

func many2one(x []any) (map[string]any, bool) {
	if len(x) != 2 {
		return nil, false
	}
	id, ok := asInt64(x[0])
	if !ok {
		return nil, false
	}
	name, ok := x[1].(string)
	if !ok {
		return nil, false
	}
	return map[string]any{"id": id, "name": name}, true
}

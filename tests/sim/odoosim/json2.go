package odoosim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// json2 serves POST /json/2/<model>/<method> (Odoo 19+): named arguments in
// a JSON body, "Authorization: bearer <API key>", errors as JSON with a
// real HTTP status.
func (s *Server) json2(w http.ResponseWriter, r *http.Request) {
	if !s.hasJSON2() {
		http.NotFound(w, r) // JSON-2 came with Odoo 19
		return
	}
	modelName, method := r.PathValue("model"), r.PathValue("method")
	s.mu.Lock()
	s.calls["*"]++
	s.calls[modelName+"."+method]++
	s.mu.Unlock()
	auth := r.Header.Get("Authorization")
	key, ok := strings.CutPrefix(auth, "bearer ")
	if !ok {
		key, ok = strings.CutPrefix(auth, "Bearer ")
	}
	u := s.userByKey(key)
	if !ok || u == nil {
		writeJSON2Error(w, http.StatusUnauthorized, "odoo.exceptions.AccessDenied", "Access Denied")
		return
	}
	if db := r.Header.Get("X-Odoo-Database"); db != "" && db != s.DB {
		writeJSON2Error(w, http.StatusNotFound, "werkzeug.exceptions.NotFound", "database not found")
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	args := map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&args); err != nil {
			writeJSON2Error(w, http.StatusBadRequest, "werkzeug.exceptions.BadRequest", "could not parse the body as json")
			return
		}
	}
	kw := fromJSON(args).(map[string]any)
	var pos []any
	if method == "create" {
		if v, ok := kw["vals_list"]; ok {
			pos = []any{v}
			delete(kw, "vals_list")
		}
	}
	res, fault := s.dispatch(r.Context(), u, modelName, method, pos, kw)
	if fault != nil {
		status, name := http.StatusInternalServerError, "builtins.Exception"
		switch fault.Code {
		case 2:
			status, name = http.StatusUnprocessableEntity, "odoo.exceptions.UserError"
			if strings.HasPrefix(fault.String, "Record does not exist") {
				status, name = http.StatusNotFound, "odoo.exceptions.MissingError"
			}
		case 3:
			status, name = http.StatusUnauthorized, "odoo.exceptions.AccessDenied"
		case 4:
			status, name = http.StatusForbidden, "odoo.exceptions.AccessError"
		}
		msg := fault.String
		if fault.Code == 1 {
			lines := strings.Split(strings.TrimSpace(msg), "\n")
			msg = lines[len(lines)-1]
			if i := strings.Index(msg, ": "); i > 0 {
				name, msg = "builtins."+msg[:i], msg[i+2:]
			}
		}
		writeJSON2Error(w, status, name, msg)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(res)
}

func writeJSON2Error(w http.ResponseWriter, status int, name, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "message": message, "arguments": []any{message}, "context": map[string]any{}, "debug": ""})
}

// fromJSON converts decoded JSON to the XML-RPC value types the ORM layer
// uses (int64, float64, nil → false as Odoo reads null).
func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case nil:
		return false
	case []any:
		for i, e := range x {
			x[i] = fromJSON(e)
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = fromJSON(e)
		}
		return x
	}
	return v
}

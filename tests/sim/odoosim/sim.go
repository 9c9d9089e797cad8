// Package odoosim is an Odoo simulator for tests: XML-RPC /xmlrpc/2/common
// (version, authenticate) and /xmlrpc/2/object (execute_kw: search,
// search_read, read, search_count, fields_get, name_search, create, write),
// plus JSON-2 (POST /json/2/<model>/<method>, GET /web/version), over an
// in-memory copy of Odoo's demo data (partners, sale orders and lines,
// invoices, products, stock, leads, tasks, users).
//
// It answers in Odoo's shapes: empty fields are false, many2one is
// [id, "name"], faults carry Odoo's codes (1 application error with a
// traceback, 2 user/validation/missing, 3 access denied, 4 access error),
// ints beyond int32 and None cannot be marshalled. Tests inject outages
// (Down), latency (Slow), access errors (Deny) and one-off faults
// (FailNext), and count calls per model and method.
//
// Every call runs as the user its credentials name (users.go): the service
// account (User/Password, Administration/Settings: everything), a
// salesperson who sees only their own orders and leads and no invoices, and
// a sales and invoicing manager who sees all. Access rights and record
// rules (access.go) answer with Odoo's AccessError, and create_uid /
// write_uid record who called.
package odoosim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Server is a running simulator.
type Server struct {
	// URL is the base URL (ODOO_URL); DB, User and Password are the
	// service account's credentials (Password doubles as its JSON-2 API
	// key). Other users: Account, Accounts.
	URL      string
	DB       string
	User     string
	Password string

	srv   *httptest.Server
	users map[string]*user // by login

	mu     sync.Mutex
	models map[string]*model
	down   bool
	slow   time.Duration
	lag    time.Duration
	calls  map[string]int
	denied map[string]bool
	faults map[string][]*Fault
	now    func() time.Time
	// major is the Odoo version simulated (Version option).
	major int
	// contexts keeps the last call context per "model.method" (LastContext).
	contexts map[string]map[string]any
}

// New starts a simulator on a loopback port; it stops when the test ends.
func New(t interface {
	Helper()
	Cleanup(func())
}, opts ...Option) *Server {
	t.Helper()
	s := Start(opts...)
	t.Cleanup(s.Close)
	return s
}

// Start starts a simulator; call Close when done.
func Start(opts ...Option) *Server {
	s := &Server{DB: "odoo", User: "admin", Password: "sim-api-key-7f3c9a1e", major: 17,
		calls: map[string]int{}, denied: map[string]bool{}, faults: map[string][]*Fault{}, now: time.Now,
		contexts: map[string]map[string]any{}}
	for _, o := range opts {
		o(s)
	}
	s.models = demoData(s)
	addCompanies(s.models)
	s.users = demoUsers(s.Password)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /xmlrpc/2/common", s.wrap(s.common))
	mux.HandleFunc("POST /xmlrpc/2/object", s.wrap(s.object))
	mux.HandleFunc("POST /json/2/{model}/{method}", s.wrap(s.json2))
	mux.HandleFunc("GET /web/version", s.wrap(s.webVersion))
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Down makes every request fail with HTTP 502 Bad Gateway (a proxy in
// front of a dead Odoo) until Down(false).
func (s *Server) Down(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// Slow delays every answer by d (0 to stop); a client that gives up
// earlier sees its own timeout.
func (s *Server) Slow(d time.Duration) {
	s.mu.Lock()
	s.slow = d
	s.mu.Unlock()
}

// LoseAnswers makes the server do the work and then hold the answer for d
// (0 to stop): a client timing out meanwhile cannot know the call took
// effect — the case exactly-once writes must reconcile.
func (s *Server) LoseAnswers(d time.Duration) {
	s.mu.Lock()
	s.lag = d
	s.mu.Unlock()
}

// Deny makes every call on model fail with an AccessError (fault 4).
func (s *Server) Deny(model string) {
	s.mu.Lock()
	s.denied[model] = true
	s.mu.Unlock()
}

// FailNext makes the next call of model.method fail with the given fault.
func (s *Server) FailNext(model, method string, code int, message string) {
	s.mu.Lock()
	k := model + "." + method
	s.faults[k] = append(s.faults[k], &Fault{Code: code, String: message})
	s.mu.Unlock()
}

// Calls returns how many calls reached the server for key: "model.method"
// for object calls ("res.partner.search_read"), "common.version",
// "common.authenticate", or "*" for every object call. Calls refused by
// Down count too (they reached the proxy).
func (s *Server) Calls(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[key]
}

// ResetCalls zeroes the counters.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	s.calls = map[string]int{}
	s.mu.Unlock()
}

// Count returns how many records of model match the domain (test helper,
// not counted as a call).
func (s *Server) Count(model string, domain ...any) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.models[model]
	if m == nil {
		return 0
	}
	recs, f := s.search(m, domain, "", 0, 0)
	if f != nil {
		panic(f)
	}
	return len(recs)
}

// Record returns a copy of one stored record as Odoo would send it with
// every field (test helper).
func (s *Server) Record(model string, id int64) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.models[model]
	if m == nil || m.get(id) == nil {
		return nil
	}
	rows, _ := s.read(m, []record{m.get(id)}, nil)
	return rows[0].(map[string]any)
}

func (s *Server) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		down, slow, lag := s.down, s.slow, s.lag
		s.mu.Unlock()
		if slow > 0 {
			select {
			case <-time.After(slow):
			case <-r.Context().Done():
				return
			}
		}
		if down {
			s.count(r)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n")
			return
		}
		if lag <= 0 {
			h(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h(rec, r)
		select {
		case <-time.After(lag):
		case <-r.Context().Done():
			return // the client gave up; the work is done all the same
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}
}

// count records a call refused by the proxy (best effort: the method is
// only known for JSON-2 paths).
func (s *Server) count(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := r.PathValue("model"); m != "" {
		s.calls[m+"."+r.PathValue("method")]++
		s.calls["*"]++
		return
	}
	if strings.HasSuffix(r.URL.Path, "/object") {
		s.calls["*"]++
		if _, params, err := parseCall(r.Body); err == nil && len(params) > 4 {
			model, _ := params[3].(string)
			method, _ := params[4].(string)
			s.calls[model+"."+method]++
		}
	}
}

func writeXML(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(body)
}

func (s *Server) common(w http.ResponseWriter, r *http.Request) {
	method, params, err := parseCall(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.calls["common."+method]++
	s.mu.Unlock()
	switch method {
	case "version":
		writeXML(w, encodeResponse(s.versionInfo()))
	case "authenticate", "login":
		if len(params) < 3 {
			writeXML(w, encodeFault(&Fault{Code: 1, String: traceback(fmt.Sprintf("TypeError: authenticate() missing %d required positional arguments", 4-len(params)))}))
			return
		}
		db, _ := params[0].(string)
		if db != s.DB {
			writeXML(w, encodeFault(&Fault{Code: 1, String: traceback(fmt.Sprintf("psycopg2.OperationalError: connection to server failed: FATAL:  database \"%s\" does not exist", db))}))
			return
		}
		login, _ := params[1].(string)
		secret, _ := params[2].(string)
		u := s.userByLogin(login, secret)
		if u == nil {
			writeXML(w, encodeResponse(false))
			return
		}
		writeXML(w, encodeResponse(u.UID))
	default:
		writeXML(w, encodeFault(&Fault{Code: 1, String: traceback(fmt.Sprintf("NameError: method not available %s", method))}))
	}
}

func (s *Server) object(w http.ResponseWriter, r *http.Request) {
	method, params, err := parseCall(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if method != "execute_kw" && method != "execute" {
		s.mu.Lock()
		s.calls["*"]++
		s.mu.Unlock()
		writeXML(w, encodeFault(&Fault{Code: 1, String: traceback(fmt.Sprintf("NameError: method not available %s", method))}))
		return
	}
	if len(params) < 5 {
		writeXML(w, encodeFault(&Fault{Code: 1, String: traceback("TypeError: execute_kw() missing required positional arguments")}))
		return
	}
	model, _ := params[3].(string)
	meth, _ := params[4].(string)
	s.mu.Lock()
	s.calls["*"]++
	s.calls[model+"."+meth]++
	s.mu.Unlock()
	db, _ := params[0].(string)
	uid, _ := params[1].(int64)
	secret, _ := params[2].(string)
	u := s.userByUID(uid, secret)
	if db != s.DB || u == nil {
		writeXML(w, encodeFault(&Fault{Code: 3, String: "Access Denied"}))
		return
	}
	var args []any
	kwargs := map[string]any{}
	if len(params) > 5 {
		a, ok := params[5].([]any)
		if !ok {
			writeXML(w, encodeFault(&Fault{Code: 1, String: traceback("TypeError: args must be a list")}))
			return
		}
		args = a
	}
	if method == "execute" {
		args = params[5:]
	} else if len(params) > 6 {
		kw, ok := params[6].(map[string]any)
		if !ok {
			writeXML(w, encodeFault(&Fault{Code: 1, String: traceback("TypeError: kwargs must be a dict")}))
			return
		}
		kwargs = kw
	}
	res, fault := s.dispatch(r.Context(), u, model, meth, args, kwargs)
	if fault != nil {
		writeXML(w, encodeFault(fault))
		return
	}
	writeXML(w, encodeResponse(res))
}

// argument binds Python-style positional and keyword arguments.
type arguments struct {
	pos []any
	kw  map[string]any
}

func (a arguments) get(i int, names ...string) (any, bool) {
	for _, n := range names {
		if v, ok := a.kw[n]; ok {
			return v, true
		}
	}
	if i < len(a.pos) {
		return a.pos[i], true
	}
	return nil, false
}

func (a arguments) domain(i int, names ...string) ([]any, *Fault) {
	v, ok := a.get(i, names...)
	if !ok || v == nil || v == false {
		return nil, nil
	}
	d, ok := v.([]any)
	if !ok {
		return nil, &Fault{Code: 1, String: traceback(fmt.Sprintf("ValueError: Invalid domain: %v", v))}
	}
	return d, nil
}

func (a arguments) integer(i int, name string) int {
	v, _ := a.get(i, name)
	n, _ := v.(int64)
	return int(n)
}

func (a arguments) str(i int, name string) string {
	v, _ := a.get(i, name)
	str, _ := v.(string)
	return str
}

func (a arguments) strings(i int, name string) []string {
	v, _ := a.get(i, name)
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if str, ok := e.(string); ok {
			out = append(out, str)
		}
	}
	return out
}

func (a arguments) ids(i int, name string) ([]int64, bool) {
	v, ok := a.get(i, name)
	if !ok {
		return nil, false
	}
	if id, ok := v.(int64); ok {
		return []int64{id}, true
	}
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]int64, 0, len(list))
	for _, e := range list {
		id, ok := e.(int64)
		if !ok {
			return nil, false
		}
		out = append(out, id)
	}
	return out, true
}

// dispatch runs one ORM method as user u with the simulator lock held:
// u's access rights and record rules apply (access.go).
func (s *Server) dispatch(_ context.Context, u *user, modelName, method string, pos []any, kw map[string]any) (any, *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.faults[modelName+"."+method]; len(q) > 0 {
		s.faults[modelName+"."+method] = q[1:]
		return nil, q[0]
	}
	m := s.models[modelName]
	if m == nil {
		return nil, &Fault{Code: 2, String: fmt.Sprintf("Object %s doesn't exist", modelName)}
	}
	if strings.HasPrefix(method, "_") {
		return nil, &Fault{Code: 4, String: fmt.Sprintf("Private methods (such as %s) cannot be called remotely.", method)}
	}
	callCtx, _ := kw["context"].(map[string]any)
	delete(kw, "context")
	if callCtx != nil {
		s.contexts[modelName+"."+method] = callCtx
	}
	companies, f := s.allowedCompanies(u, callCtx)
	if f != nil {
		return nil, f
	}
	if s.denied[modelName] {
		return nil, &Fault{Code: 4, String: fmt.Sprintf("You are not allowed to access '%s' (%s) records.\n\nThis operation is allowed for the following groups:\n\t- Administration/Settings\n\nContact your administrator to request access if necessary.", m.Label, m.Name)}
	}
	if f := s.checkAccess(u, m, method); f != nil {
		return nil, f
	}
	a := arguments{pos: pos, kw: kw}
	switch method {
	case "search", "search_read", "search_count":
		domain, f := a.domain(0, "domain", "args")
		if f != nil {
			return nil, f
		}
		domain = s.scope(u, m, companies, domain)
		if method == "search_count" {
			recs, f := s.search(m, domain, "", 0, a.integer(1, "limit"))
			if f != nil {
				return nil, f
			}
			return int64(len(recs)), nil
		}
		var offset, limit int
		var order string
		var fields []string
		if method == "search" {
			offset, limit, order = a.integer(1, "offset"), a.integer(2, "limit"), a.str(3, "order")
		} else {
			fields, offset, limit, order = a.strings(1, "fields"), a.integer(2, "offset"), a.integer(3, "limit"), a.str(4, "order")
		}
		recs, f := s.search(m, domain, order, offset, limit)
		if f != nil {
			return nil, f
		}
		if method == "search" {
			out := make([]any, len(recs))
			for i, r := range recs {
				out[i] = r["id"]
			}
			return out, nil
		}
		rows, f := s.read(m, recs, fields)
		if f != nil {
			return nil, f
		}
		return rows, nil
	case "read":
		ids, ok := a.ids(0, "ids")
		if !ok {
			return nil, &Fault{Code: 1, String: traceback("TypeError: read() missing 1 required positional argument: 'ids'")}
		}
		var recs []record
		var gone []int64
		for _, id := range ids {
			if r := m.get(id); r != nil {
				recs = append(recs, r)
			} else {
				gone = append(gone, id)
			}
		}
		if len(gone) > 0 {
			return nil, missing(m, gone, u.UID)
		}
		if f := s.checkRules(u, m, recs, permRead); f != nil {
			return nil, f
		}
		if f := s.checkCompanies(u, m, companies, recs); f != nil {
			return nil, f
		}
		rows, f := s.read(m, recs, a.strings(1, "fields"))
		if f != nil {
			return nil, f
		}
		return rows, nil
	case "fields_get":
		attrs := a.strings(1, "attributes")
		out := map[string]any{}
		for name, f := range m.Fields {
			out[name] = describe(f, attrs)
		}
		out["id"] = describe(&field{Type: "integer", Label: "ID", Readonly: true}, attrs)
		out["display_name"] = describe(&field{Type: "char", Label: "Display Name", Readonly: true}, attrs)
		return out, nil
	case "name_search":
		name := a.str(0, "name")
		domain, f := a.domain(1, "args", "domain")
		if f != nil {
			return nil, f
		}
		op := a.str(2, "operator")
		if op == "" {
			op = "ilike"
		}
		limit := 100
		if v, ok := a.get(3, "limit"); ok {
			if n, ok := v.(int64); ok {
				limit = int(n)
			}
		}
		if name != "" {
			leaf := []any{m.recName(), op, name}
			if len(domain) == 0 {
				domain = []any{leaf}
			} else {
				domain = append([]any{"&", leaf}, wrapAnd(domain)...)
			}
		}
		domain = s.scope(u, m, companies, domain)
		recs, f := s.search(m, domain, "", 0, limit)
		if f != nil {
			return nil, f
		}
		out := make([]any, len(recs))
		for i, r := range recs {
			out[i] = []any{r["id"], s.displayName(m.Name, r["id"].(int64))}
		}
		return out, nil
	case "create":
		v, ok := a.get(0, "vals_list", "vals")
		if !ok {
			return nil, &Fault{Code: 1, String: traceback("TypeError: create() missing 1 required positional argument: 'vals_list'")}
		}
		if vals, ok := v.(map[string]any); ok {
			return s.create(m, vals, u)
		}
		list, ok := v.([]any)
		if !ok {
			return nil, &Fault{Code: 1, String: traceback("ValueError: Wrong value for create: expected a dict or a list of dicts")}
		}
		var ids []any
		for _, e := range list {
			vals, ok := e.(map[string]any)
			if !ok {
				return nil, &Fault{Code: 1, String: traceback("ValueError: Wrong value for create: expected a dict or a list of dicts")}
			}
			id, f := s.create(m, vals, u)
			if f != nil {
				return nil, f
			}
			ids = append(ids, id)
		}
		return ids, nil
	case "write":
		ids, ok := a.ids(0, "ids")
		if !ok {
			return nil, &Fault{Code: 1, String: traceback("TypeError: write() missing 1 required positional argument: 'vals'")}
		}
		v, _ := a.get(1, "vals")
		vals, ok := v.(map[string]any)
		if !ok {
			return nil, &Fault{Code: 1, String: traceback("TypeError: write() missing 1 required positional argument: 'vals'")}
		}
		if f := s.write(m, ids, vals, u); f != nil {
			return nil, f
		}
		return true, nil
	case "read_group", "formatted_read_group":
		return s.readGroup(u, m, companies, method, a)
	}
	if act := actions[modelName+"."+method]; act != nil {
		return s.runAction(u, m, companies, act, a)
	}
	return nil, &Fault{Code: 1, String: traceback(fmt.Sprintf("AttributeError: The method '%s' does not exist on the model '%s'", method, modelName))}
}

// wrapAnd makes a domain usable as one operand of a prefix operator.
func wrapAnd(d []any) []any {
	// n terms without operators need n-1 '&' in front to form one operand.
	var terms, ops int
	for _, e := range d {
		if str, ok := e.(string); ok && (str == "&" || str == "|") {
			ops++
		} else if _, ok := e.([]any); ok {
			terms++
		}
	}
	out := []any{}
	for i := 0; i < terms-1-ops; i++ {
		out = append(out, "&")
	}
	return append(out, d...)
}

func describe(f *field, attrs []string) map[string]any {
	all := map[string]any{"type": f.Type, "string": f.Label, "required": f.Required, "readonly": f.Readonly || f.Compute != nil,
		"store": f.Compute == nil, "searchable": true, "sortable": f.Compute == nil}
	if f.Relation != "" {
		all["relation"] = f.Relation
	}
	if f.Type == "selection" {
		sel := make([]any, len(f.Selection))
		for i, p := range f.Selection {
			sel[i] = []any{p[0], p[1]}
		}
		all["selection"] = sel
	}
	if len(attrs) == 0 {
		return all
	}
	out := map[string]any{}
	for _, a := range attrs {
		if v, ok := all[a]; ok {
			out[a] = v
		}
	}
	return out
}

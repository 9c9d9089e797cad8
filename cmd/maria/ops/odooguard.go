package ops

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// OdooGuard is a read-only proxy in front of the operator's Odoo for the
// sandbox: reads (search_read, read, fields_get, ...) pass through, anything
// else is answered with a fault and recorded. The ERP service also refuses
// writes in the sandbox (MARIA_ERP_READ_ONLY); the guard makes "nothing is
// written to Odoo" hold whatever any service does.
type OdooGuard struct {
	srv      *http.Server
	ln       net.Listener
	upstream *url.URL
	proxy    *httputil.ReverseProxy
	mu       sync.Mutex
	refused  []string
}

// OdooReadMethods are the model methods that only read.
var OdooReadMethods = map[string]bool{
	"search_read": true, "read": true, "search": true, "search_count": true, "fields_get": true,
	"name_search": true, "name_get": true, "read_group": true, "formatted_read_group": true,
	"default_get": true, "check_access_rights": true, "web_search_read": true, "web_read": true,
	"get_views": true, "fields_view_get": true, "has_group": true, "context_get": true, "search_fetch": true,
	"read_progress_bar": true, "get_formview_id": true,
}

// OdooRefusal is the fault text a refused call gets.
const OdooRefusal = "refused: sandbox (read-only)"

// StartOdooGuard proxies to upstream (the operator's ODOO_URL).
func StartOdooGuard(upstream string) (*OdooGuard, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("ODOO_URL: not an absolute URL")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sandbox odoo guard: %w", err)
	}
	g := &OdooGuard{ln: ln, upstream: u}
	g.proxy = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		// The inbound path already carries the upstream's path prefix.
		r.Out.URL.Scheme, r.Out.URL.Host, r.Out.Host = u.Scheme, u.Host, u.Host
	}}
	g.srv = &http.Server{Handler: http.HandlerFunc(g.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = g.srv.Serve(ln) }()
	return g, nil
}

// URL is where sandbox services reach Odoo.
func (g *OdooGuard) URL() string {
	return "http://" + g.ln.Addr().String() + strings.TrimSuffix(g.upstream.Path, "/")
}

// Refused lists the refused calls ("model.method").
func (g *OdooGuard) Refused() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.refused...)
}

// Close stops the guard.
func (g *OdooGuard) Close() { _ = g.srv.Close() }

func (g *OdooGuard) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	p := strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(g.upstream.Path, "/"))
	var allowed bool
	var what string
	xmlrpc := strings.HasPrefix(p, "/xmlrpc/")
	switch {
	case xmlrpc && (strings.HasSuffix(p, "/common") || strings.HasSuffix(p, "/db")):
		allowed, what = true, "common"
	case xmlrpc && strings.HasSuffix(p, "/object"):
		allowed, what = xmlrpcIsRead(body)
	case strings.HasPrefix(p, "/json/2/"):
		parts := strings.Split(strings.Trim(strings.TrimPrefix(p, "/json/2/"), "/"), "/")
		if len(parts) == 2 {
			what = parts[0] + "." + parts[1]
			allowed = OdooReadMethods[parts[1]]
		}
	case p == "/jsonrpc" || strings.HasPrefix(p, "/web/dataset/call_kw"):
		allowed, what = jsonrpcIsRead(body)
	case p == "/web/session/authenticate" || p == "/web/webclient/version_info":
		allowed, what = true, "session"
	default:
		what = r.Method + " " + p
	}
	if allowed {
		g.proxy.ServeHTTP(w, r)
		return
	}
	g.mu.Lock()
	g.refused = append(g.refused, what)
	g.mu.Unlock()
	if xmlrpc {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4</int></value></member><member><name>faultString</name><value><string>%s</string></value></member></struct></value></fault></methodResponse>`, OdooRefusal)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusForbidden)
	_ = json.NewEncoder(w).Encode(map[string]any{"name": "odoo.exceptions.AccessError", "message": OdooRefusal})
}

type xmlrpcCall struct {
	Method string `xml:"methodName"`
	Params []struct {
		Value struct {
			String string `xml:"string"`
			Text   string `xml:",chardata"`
		} `xml:"value"`
	} `xml:"params>param"`
}

// xmlrpcIsRead: execute_kw(db, uid, key, model, method, ...) and
// execute(db, uid, key, model, method, ...) on /xmlrpc/2/object.
func xmlrpcIsRead(body []byte) (bool, string) {
	var c xmlrpcCall
	if err := xml.Unmarshal(body, &c); err != nil {
		return false, "unparseable xml-rpc call"
	}
	if (c.Method != "execute_kw" && c.Method != "execute") || len(c.Params) < 5 {
		return false, c.Method
	}
	str := func(i int) string {
		v := c.Params[i].Value
		if v.String != "" {
			return v.String
		}
		return strings.TrimSpace(v.Text)
	}
	model, method := str(3), str(4)
	return OdooReadMethods[method], model + "." + method
}

// jsonrpcIsRead: {"params": {"service": "object", "method": "execute_kw",
// "args": [db, uid, key, model, method, ...]}} or the web client's call_kw
// {"params": {"model": m, "method": f}}.
func jsonrpcIsRead(body []byte) (bool, string) {
	var req struct {
		Params struct {
			Service string `json:"service"`
			Method  string `json:"method"`
			Model   string `json:"model"`
			Args    []any  `json:"args"`
		} `json:"params"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return false, "unparseable json-rpc call"
	}
	p := req.Params
	switch {
	case p.Service == "common" || p.Service == "db" && p.Method == "list":
		return true, p.Service + "." + p.Method
	case p.Service == "object" && len(p.Args) >= 5:
		model, _ := p.Args[3].(string)
		method, _ := p.Args[4].(string)
		return OdooReadMethods[method], model + "." + method
	case p.Model != "":
		return OdooReadMethods[p.Method], p.Model + "." + p.Method
	}
	return false, p.Service + "." + p.Method
}

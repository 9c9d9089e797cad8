package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
)

// JSON2 talks to Odoo 19+'s JSON-2 API: POST /json/2/<model>/<method> with
// named arguments, "Authorization: bearer <API key>" and the database in
// X-Odoo-Database. Errors come with real HTTP statuses and a JSON body
// {name, message, arguments, context, debug}.
type JSON2 struct {
	cfg  Config
	base string
	http *http.Client

	mu  sync.Mutex
	uid int64
}

// NewJSON2 builds the client; Password must be an API key.
func NewJSON2(cfg Config) (*JSON2, error) {
	if err := cfg.validate(false); err != nil {
		return nil, err
	}
	return &JSON2{cfg: cfg, base: strings.TrimRight(cfg.URL, "/"), http: newHTTPClient(cfg)}, nil
}

// json2Error is the body of a failed JSON-2 call.
type json2Error struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	Debug   string `json:"debug"`
}

func (c *JSON2) do(ctx context.Context, op, method, path string, body any) (any, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, protoErr(op, "encode request: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, protoErr(op, "build request: %v", err)
	}
	req.Header.Set("Authorization", "bearer "+c.cfg.Password)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if c.cfg.DB != "" {
		req.Header.Set("X-Odoo-Database", c.cfg.DB)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(ctx, op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, transportError(ctx, op, err)
	}
	if len(raw) > maxResponse {
		return nil, protoErr(op, "answer larger than %d bytes", maxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var je json2Error
		if json.Unmarshal(raw, &je) == nil && je.Name != "" {
			return nil, fromJSON2(op, resp.StatusCode, je)
		}
		return nil, statusError(op, resp.StatusCode, string(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &Error{Kind: KindUnavailable, Op: op, Retry: true, Message: "the answer is not JSON (a proxy error page?)"}
	}
	return normalize(v), nil
}

func fromJSON2(op string, status int, je json2Error) *Error {
	e := &Error{Op: op, Code: status, Message: plainMessage(je.Message)}
	name := je.Name[strings.LastIndex(je.Name, ".")+1:]
	switch name {
	case "AccessDenied":
		e.Kind = KindAccessDenied
	case "AccessError":
		e.Kind = KindAccess
	case "UserError", "ValidationError", "MissingError", "RedirectWarning":
		e.Kind = KindValidation
	default:
		switch {
		case status == http.StatusUnauthorized:
			e.Kind = KindAccessDenied
		case status == http.StatusForbidden:
			e.Kind = KindAccess
		case status >= 500 && status != http.StatusInternalServerError:
			e.Kind, e.Retry = KindUnavailable, true
		default:
			e.Kind = KindServer
			e.Retry = concurrencyFailure(je.Name + " " + je.Message + " " + je.Debug)
		}
	}
	if e.Message == "" {
		e.Message = je.Name
	}
	return e
}

func (c *JSON2) call(ctx context.Context, model, method string, args map[string]any) (any, error) {
	return c.do(ctx, model+"."+method, http.MethodPost, "/json/2/"+model+"/"+method, Sanitize(withCallContext(ctx, args)))
}

// UID finds the key owner's user id by its login (JSON-2 has no
// authenticate): a wrong key answers 401, which proves the credentials.
func (c *JSON2) UID(ctx context.Context) (int64, error) {
	c.mu.Lock()
	uid := c.uid
	c.mu.Unlock()
	if uid > 0 {
		return uid, nil
	}
	if c.cfg.Username == "" {
		return 0, protoErr("res.users.search", "the login (ODOO_USERNAME) is needed to find Maria's Odoo user over JSON-2")
	}
	ids, err := c.Search(ctx, "res.users", []any{[]any{"login", "=", c.cfg.Username}}, SearchOptions{Limit: 1})
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, &Error{Kind: KindAccessDenied, Op: "res.users.search", Message: "the API key works but no user has the login " + c.cfg.Username}
	}
	c.mu.Lock()
	c.uid = ids[0]
	c.mu.Unlock()
	return ids[0], nil
}

// ReadGroup runs formatted_read_group (JSON-2 is Odoo 19+).
func (c *JSON2) ReadGroup(ctx context.Context, model string, domain []any, groupby, aggregates []string, o GroupOptions) ([]map[string]any, error) {
	method, kw := readGroupCall(JSON2Since, domain, groupby, aggregates, o)
	v, err := c.call(ctx, model, method, kw)
	if err != nil {
		return nil, err
	}
	return asGroups(model+"."+method, v, groupby, aggregates)
}

// CallMethod calls a public method of records (a business action).
func (c *JSON2) CallMethod(ctx context.Context, model, method string, ids []int64) (any, error) {
	return c.call(ctx, model, method, map[string]any{"ids": idList(ids)})
}

// Version reads /web/version.
func (c *JSON2) Version(ctx context.Context) (map[string]any, error) {
	v, err := c.do(ctx, "web.version", http.MethodGet, "/web/version", nil)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, protoErr("web.version", "want an object, got %T", v)
	}
	return m, nil
}

func searchArgs(domain []any, o SearchOptions) map[string]any {
	a := map[string]any{"domain": sanitizeDomain(domain)}
	if o.Limit > 0 {
		a["limit"] = o.Limit
	}
	if o.Offset > 0 {
		a["offset"] = o.Offset
	}
	if o.Order != "" {
		a["order"] = o.Order
	}
	return a
}

func (c *JSON2) Search(ctx context.Context, model string, domain []any, o SearchOptions) ([]int64, error) {
	v, err := c.call(ctx, model, "search", searchArgs(domain, o))
	if err != nil {
		return nil, err
	}
	return asIDs(model+".search", v)
}

func (c *JSON2) SearchRead(ctx context.Context, model string, domain []any, fields []string, o SearchOptions) ([]map[string]any, error) {
	a := searchArgs(domain, o)
	a["fields"] = fieldList(fields)
	v, err := c.call(ctx, model, "search_read", a)
	if err != nil {
		return nil, err
	}
	return asRecords(model+".search_read", v)
}

func (c *JSON2) Read(ctx context.Context, model string, ids []int64, fields []string) ([]map[string]any, error) {
	v, err := c.call(ctx, model, "read", map[string]any{"ids": idList(ids), "fields": fieldList(fields)})
	if err != nil {
		return nil, err
	}
	return asRecords(model+".read", v)
}

func (c *JSON2) SearchCount(ctx context.Context, model string, domain []any) (int64, error) {
	v, err := c.call(ctx, model, "search_count", map[string]any{"domain": sanitizeDomain(domain)})
	if err != nil {
		return 0, err
	}
	n, ok := asInt64(v)
	if !ok {
		return 0, protoErr(model+".search_count", "want a count, got %T", v)
	}
	return n, nil
}

func (c *JSON2) FieldsGet(ctx context.Context, model string, attributes []string) (map[string]map[string]any, error) {
	v, err := c.call(ctx, model, "fields_get", map[string]any{"attributes": fieldList(attributes)})
	if err != nil {
		return nil, err
	}
	return asFields(model+".fields_get", v)
}

func (c *JSON2) NameSearch(ctx context.Context, model, name string, domain []any, limit int) ([]NameResult, error) {
	v, err := c.call(ctx, model, "name_search", map[string]any{"name": name, "domain": sanitizeDomain(domain), "operator": "ilike", "limit": limit})
	if err != nil {
		return nil, err
	}
	return asNames(model+".name_search", v)
}

// Create sends vals_list (Odoo 19's create is batch) and returns the one id.
func (c *JSON2) Create(ctx context.Context, model string, values map[string]any) (int64, error) {
	v, err := c.call(ctx, model, "create", map[string]any{"vals_list": []any{sanitizeValues(values)}})
	if err != nil {
		return 0, err
	}
	if id, ok := asInt64(v); ok {
		return id, nil
	}
	ids, err := asIDs(model+".create", v)
	if err != nil || len(ids) != 1 {
		return 0, protoErr(model+".create", "want one new id, got %v", v)
	}
	return ids[0], nil
}

func (c *JSON2) Write(ctx context.Context, model string, ids []int64, values map[string]any) error {
	v, err := c.call(ctx, model, "write", map[string]any{"ids": idList(ids), "vals": sanitizeValues(values)})
	if err != nil {
		return err
	}
	if ok, isBool := v.(bool); !isBool || !ok {
		return protoErr(model+".write", "want true, got %v", v)
	}
	return nil
}

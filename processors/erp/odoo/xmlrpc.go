package odoo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/kolo/xmlrpc"
)

// maxResponse bounds one answer: search_read results are capped by Maria's
// limit, so anything larger is a misbehaving server.
const maxResponse = 32 << 20

// XMLRPC talks to /xmlrpc/2/common and /xmlrpc/2/object. It authenticates
// once, caches the uid, and authenticates again (once per call) when Odoo
// answers AccessDenied — the key may have been rotated or the session
// reset. kolo/xmlrpc encodes and decodes; the HTTP exchange is done here so
// every call honours its context and timeout and runs on a pooled
// keep-alive transport.
type XMLRPC struct {
	cfg  Config
	base string
	http *http.Client

	mu  sync.Mutex // serializes authentication
	uid int64
	// major is the server's major version when known (SetServerMajor):
	// it picks the grouped-read method.
	major int
}

// SetServerMajor tells the client which Odoo it talks to (Auto does, after
// version()).
func (c *XMLRPC) SetServerMajor(major int) {
	c.mu.Lock()
	c.major = major
	c.mu.Unlock()
}

// NewXMLRPC builds the client; it does not connect.
func NewXMLRPC(cfg Config) (*XMLRPC, error) {
	if err := cfg.validate(true); err != nil {
		return nil, err
	}
	return &XMLRPC{cfg: cfg, base: strings.TrimRight(cfg.URL, "/"), http: newHTTPClient(cfg)}, nil
}

// call posts one methodCall and decodes the single return value.
func (c *XMLRPC) call(ctx context.Context, op, path, method string, params ...any) (any, error) {
	for i, p := range params {
		if p == nil {
			// kolo/xmlrpc drops a top-level nil and shifts the others.
			return nil, protoErr(op, "parameter %d is nil", i)
		}
	}
	body, err := xmlrpc.EncodeMethodCall(method, params...)
	if err != nil {
		return nil, protoErr(op, "encode request: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, protoErr(op, "build request: %v", err)
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(ctx, op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, transportError(ctx, op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, statusError(op, resp.StatusCode, string(raw))
	}
	if len(raw) > maxResponse {
		return nil, protoErr(op, "answer larger than %d bytes", maxResponse)
	}
	r := xmlrpc.Response(raw)
	if err := r.Err(); err != nil {
		var f xmlrpc.FaultError
		if errors.As(err, &f) {
			return nil, fromFault(op, f.Code, f.String)
		}
		return nil, protoErr(op, "malformed fault: %v", err)
	}
	var v any
	if err := r.Unmarshal(&v); err != nil {
		e := protoErr(op, "malformed answer: %v", err)
		// A 200 that is not XML-RPC is a proxy's error page: Odoo is not there.
		if !bytes.Contains(raw, []byte("<methodResponse")) {
			e.Kind, e.Retry = KindUnavailable, true
			e.Message = "the answer is not XML-RPC (a proxy error page?)"
		}
		return nil, e
	}
	return v, nil
}

// Version calls common.version(); it needs no credentials.
func (c *XMLRPC) Version(ctx context.Context) (map[string]any, error) {
	v, err := c.call(ctx, "common.version", "/xmlrpc/2/common", "version")
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, protoErr("common.version", "want a struct, got %T", v)
	}
	return m, nil
}

// Authenticate calls common.authenticate(db, login, key, {}) and caches the uid.
func (c *XMLRPC) Authenticate(ctx context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authenticateLocked(ctx)
}

func (c *XMLRPC) authenticateLocked(ctx context.Context) (int64, error) {
	v, err := c.call(ctx, "common.authenticate", "/xmlrpc/2/common", "authenticate",
		c.cfg.DB, c.cfg.Username, c.cfg.Password, map[string]any{})
	if err != nil {
		return 0, err
	}
	if uid, ok := asInt64(v); ok && uid > 0 {
		c.uid = uid
		return uid, nil
	}
	c.uid = 0
	return 0, &Error{Kind: KindAccessDenied, Op: "common.authenticate", Code: FaultAccessDenied,
		Message: fmt.Sprintf("Odoo refused the credentials of %q on database %q", c.cfg.Username, c.cfg.DB)}
}

// session returns the cached uid, authenticating when there is none.
func (c *XMLRPC) session(ctx context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.uid > 0 {
		return c.uid, nil
	}
	return c.authenticateLocked(ctx)
}

func (c *XMLRPC) forget(uid int64) {
	c.mu.Lock()
	if c.uid == uid {
		c.uid = 0
	}
	c.mu.Unlock()
}

// UID returns the authenticated uid (authenticating if needed).
func (c *XMLRPC) UID(ctx context.Context) (int64, error) { return c.session(ctx) }

// Execute calls object.execute_kw(db, uid, key, model, method, args, kwargs).
// args and kwargs are sanitized: no nil ever reaches the wire.
func (c *XMLRPC) Execute(ctx context.Context, model, method string, args []any, kwargs map[string]any) (any, error) {
	op := model + "." + method
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	kwargs = withCallContext(ctx, kwargs)
	args = Sanitize(args).([]any)
	kwargs = Sanitize(kwargs).(map[string]any)
	for attempt := 0; ; attempt++ {
		uid, err := c.session(ctx)
		if err != nil {
			return nil, err
		}
		v, err := c.call(ctx, op, "/xmlrpc/2/object", "execute_kw", c.cfg.DB, uid, c.cfg.Password, model, method, args, kwargs)
		if attempt == 0 && errors.Is(err, ErrAccessDenied) {
			c.forget(uid)
			continue
		}
		return v, err
	}
}

func (c *XMLRPC) Search(ctx context.Context, model string, domain []any, o SearchOptions) ([]int64, error) {
	v, err := c.Execute(ctx, model, "search", []any{sanitizeDomain(domain)}, searchKw(o))
	if err != nil {
		return nil, err
	}
	return asIDs(model+".search", v)
}

func (c *XMLRPC) SearchRead(ctx context.Context, model string, domain []any, fields []string, o SearchOptions) ([]map[string]any, error) {
	kw := searchKw(o)
	kw["fields"] = fieldList(fields)
	v, err := c.Execute(ctx, model, "search_read", []any{sanitizeDomain(domain)}, kw)
	if err != nil {
		return nil, err
	}
	return asRecords(model+".search_read", v)
}

func (c *XMLRPC) Read(ctx context.Context, model string, ids []int64, fields []string) ([]map[string]any, error) {
	v, err := c.Execute(ctx, model, "read", []any{idList(ids)}, map[string]any{"fields": fieldList(fields)})
	if err != nil {
		return nil, err
	}
	return asRecords(model+".read", v)
}

func (c *XMLRPC) SearchCount(ctx context.Context, model string, domain []any) (int64, error) {
	v, err := c.Execute(ctx, model, "search_count", []any{sanitizeDomain(domain)}, nil)
	if err != nil {
		return 0, err
	}
	n, ok := asInt64(v)
	if !ok {
		return 0, protoErr(model+".search_count", "want a count, got %T", v)
	}
	return n, nil
}

func (c *XMLRPC) FieldsGet(ctx context.Context, model string, attributes []string) (map[string]map[string]any, error) {
	v, err := c.Execute(ctx, model, "fields_get", []any{}, map[string]any{"attributes": fieldList(attributes)})
	if err != nil {
		return nil, err
	}
	return asFields(model+".fields_get", v)
}

// NameSearch passes its arguments positionally: Odoo 18 renamed the
// keyword "args" to "domain", positions did not change.
func (c *XMLRPC) NameSearch(ctx context.Context, model, name string, domain []any, limit int) ([]NameResult, error) {
	v, err := c.Execute(ctx, model, "name_search", []any{name, sanitizeDomain(domain), "ilike", int64(limit)}, nil)
	if err != nil {
		return nil, err
	}
	return asNames(model+".name_search", v)
}

func (c *XMLRPC) Create(ctx context.Context, model string, values map[string]any) (int64, error) {
	v, err := c.Execute(ctx, model, "create", []any{sanitizeValues(values)}, nil)
	if err != nil {
		return 0, err
	}
	if id, ok := asInt64(v); ok {
		return id, nil
	}
	if ids, err := asIDs(model+".create", v); err == nil && len(ids) == 1 {
		return ids[0], nil
	}
	return 0, protoErr(model+".create", "want the new id, got %T", v)
}

func (c *XMLRPC) Write(ctx context.Context, model string, ids []int64, values map[string]any) error {
	v, err := c.Execute(ctx, model, "write", []any{idList(ids), sanitizeValues(values)}, nil)
	if err != nil {
		return err
	}
	if ok, isBool := v.(bool); !isBool || !ok {
		return protoErr(model+".write", "want true, got %v", v)
	}
	return nil
}

// ReadGroup runs read_group (Odoo ≤ 18) or formatted_read_group (19+).
func (c *XMLRPC) ReadGroup(ctx context.Context, model string, domain []any, groupby, aggregates []string, o GroupOptions) ([]map[string]any, error) {
	c.mu.Lock()
	major := c.major
	c.mu.Unlock()
	method, kw := readGroupCall(major, domain, groupby, aggregates, o)
	v, err := c.Execute(ctx, model, method, []any{}, kw)
	if err != nil {
		return nil, err
	}
	return asGroups(model+"."+method, v, groupby, aggregates)
}

// CallMethod calls a public method of records (a business action such as
// sale.order.action_confirm). A method returning None is a success Odoo's
// XML-RPC cannot marshal: it comes back as that fault and is taken as done.
func (c *XMLRPC) CallMethod(ctx context.Context, model, method string, ids []int64) (any, error) {
	v, err := c.Execute(ctx, model, method, []any{idList(ids)}, nil)
	if e, ok := AsError(err); ok && e.Kind == KindServer && strings.Contains(e.Message, "cannot marshal None") {
		return nil, nil
	}
	return v, err
}

func searchKw(o SearchOptions) map[string]any {
	kw := map[string]any{}
	if o.Limit > 0 {
		kw["limit"] = int64(o.Limit)
	}
	if o.Offset > 0 {
		kw["offset"] = int64(o.Offset)
	}
	if o.Order != "" {
		kw["order"] = o.Order
	}
	return kw
}

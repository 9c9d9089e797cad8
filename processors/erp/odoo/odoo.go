// Package odoo is Maria's Odoo client: the methods Maria uses behind one
// interface, implemented over XML-RPC (/xmlrpc/2, every supported Odoo
// version) and JSON-2 (/json/2, Odoo 19+). Failures are typed (*Error with
// a Kind) so callers can tell retryable outages from Odoo saying "no".
//
// Values are Odoo's own: empty fields are false, many2one fields are
// [id, "name"], dates are strings. Decode them for readers with Clean.
package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"time"
)

// Client is what Maria needs from Odoo.
type Client interface {
	// Version returns common.version() (server_version, protocol_version, ...).
	Version(ctx context.Context) (map[string]any, error)
	Search(ctx context.Context, model string, domain []any, o SearchOptions) ([]int64, error)
	SearchRead(ctx context.Context, model string, domain []any, fields []string, o SearchOptions) ([]map[string]any, error)
	Read(ctx context.Context, model string, ids []int64, fields []string) ([]map[string]any, error)
	SearchCount(ctx context.Context, model string, domain []any) (int64, error)
	// FieldsGet returns field name → attributes (type, string, relation, ...).
	FieldsGet(ctx context.Context, model string, attributes []string) (map[string]map[string]any, error)
	NameSearch(ctx context.Context, model, name string, domain []any, limit int) ([]NameResult, error)
	Create(ctx context.Context, model string, values map[string]any) (int64, error)
	Write(ctx context.Context, model string, ids []int64, values map[string]any) error
	// ReadGroup is a grouped read (read_group before Odoo 19,
	// formatted_read_group from 19), normalized by asGroups.
	ReadGroup(ctx context.Context, model string, domain []any, groupby, aggregates []string, o GroupOptions) ([]map[string]any, error)
	// CallMethod calls a public method on records (business actions).
	CallMethod(ctx context.Context, model, method string, ids []int64) (any, error)
	// UID is the id of the Odoo user the credentials belong to.
	UID(ctx context.Context) (int64, error)
}

// SearchOptions page and order a search. Limit 0 means Odoo's default (no
// limit): callers should always set one.
type SearchOptions struct {
	Limit  int
	Offset int
	Order  string
}

// NameResult is one name_search match.
type NameResult struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Config says where Odoo is and who Maria is there.
type Config struct {
	URL string
	DB  string
	// Username is the login; Password a password or, better, an API key.
	Username string
	Password string
	// Timeout bounds one HTTP call (default 30s).
	Timeout time.Duration
	// Transport overrides the pooled keep-alive transport (tests).
	Transport http.RoundTripper
}

func (c Config) validate(needLogin bool) error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("odoo: URL is required"))
	} else if !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
		errs = append(errs, errors.New("odoo: URL must start with http:// or https://")) // not echoed: it may carry credentials
	}
	if needLogin && c.DB == "" {
		errs = append(errs, errors.New("odoo: database name is required"))
	}
	if needLogin && c.Username == "" {
		errs = append(errs, errors.New("odoo: username is required"))
	}
	if c.Password == "" {
		errs = append(errs, errors.New("odoo: password or API key is required"))
	}
	return errors.Join(errs...)
}

// newHTTPClient returns a client with a pooled keep-alive transport sized
// for a handful of concurrent calls to one host.
func newHTTPClient(c Config) *http.Client {
	t := c.Transport
	if t == nil {
		t = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          64,
			MaxIdleConnsPerHost:   32,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: c.timeout(),
			ExpectContinueTimeout: time.Second,
		}
	}
	return &http.Client{Transport: t, Timeout: c.timeout()}
}

func (c Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 30 * time.Second
	}
	return c.Timeout
}

// transportError classifies a failed HTTP round trip. sent reports whether
// the request may have been written before the failure.
func transportError(ctx context.Context, op string, err error) *Error {
	e := &Error{Kind: KindUnavailable, Op: op, Retry: true, Err: err}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case ctx.Err() != nil:
		e.Message = "cancelled: " + ctx.Err().Error()
		e.MaybeExecuted = true
	case errors.As(err, &dnsErr):
		e.Message = "cannot resolve the Odoo host: " + dnsErr.Err
	case errors.As(err, &opErr) && opErr.Op == "dial":
		e.Message = "cannot connect to Odoo: " + opErr.Err.Error()
	case isTimeout(err):
		e.Message = "Odoo did not answer in time"
		e.MaybeExecuted = true
	default:
		e.Message = "connection to Odoo failed: " + scrub(err.Error())
		e.MaybeExecuted = true
	}
	return e
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// scrub drops URLs' user info from transport error text (url.Error quotes
// the request URL).
func scrub(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.Index(s[i+3:], "@"); j >= 0 && !strings.ContainsAny(s[i+3:i+3+j], "/ ") {
			s = s[:i+3] + "…" + s[i+3+j:]
		}
	}
	return s
}

// statusError classifies a non-2xx HTTP answer without an Odoo error body.
func statusError(op string, status int, body string) *Error {
	e := &Error{Op: op, Code: status}
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		e.Kind, e.Retry = KindUnavailable, true
		e.MaybeExecuted = status == http.StatusGatewayTimeout || status == http.StatusInternalServerError
		e.Message = fmt.Sprintf("Odoo answered HTTP %d %s", status, http.StatusText(status))
	case status == http.StatusUnauthorized:
		e.Kind = KindAccessDenied
		e.Message = "Odoo refused the credentials (HTTP 401)"
	case status == http.StatusForbidden:
		e.Kind = KindAccess
		e.Message = "Odoo refused access (HTTP 403)"
	case status == http.StatusNotFound:
		e.Kind = KindProtocol
		e.Message = "Odoo endpoint not found (HTTP 404): check ODOO_URL and the protocol"
	default:
		e.Kind = KindProtocol
		e.Message = fmt.Sprintf("unexpected HTTP %d from Odoo", status)
	}
	if b := strings.TrimSpace(body); b != "" && len(b) < 200 && !strings.Contains(b, "<") {
		e.Message += ": " + b
	}
	return e
}

// Sanitize makes a value safe to send: nil becomes false (kolo/xmlrpc sends
// a nested nil as <value/>, which Python reads as ”), JSON numbers become
// int64 or float64, and maps/slices are copied recursively.
func Sanitize(v any) any {
	switch x := v.(type) {
	case nil:
		return false
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
		return x
	case float32:
		return Sanitize(float64(x))
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Sanitize(e)
		}
		return out
	case []int64:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Sanitize(e)
		}
		return out
	default:
		return v
	}
}

func sanitizeDomain(d []any) []any {
	if d == nil {
		return []any{}
	}
	return Sanitize(d).([]any)
}

func sanitizeValues(v map[string]any) map[string]any {
	if v == nil {
		return map[string]any{}
	}
	return Sanitize(v).(map[string]any)
}

func fieldList(f []string) []any {
	out := make([]any, 0, len(f))
	for _, s := range f {
		out = append(out, s)
	}
	return out
}

func idList(ids []int64) []any {
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, id)
	}
	return out
}

// asInt64 reads an Odoo integer decoded from XML-RPC (int64) or JSON
// (json.Number, float64).
func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) {
			return int64(x), true
		}
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	}
	return 0, false
}

func protoErr(op, format string, args ...any) *Error {
	return &Error{Kind: KindProtocol, Op: op, Message: fmt.Sprintf(format, args...)}
}

func asRecords(op string, v any) ([]map[string]any, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, protoErr(op, "want a list of records, got %T", v)
	}
	out := make([]map[string]any, 0, len(list))
	for _, r := range list {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, protoErr(op, "want a record, got %T", r)
		}
		for k, fv := range m {
			m[k] = normalize(fv)
		}
		out = append(out, m)
	}
	return out, nil
}

func asIDs(op string, v any) ([]int64, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, protoErr(op, "want a list of ids, got %T", v)
	}
	out := make([]int64, 0, len(list))
	for _, e := range list {
		id, ok := asInt64(e)
		if !ok {
			return nil, protoErr(op, "want an id, got %T", e)
		}
		out = append(out, id)
	}
	return out, nil
}

func asFields(op string, v any) (map[string]map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, protoErr(op, "want a map of fields, got %T", v)
	}
	out := make(map[string]map[string]any, len(m))
	for k, a := range m {
		attrs, ok := a.(map[string]any)
		if !ok {
			return nil, protoErr(op, "field %s: want attributes, got %T", k, a)
		}
		for ak, av := range attrs {
			attrs[ak] = normalize(av)
		}
		out[k] = attrs
	}
	return out, nil
}

func asNames(op string, v any) ([]NameResult, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, protoErr(op, "want a list of [id, name], got %T", v)
	}
	out := make([]NameResult, 0, len(list))
	for _, e := range list {
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			return nil, protoErr(op, "want [id, name], got %v", e)
		}
		id, ok := asInt64(pair[0])
		if !ok {
			return nil, protoErr(op, "want an id, got %T", pair[0])
		}
		name, _ := pair[1].(string)
		out = append(out, NameResult{ID: id, Name: name})
	}
	return out, nil
}

// normalize turns JSON numbers into int64/float64 so both protocols hand
// callers the same Go types.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	}
	return v
}

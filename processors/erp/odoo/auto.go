package odoo

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// Protocols of ODOO_PROTOCOL.
const (
	// ProtocolAuto asks version() and speaks JSON-2 to Odoo 19+, XML-RPC
	// to older servers.
	ProtocolAuto   = "auto"
	ProtocolXMLRPC = "xmlrpc"
	ProtocolJSON2  = "json2"
)

// Auto is a Client that finds out which Odoo it talks to before its first
// call — common.version() over XML-RPC, or GET /web/version once XML-RPC is
// gone (Odoo 22) — and then speaks JSON-2 (Odoo ≥ 19, with the API key) or
// XML-RPC, unless a protocol is forced. Until a version() succeeds every
// call tries again, so a server that was down at start is picked up when
// it comes back.
type Auto struct {
	cfg Config
	det *detection
	mu  sync.Mutex
	c   Client
}

// detection is what Auto learned, shared by the clients of every user
// (WithCredentials): one server, one version.
type detection struct {
	want  string
	mu    sync.Mutex
	info  ServerInfo
	proto string
}

// Status is what Probe established.
type Status struct {
	Server   ServerInfo
	Protocol string
	UID      int64
}

// NewAuto builds the client; protocol is auto, xmlrpc or json2. It does
// not connect.
func NewAuto(cfg Config, protocol string) (*Auto, error) {
	switch protocol {
	case "", ProtocolAuto:
		protocol = ProtocolAuto
	case ProtocolXMLRPC, ProtocolJSON2:
	default:
		return nil, fmt.Errorf("odoo: protocol %q is not auto, xmlrpc or json2", protocol)
	}
	if err := cfg.validate(protocol != ProtocolJSON2); err != nil {
		return nil, err
	}
	return &Auto{cfg: cfg, det: &detection{want: protocol}}, nil
}

// WithCredentials is the same server as another Odoo user (login and API
// key): the version found once serves every user.
func (a *Auto) WithCredentials(login, key string) *Auto {
	cfg := a.cfg
	cfg.Username, cfg.Password = login, key
	return &Auto{cfg: cfg, det: a.det}
}

// Probe asks the server's version, picks the protocol and checks the
// credentials (authenticate over XML-RPC; finding the login's user over
// JSON-2, which a wrong key answers with 401).
func (a *Auto) Probe(ctx context.Context) (Status, error) {
	c, err := a.client(ctx)
	if err != nil {
		return Status{}, err
	}
	a.det.mu.Lock()
	st := Status{Server: a.det.info, Protocol: a.det.proto}
	a.det.mu.Unlock()
	if x, ok := c.(*XMLRPC); ok {
		// A fresh authenticate, not the cached uid: the key may be revoked.
		st.UID, err = x.Authenticate(ctx)
	} else {
		st.UID, err = c.UID(ctx)
	}
	return st, err
}

// Server returns the detected server and protocol ("" before detection).
func (a *Auto) Server() (ServerInfo, string) {
	a.det.mu.Lock()
	defer a.det.mu.Unlock()
	return a.det.info, a.det.proto
}

func (a *Auto) client(ctx context.Context) (Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.c != nil {
		return a.c, nil
	}
	info, proto, err := a.det.detect(ctx, a.cfg)
	if err != nil {
		return nil, err
	}
	switch proto {
	case ProtocolJSON2:
		a.c, err = NewJSON2(a.cfg)
	default:
		var x *XMLRPC
		if x, err = NewXMLRPC(a.cfg); err == nil {
			x.SetServerMajor(info.Major)
			a.c = x
		}
	}
	return a.c, err
}

// detect runs version() once successfully; failures are not remembered.
func (d *detection) detect(ctx context.Context, cfg Config) (ServerInfo, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proto != "" {
		return d.info, d.proto, nil
	}
	base := strings.TrimRight(cfg.URL, "/")
	hc := newHTTPClient(cfg)
	v, err := (&XMLRPC{cfg: cfg, base: base, http: hc}).Version(ctx)
	if e, ok := AsError(err); ok && e.Kind == KindProtocol {
		// No XML-RPC here (Odoo 22+, or disabled): JSON-2's server.
		v, err = (&JSON2{cfg: cfg, base: base, http: hc}).Version(ctx)
	}
	if err != nil {
		return ServerInfo{}, "", err
	}
	info := ParseVersion(v)
	proto := d.want
	if proto == ProtocolAuto {
		proto = ProtocolXMLRPC
		if info.Major >= JSON2Since {
			proto = ProtocolJSON2
		}
	}
	d.info, d.proto = info, proto
	return info, proto, nil
}

func (a *Auto) Version(ctx context.Context) (map[string]any, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.Version(ctx)
}

func (a *Auto) Search(ctx context.Context, model string, domain []any, o SearchOptions) ([]int64, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.Search(ctx, model, domain, o)
}

func (a *Auto) SearchRead(ctx context.Context, model string, domain []any, fields []string, o SearchOptions) ([]map[string]any, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.SearchRead(ctx, model, domain, fields, o)
}

func (a *Auto) Read(ctx context.Context, model string, ids []int64, fields []string) ([]map[string]any, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.Read(ctx, model, ids, fields)
}

func (a *Auto) SearchCount(ctx context.Context, model string, domain []any) (int64, error) {
	c, err := a.client(ctx)
	if err != nil {
		return 0, err
	}
	return c.SearchCount(ctx, model, domain)
}

func (a *Auto) FieldsGet(ctx context.Context, model string, attributes []string) (map[string]map[string]any, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.FieldsGet(ctx, model, attributes)
}

func (a *Auto) NameSearch(ctx context.Context, model, name string, domain []any, limit int) ([]NameResult, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.NameSearch(ctx, model, name, domain, limit)
}

func (a *Auto) Create(ctx context.Context, model string, values map[string]any) (int64, error) {
	c, err := a.client(ctx)
	if err != nil {
		return 0, err
	}
	return c.Create(ctx, model, values)
}

func (a *Auto) Write(ctx context.Context, model string, ids []int64, values map[string]any) error {
	c, err := a.client(ctx)
	if err != nil {
		return err
	}
	return c.Write(ctx, model, ids, values)
}

func (a *Auto) ReadGroup(ctx context.Context, model string, domain []any, groupby, aggregates []string, o GroupOptions) ([]map[string]any, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.ReadGroup(ctx, model, domain, groupby, aggregates, o)
}

func (a *Auto) CallMethod(ctx context.Context, model, method string, ids []int64) (any, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.CallMethod(ctx, model, method, ids)
}

func (a *Auto) UID(ctx context.Context) (int64, error) {
	c, err := a.client(ctx)
	if err != nil {
		return 0, err
	}
	return c.UID(ctx)
}

package erp

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/processors/erp/odoo"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Query methods.
const (
	MethodSearchRead  = "search_read"
	MethodRead        = "read"
	MethodSearchCount = "search_count"
	MethodFieldsGet   = "fields_get"
	MethodNameSearch  = "name_search"
	MethodReadGroup   = "read_group"
)

const maxOffset = 100_000

// Query answers one read. Failures are in the reply (Error + Kind), never
// a Go error, so every caller reads one shape.
func (s *Service) Query(ctx context.Context, q schemas.ERPQuery) *schemas.ERPReply {
	rep, _ := s.queryAs(ctx, q)
	return rep
}

// queryAs answers one read as the Odoo user the asker's identity and the
// policy pick (whoFor), and says who that was.
func (s *Service) queryAs(ctx context.Context, q schemas.ERPQuery) (*schemas.ERPReply, runAs) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	who, err := s.whoFor(ctx, q.Team, q.User, false)
	var rep *schemas.ERPReply
	if err == nil {
		rep, err = s.query(ctx, q, who)
	}
	if err != nil {
		msg := plainError(err)
		if who.personal {
			msg = personalError(err, who)
		}
		rep = &schemas.ERPReply{Error: msg, Kind: replyKind(err)}
		metricQueries.WithLabelValues(methodLabel(q.Method), rep.Kind).Inc()
		s.log.Debug().Err(err).Str("correlation_id", telemetry.Correlation(ctx)).Str("method", q.Method).Str("model", q.Model).Msg("erp query failed")
	} else {
		metricQueries.WithLabelValues(methodLabel(q.Method), "ok").Inc()
	}
	rep.BaseURL = s.cfg.PublicURL
	rep.OdooMajor = s.odooMajor()
	return rep, who
}

func methodLabel(m string) string {
	switch m {
	case MethodSearchRead, MethodRead, MethodSearchCount, MethodFieldsGet, MethodNameSearch, MethodReadGroup:
		return m
	}
	return "other"
}

// normalized is a validated query; its JSON is the cache key.
type normalized struct {
	Method string   `json:"m"`
	Model  string   `json:"o"`
	Domain []any    `json:"d,omitempty"`
	Fields []string `json:"f,omitempty"`
	IDs    []int64  `json:"i,omitempty"`
	Limit  int      `json:"l,omitempty"`
	Offset int      `json:"s,omitempty"`
	Order  string   `json:"r,omitempty"`
	Name   string   `json:"n,omitempty"`
	// read_group
	GroupBy    []string `json:"g,omitempty"`
	Aggregates []string `json:"a,omitempty"`
}

func (n normalized) key() string {
	k := n
	k.Fields = append([]string(nil), n.Fields...)
	sort.Strings(k.Fields)
	raw, _ := json.Marshal(k)
	return string(raw)
}

// validate refuses anything outside the allow-list or malformed, before a
// single call to Odoo (except fields_get, to follow dotted domain paths).
func (s *Service) validate(ctx context.Context, q schemas.ERPQuery) (normalized, error) {
	n := normalized{Method: q.Method, Model: q.Model}
	switch q.Method {
	case MethodSearchRead, MethodRead, MethodSearchCount, MethodFieldsGet, MethodNameSearch, MethodReadGroup:
	case "":
		return n, refused("method is required (search_read, read, search_count, fields_get, name_search, read_group)")
	default:
		return n, refused("method %q is not served (search_read, read, search_count, fields_get, name_search, read_group)", q.Method)
	}
	if q.Model == "" {
		return n, refused("model is required")
	}
	if !s.cfg.Read.Model(q.Model) {
		return n, refused("model %s is not in Maria's allow-list (allowed: %v)", q.Model, s.cfg.Read.Models())
	}
	var err error
	if q.Method == MethodSearchRead || q.Method == MethodRead {
		if n.Fields, err = validateFields(s.cfg.Read, q.Model, q.Fields); err != nil {
			return n, err
		}
	}
	if q.Method == MethodSearchRead || q.Method == MethodSearchCount || q.Method == MethodNameSearch || q.Method == MethodReadGroup {
		if n.Domain, err = validateDomain(ctx, s.cfg.Read, q.Model, q.Domain, s.relation); err != nil {
			return n, err
		}
	} else if len(q.Domain) > 0 {
		return n, refused("%s takes no domain", q.Method)
	}
	if q.Method == MethodReadGroup {
		if err := s.validateGroup(ctx, q, &n); err != nil {
			return n, err
		}
	} else if len(q.GroupBy) > 0 || len(q.Aggregates) > 0 {
		return n, refused("groupby and aggregates belong to read_group")
	}
	if q.Method == MethodSearchRead || q.Method == MethodNameSearch || q.Method == MethodReadGroup {
		n.Limit = q.Limit
		if n.Limit <= 0 || n.Limit > s.cfg.MaxLimit {
			n.Limit = s.cfg.MaxLimit
		}
	}
	if q.Method == MethodSearchRead {
		if q.Offset < 0 || q.Offset > maxOffset {
			return n, refused("offset must be between 0 and %d", maxOffset)
		}
		n.Offset = q.Offset
		if n.Order, err = validateOrder(s.cfg.Read, q.Model, q.Order); err != nil {
			return n, err
		}
	}
	if q.Method == MethodRead {
		if len(q.IDs) == 0 {
			return n, refused("read needs ids")
		}
		if len(q.IDs) > s.cfg.MaxLimit {
			return n, refused("read takes at most %d ids", s.cfg.MaxLimit)
		}
		for _, id := range q.IDs {
			if id <= 0 {
				return n, refused("ids must be positive, got %d", id)
			}
		}
		n.IDs = q.IDs
	}
	if q.Method == MethodNameSearch {
		if utf8.RuneCountInString(q.Name) > 200 {
			return n, refused("name is longer than 200 characters")
		}
		n.Name = q.Name
	}
	return n, nil
}

func (s *Service) query(ctx context.Context, q schemas.ERPQuery, who runAs) (*schemas.ERPReply, error) {
	n, err := s.validate(ctx, q)
	if err != nil {
		return nil, err
	}
	companies, err := s.companiesOf(ctx, who)
	if err != nil {
		return nil, err
	}
	picked, err := pickCompanies(companies, q.Company)
	if err != nil {
		return nil, err
	}
	ctx = companyContext(ctx, picked)
	key := who.cachePrefix() + companyKey(picked) + n.key()
	if v, ok := s.cache.get(key); ok {
		metricCache.WithLabelValues("hit").Inc()
		rep := *v.(*schemas.ERPReply)
		rep.Cached = true
		return &rep, nil
	}
	if s.cache.enabled() {
		metricCache.WithLabelValues("miss").Inc()
	}
	gen := s.cache.gen(n.Model)
	rep, err := s.read(ctx, n, who.client)
	if err != nil {
		return nil, err
	}
	if len(companies) > 1 {
		// The answer must say which company the data is from.
		rep.Companies = companyNames(picked)
	}
	s.cache.put(key, n.Model, gen, rep)
	cp := *rep
	return &cp, nil
}

// read asks Odoo through c, the client of the user the read runs as.
func (s *Service) read(ctx context.Context, n normalized, c odoo.Client) (*schemas.ERPReply, error) {
	switch n.Method {
	case MethodSearchRead, MethodRead:
		var recs []map[string]any
		var err error
		if n.Method == MethodRead {
			recs, err = c.Read(ctx, n.Model, n.IDs, n.Fields)
		} else {
			recs, err = c.SearchRead(ctx, n.Model, n.Domain, n.Fields, odoo.SearchOptions{Limit: n.Limit, Offset: n.Offset, Order: n.Order})
		}
		if err != nil {
			return nil, err
		}
		types := s.types(ctx, n.Model)
		for _, r := range recs {
			// "*" models may return fields beyond the list; never pass
			// on a field outside the allow-list.
			for k := range r {
				if !s.cfg.Read.Field(n.Model, k) {
					delete(r, k)
				}
			}
			odoo.Clean(r, types)
		}
		if recs == nil {
			recs = []map[string]any{}
		}
		return &schemas.ERPReply{Records: recs}, nil
	case MethodSearchCount:
		n, err := c.SearchCount(ctx, n.Model, n.Domain)
		if err != nil {
			return nil, err
		}
		return &schemas.ERPReply{Count: &n}, nil
	case MethodFieldsGet:
		f, err := s.fields(ctx, n.Model)
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for name, attrs := range f {
			if s.cfg.Read.Field(n.Model, name) {
				out[name] = attrs
			}
		}
		return &schemas.ERPReply{Fields: out}, nil
	case MethodNameSearch:
		res, err := c.NameSearch(ctx, n.Model, n.Name, n.Domain, n.Limit)
		if err != nil {
			return nil, err
		}
		recs := make([]map[string]any, len(res))
		for i, r := range res {
			recs[i] = map[string]any{"id": r.ID, "name": r.Name}
		}
		return &schemas.ERPReply{Records: recs}, nil
	case MethodReadGroup:
		groups, err := c.ReadGroup(ctx, n.Model, n.Domain, n.GroupBy, n.Aggregates, odoo.GroupOptions{Limit: n.Limit, Order: n.Order})
		if err != nil {
			return nil, err
		}
		if groups == nil {
			groups = []map[string]any{}
		}
		return &schemas.ERPReply{Groups: groups}, nil
	}
	return nil, fmt.Errorf("unreachable: method %s", n.Method)
}

// Invalidate drops cached reads of model (a write touched it).
func (s *Service) Invalidate(model string) { s.cache.invalidate(model) }

// ServeQueries registers the "maria-erp" micro service with its query
// endpoint on schemas.SubjectERPQuery, in a queue group so replicas share
// the load. Queries run concurrently (QueryConcurrency per replica). The
// returned wait blocks until in-flight queries are answered, after Stop.
//
// With js, each answered query is also recorded on the audit trail
// (auditQuery) so traces show the ERP hop; nil records nothing.
func (s *Service) ServeQueries(ctx context.Context, nc *nats.Conn, js jetstream.JetStream) (micro.Service, func(), error) {
	sem := make(chan struct{}, s.cfg.QueryConcurrency)
	var wg sync.WaitGroup
	baseCtx := context.WithoutCancel(ctx)
	handler := micro.HandlerFunc(func(req micro.Request) {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			start := time.Now()
			var q schemas.ERPQuery
			var rep *schemas.ERPReply
			var who runAs
			// The server span is the child of the requester's (the AI's
			// "erp query" span), the Odoo calls are its children.
			qctx, span := telemetry.StartServerSpan(telemetry.RequestContext(baseCtx, nats.Header(req.Headers())), "erp serve query",
				attribute.String("rpc.system", "nats"),
				attribute.String("messaging.destination.name", schemas.SubjectERPQuery))
			if err := decodeStrict(req.Data(), &q); err != nil {
				rep = &schemas.ERPReply{Error: "the request is not a JSON ERP query: " + err.Error(), Kind: "refused", BaseURL: s.cfg.PublicURL}
				metricQueries.WithLabelValues("other", "refused").Inc()
			} else {
				span.SetAttributes(attribute.String("maria.erp.model", q.Model), attribute.String("maria.erp.method", q.Method))
				rep, who = s.queryAs(qctx, q)
			}
			endQuerySpan(span, rep)
			if err := req.RespondJSON(rep); err != nil {
				s.log.Warn().Err(err).Msg("erp query reply failed")
			}
			s.auditQuery(qctx, js, nats.Header(req.Headers()), q, rep, who, time.Since(start))
		}()
	})
	svc, err := micro.AddService(nc, micro.Config{
		Name:        ServiceName,
		Version:     "1.0.0",
		Description: "Maria's allow-listed Odoo reads (search_read, read, search_count, fields_get, name_search, read_group)",
		QueueGroup:  ServiceName,
		ErrorHandler: func(_ micro.Service, e *micro.NATSError) {
			s.log.Error().Str("subject", e.Subject).Str("error", e.Description).Msg("erp query service error")
		},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("erp: add micro service: %w", err)
	}
	if err := svc.AddEndpoint("query", handler, micro.WithEndpointSubject(schemas.SubjectERPQuery),
		micro.WithEndpointMetadata(map[string]string{"request": schemas.TypeERPQuery, "reply": schemas.TypeERPReply})); err != nil {
		_ = svc.Stop()
		return nil, nil, fmt.Errorf("erp: add query endpoint: %w", err)
	}
	if err := s.addIdentityEndpoint(svc); err != nil {
		_ = svc.Stop()
		return nil, nil, fmt.Errorf("erp: add identity endpoint: %w", err)
	}
	s.log.Info().Str("subject", schemas.SubjectERPQuery).Strs("models", s.cfg.Read.Models()).Msg("erp query service started")
	return svc, wg.Wait, nil
}

// endQuerySpan ends a query's server span with the reply's kind ("ok" or
// the failure kind), whether it came from the cache and how many records it
// holds; the error text is not recorded (it may quote the query).
func endQuerySpan(span trace.Span, rep *schemas.ERPReply) {
	if !span.IsRecording() {
		return
	}
	kind := rep.Kind
	if kind == "" && rep.Error == "" {
		kind = "ok"
	}
	span.SetAttributes(attribute.String("maria.erp.kind", kind), attribute.Bool("maria.erp.cached", rep.Cached),
		attribute.Int("maria.erp.records", len(rep.Records)))
	var err error
	if rep.Error != "" {
		err = fmt.Errorf("erp query %s", kind)
	}
	telemetry.EndSpan(span, err)
}

// WatchResults invalidates cached reads when any replica reports a write
// (maria.erp.result.>), so a reader never sees its own change missing for
// a whole TTL.
func (s *Service) WatchResults(nc *nats.Conn) (*nats.Subscription, error) {
	sub, err := nc.Subscribe(schemas.SubjectERPResultAll, func(msg *nats.Msg) {
		env, err := schemas.Decode(msg.Data)
		if err != nil {
			return
		}
		res, err := schemas.DecodeData[schemas.ERPResult](env)
		if err != nil || res.Model == "" {
			return
		}
		s.cache.invalidate(res.Model)
	})
	if err != nil {
		return nil, fmt.Errorf("erp: watch results: %w", err)
	}
	return sub, nil
}

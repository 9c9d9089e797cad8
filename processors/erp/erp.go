// Package erp is Maria's ERP processor. It serves allow-listed Odoo reads
// on maria.erp.query (a NATS micro service shared by every replica) with a
// read cache, and executes confirmed writes from maria.erp.command.<model>
// exactly once, publishing each outcome on maria.erp.result.<model> and an
// audit record on maria.audit.erp_write. A circuit breaker turns an Odoo
// outage into fast, clearly worded failures.
package erp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/mariahq/maria/processors/erp/identity"
	"github.com/mariahq/maria/processors/erp/odoo"
	"github.com/mariahq/maria/schemas"
	"github.com/rs/zerolog"
)

// ServiceName is the NATS micro service name of the query endpoint.
const ServiceName = "maria-erp"

// Service is one replica of the ERP processor.
type Service struct {
	cfg     Config
	odoo    odoo.Client // behind the breaker
	breaker *Breaker
	cache   *cache
	schemas *schemaCache
	log     zerolog.Logger
	// maxDeliver of the command consumer: the last delivery tells the user.
	maxDeliver int
	// tune adjusts the command processor (tests: fast backoff).
	tune func(*bus.Processor)
	// ring seals connected people's Odoo keys; ids stores them (opened by
	// Run when ring is set); personal keeps their clients; newClient
	// builds one (NewOdooClient).
	ring      *sealed.Keyring
	ids       *identity.Store
	personal  personalClients
	newClient func(Config) (odoo.Client, error)
	// raw is the service account's client without the breaker: readiness
	// probes it (readiness.go).
	raw   odoo.Client
	probe odooProbe
	// companies caches each Odoo user's companies (companies.go).
	companies companyCache
}

// WithIdentities lets people connect their own Odoo users: keys are
// sealed with ring and kept in the NATS KV bucket identity.Bucket (or in
// store, when not nil: another backend).
func (s *Service) WithIdentities(ring *sealed.Keyring, store *identity.Store) *Service {
	s.ring, s.ids = ring, store
	return s
}

// New builds a service over an Odoo client (from NewOdooClient, or a fake).
func New(cfg Config, client odoo.Client, log zerolog.Logger) *Service {
	if cfg.MaxLimit <= 0 {
		cfg.MaxLimit = 80
	}
	if cfg.QueryConcurrency <= 0 {
		cfg.QueryConcurrency = 16
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 35 * time.Second
	}
	if cfg.SchemaTTL <= 0 {
		cfg.SchemaTTL = 10 * time.Minute
	}
	if cfg.IdempotencyTTL <= 0 {
		cfg.IdempotencyTTL = 8 * 24 * time.Hour
	}
	if cfg.ClaimStale <= 0 {
		cfg.ClaimStale = 2 * time.Minute
	}
	if cfg.Read == nil {
		cfg.Read, _ = ParseAllowList(DefaultReadAllow)
	}
	if cfg.Write == nil {
		cfg.Write, _ = ParseAllowList(DefaultWriteAllow)
	}
	if cfg.Actions == nil {
		cfg.Actions, _ = ParseActions(DefaultActions)
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = cfg.Odoo.URL
	}
	if cfg.IdentityPolicy == "" {
		cfg.IdentityPolicy = PolicyService
	}
	br := NewBreaker(cfg.BreakerThreshold, cfg.BreakerCooldown)
	s := &Service{cfg: cfg, breaker: br, odoo: Guard(client, br), raw: client, cache: newCache(cfg.CacheSize, cfg.CacheTTL), log: log, newClient: NewOdooClient}
	if a, ok := client.(*odoo.Auto); ok {
		// People's clients reuse the version the service account's found.
		s.newClient = func(c Config) (odoo.Client, error) { return a.WithCredentials(c.Odoo.Username, c.Odoo.Password), nil }
	}
	s.schemas = &schemaCache{ttl: cfg.SchemaTTL, items: map[string]schemaEntry{}, now: time.Now}
	spec, _ := schemas.ConsumerByName("erp")
	s.maxDeliver = spec.MaxDeliver
	return s
}

// Breaker exposes the circuit breaker (readiness, tests).
func (s *Service) Breaker() *Breaker { return s.breaker }

// Run serves queries and consumes commands until ctx ends.
func (s *Service) Run(ctx context.Context, b *bus.Bus) error {
	idem, err := b.Idempotency(ctx, "maria_erp", s.cfg.IdempotencyTTL, s.cfg.ClaimStale)
	if err != nil {
		return err
	}
	if s.ring != nil && s.ids == nil {
		raw, err := identity.OpenNATSKV(ctx, b.JetStream(), b.Config().Replicas)
		if err != nil {
			return err
		}
		s.ids = identity.New(raw, s.ring)
	}
	go s.watchOdoo(ctx)
	svc, wait, err := s.ServeQueries(ctx, b.Conn(), b.JetStream())
	if err != nil {
		return err
	}
	inval, err := s.WatchResults(b.Conn())
	if err != nil {
		_ = svc.Stop()
		return err
	}
	perr := bus.Run(ctx, b, s.Processor(idem))
	_ = inval.Unsubscribe()
	_ = svc.Stop()
	wait()
	return perr
}

// --- field schema (fields_get) ----------------------------------------------

type schemaEntry struct {
	fields  map[string]map[string]any
	expires time.Time
}

type schemaCache struct {
	mu    sync.Mutex
	ttl   time.Duration
	items map[string]schemaEntry
	now   func() time.Time
}

var schemaAttributes = []string{"type", "string", "relation", "required", "readonly", "selection"}

// fields returns the model's fields_get, cached for SchemaTTL.
func (s *Service) fields(ctx context.Context, model string) (map[string]map[string]any, error) {
	c := s.schemas
	c.mu.Lock()
	e, ok := c.items[model]
	c.mu.Unlock()
	if ok && c.now().Before(e.expires) {
		return e.fields, nil
	}
	f, err := s.odoo.FieldsGet(ctx, model, schemaAttributes)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.items[model] = schemaEntry{fields: f, expires: c.now().Add(c.ttl)}
	c.mu.Unlock()
	return f, nil
}

// relation returns the model a field points to, "" if not relational.
func (s *Service) relation(ctx context.Context, model, field string) (string, error) {
	f, err := s.fields(ctx, model)
	if err != nil {
		return "", err
	}
	attrs, ok := f[field]
	if !ok {
		return "", refused("field %s does not exist on %s", field, model)
	}
	rel, _ := attrs["relation"].(string)
	return rel, nil
}

// types returns field → type for decoding records; nil when unknown.
func (s *Service) types(ctx context.Context, model string) map[string]string {
	f, err := s.fields(ctx, model)
	if err != nil {
		s.log.Debug().Err(err).Str("model", model).Msg("fields_get failed; decoding values by shape")
		return nil
	}
	out := make(map[string]string, len(f))
	for name, attrs := range f {
		if t, ok := attrs["type"].(string); ok {
			out[name] = t
		}
	}
	return out
}

// --- errors in words ------------------------------------------------------------

// replyKind maps an error to the Kind of schemas.ERPReply / ERPResult.
func replyKind(err error) string {
	if IsRefused(err) {
		return "refused"
	}
	var nc *NotConnectedError
	if errors.As(err, &nc) {
		return schemas.ERPKindNotConnected // the ai offers the connect button
	}
	e, ok := odoo.AsError(err)
	if !ok {
		return "internal"
	}
	switch e.Kind {
	case odoo.KindUnavailable:
		return "unavailable"
	case odoo.KindAccess, odoo.KindAccessDenied:
		return "access"
	case odoo.KindValidation:
		return "validation"
	case odoo.KindServer:
		// Fault 1 on a well-formed request is nearly always a bad field
		// or value the caller can fix.
		for _, p := range []string{"ValueError", "TypeError", "KeyError", "Invalid field", "Wrong value"} {
			if strings.Contains(e.Message, p) {
				return "validation"
			}
		}
	}
	return "internal"
}

// plainError says what went wrong for a person (and an LLM) to read.
func plainError(err error) string {
	var r *RefusedError
	if errors.As(err, &r) {
		return r.Reason
	}
	var nc *NotConnectedError
	if errors.As(err, &nc) {
		return nc.Error()
	}
	e, ok := odoo.AsError(err)
	if !ok {
		return err.Error()
	}
	switch e.Kind {
	case odoo.KindAccessDenied:
		return "Odoo refused Maria's credentials; an administrator must check ODOO_USERNAME and ODOO_PASSWORD"
	case odoo.KindAccess:
		return "Maria's Odoo user is not allowed to do this: " + e.Message
	case odoo.KindUnavailable:
		if strings.HasPrefix(e.Message, "Odoo is unavailable") {
			return e.Message
		}
		return "Odoo is unavailable: " + e.Message
	case odoo.KindValidation:
		return "Odoo refused it: " + e.Message
	}
	return "Odoo failed: " + e.Message
}

// decodeStrict parses JSON keeping numbers exact (ids beyond 2^53, money).
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

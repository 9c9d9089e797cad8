package erp

import (
	"context"
	"fmt"
	"time"

	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/processors/erp/odoo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// guarded wraps an Odoo client with the circuit breaker and metrics.
type guarded struct {
	c  odoo.Client
	br *Breaker
}

// Guard returns c behind the breaker, counting calls in
// maria_erp_odoo_calls_total and maria_erp_odoo_seconds.
func Guard(c odoo.Client, br *Breaker) odoo.Client { return &guarded{c: c, br: br} }

// do runs one Odoo call behind the breaker, with metrics and a client span
// "odoo <method>" (model, method, outcome, fault kind). The span records the
// fault kind only, not Odoo's message (it may echo record values).
func (g *guarded) do(ctx context.Context, method, model string, f func(ctx context.Context) error) error {
	ctx, span := telemetry.StartSpan(ctx, "odoo "+method,
		attribute.String("rpc.system", "odoo"),
		attribute.String("rpc.method", method),
		attribute.String("maria.odoo.model", model))
	if err := g.br.Allow(); err != nil {
		metricOdooCalls.WithLabelValues(method, "breaker_open").Inc()
		endOdooSpan(span, method, "breaker_open", err)
		return err
	}
	start := time.Now()
	err := f(ctx)
	metricOdooSeconds.WithLabelValues(method).Observe(time.Since(start).Seconds())
	abandoned := err != nil && ctx.Err() != nil
	g.br.Done(err, abandoned)
	outcome := "ok"
	switch {
	case abandoned:
		outcome = "cancelled"
	case err != nil:
		outcome = string(odoo.KindOf(err))
	}
	metricOdooCalls.WithLabelValues(method, outcome).Inc()
	endOdooSpan(span, method, outcome, err)
	return err
}

func endOdooSpan(span trace.Span, method, outcome string, err error) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("maria.outcome", outcome))
	if err != nil {
		span.SetAttributes(attribute.String("maria.odoo.fault_kind", outcome))
		err = fmt.Errorf("odoo %s: %s", method, outcome)
	}
	telemetry.EndSpan(span, err)
}

func (g *guarded) Version(ctx context.Context) (v map[string]any, err error) {
	err = g.do(ctx, "version", "", func(ctx context.Context) error { v, err = g.c.Version(ctx); return err })
	return v, err
}

func (g *guarded) Search(ctx context.Context, model string, domain []any, o odoo.SearchOptions) (ids []int64, err error) {
	err = g.do(ctx, "search", model, func(ctx context.Context) error { ids, err = g.c.Search(ctx, model, domain, o); return err })
	return ids, err
}

func (g *guarded) SearchRead(ctx context.Context, model string, domain []any, fields []string, o odoo.SearchOptions) (r []map[string]any, err error) {
	err = g.do(ctx, "search_read", model, func(ctx context.Context) error { r, err = g.c.SearchRead(ctx, model, domain, fields, o); return err })
	return r, err
}

func (g *guarded) Read(ctx context.Context, model string, ids []int64, fields []string) (r []map[string]any, err error) {
	err = g.do(ctx, "read", model, func(ctx context.Context) error { r, err = g.c.Read(ctx, model, ids, fields); return err })
	return r, err
}

func (g *guarded) SearchCount(ctx context.Context, model string, domain []any) (n int64, err error) {
	err = g.do(ctx, "search_count", model, func(ctx context.Context) error { n, err = g.c.SearchCount(ctx, model, domain); return err })
	return n, err
}

func (g *guarded) FieldsGet(ctx context.Context, model string, attributes []string) (f map[string]map[string]any, err error) {
	err = g.do(ctx, "fields_get", model, func(ctx context.Context) error { f, err = g.c.FieldsGet(ctx, model, attributes); return err })
	return f, err
}

func (g *guarded) NameSearch(ctx context.Context, model, name string, domain []any, limit int) (r []odoo.NameResult, err error) {
	err = g.do(ctx, "name_search", model, func(ctx context.Context) error { r, err = g.c.NameSearch(ctx, model, name, domain, limit); return err })
	return r, err
}

func (g *guarded) Create(ctx context.Context, model string, values map[string]any) (id int64, err error) {
	err = g.do(ctx, "create", model, func(ctx context.Context) error { id, err = g.c.Create(ctx, model, values); return err })
	return id, err
}

func (g *guarded) Write(ctx context.Context, model string, ids []int64, values map[string]any) error {
	return g.do(ctx, "write", model, func(ctx context.Context) error { return g.c.Write(ctx, model, ids, values) })
}

func (g *guarded) ReadGroup(ctx context.Context, model string, domain []any, groupby, aggregates []string, o odoo.GroupOptions) (r []map[string]any, err error) {
	err = g.do(ctx, "read_group", model, func(ctx context.Context) error {
		r, err = g.c.ReadGroup(ctx, model, domain, groupby, aggregates, o)
		return err
	})
	return r, err
}

func (g *guarded) CallMethod(ctx context.Context, model, method string, ids []int64) (v any, err error) {
	err = g.do(ctx, "call", model, func(ctx context.Context) error { v, err = g.c.CallMethod(ctx, model, method, ids); return err })
	return v, err
}

func (g *guarded) UID(ctx context.Context) (uid int64, err error) {
	err = g.do(ctx, "uid", "res.users", func(ctx context.Context) error { uid, err = g.c.UID(ctx); return err })
	return uid, err
}

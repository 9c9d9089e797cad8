package erp

import (
	"context"
	"time"

	"github.com/mariahq/maria/processors/erp/odoo"
)

// guarded wraps an Odoo client with the circuit breaker and metrics.
type guarded struct {
	c  odoo.Client
	br *Breaker
}

// Guard returns c behind the breaker, counting calls in
// maria_erp_odoo_calls_total and maria_erp_odoo_seconds.
func Guard(c odoo.Client, br *Breaker) odoo.Client { return &guarded{c: c, br: br} }

func (g *guarded) do(ctx context.Context, method string, f func() error) error {
	if err := g.br.Allow(); err != nil {
		metricOdooCalls.WithLabelValues(method, "breaker_open").Inc()
		return err
	}
	start := time.Now()
	err := f()
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
	return err
}

func (g *guarded) Version(ctx context.Context) (v map[string]any, err error) {
	err = g.do(ctx, "version", func() error { v, err = g.c.Version(ctx); return err })
	return v, err
}

func (g *guarded) Search(ctx context.Context, model string, domain []any, o odoo.SearchOptions) (ids []int64, err error) {
	err = g.do(ctx, "search", func() error { ids, err = g.c.Search(ctx, model, domain, o); return err })
	return ids, err
}

func (g *guarded) SearchRead(ctx context.Context, model string, domain []any, fields []string, o odoo.SearchOptions) (r []map[string]any, err error) {
	err = g.do(ctx, "search_read", func() error { r, err = g.c.SearchRead(ctx, model, domain, fields, o); return err })
	return r, err
}

func (g *guarded) Read(ctx context.Context, model string, ids []int64, fields []string) (r []map[string]any, err error) {
	err = g.do(ctx, "read", func() error { r, err = g.c.Read(ctx, model, ids, fields); return err })
	return r, err
}

func (g *guarded) SearchCount(ctx context.Context, model string, domain []any) (n int64, err error) {
	err = g.do(ctx, "search_count", func() error { n, err = g.c.SearchCount(ctx, model, domain); return err })
	return n, err
}

func (g *guarded) FieldsGet(ctx context.Context, model string, attributes []string) (f map[string]map[string]any, err error) {
	err = g.do(ctx, "fields_get", func() error { f, err = g.c.FieldsGet(ctx, model, attributes); return err })
	return f, err
}

func (g *guarded) NameSearch(ctx context.Context, model, name string, domain []any, limit int) (r []odoo.NameResult, err error) {
	err = g.do(ctx, "name_search", func() error { r, err = g.c.NameSearch(ctx, model, name, domain, limit); return err })
	return r, err
}

func (g *guarded) Create(ctx context.Context, model string, values map[string]any) (id int64, err error) {
	err = g.do(ctx, "create", func() error { id, err = g.c.Create(ctx, model, values); return err })
	return id, err
}

func (g *guarded) Write(ctx context.Context, model string, ids []int64, values map[string]any) error {
	return g.do(ctx, "write", func() error { return g.c.Write(ctx, model, ids, values) })
}

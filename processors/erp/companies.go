package erp

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mariahq/maria/processors/erp/odoo"
)

// company is one of the companies an Odoo user works in.
type company struct {
	ID   int64
	Name string
}

// companyCache keeps each Odoo user's companies (res.users company_ids)
// for SchemaTTL: they change as rarely as the schema.
type companyCache struct {
	mu    sync.Mutex
	items map[string]companyEntry
}

type companyEntry struct {
	list    []company
	expires time.Time
}

// companiesOf returns the companies who works in, read as who (so Odoo's
// rules decide). An unreachable Odoo is an error; any other failure (an
// Odoo without multi-company, a user who may not read res.company) gives
// none, and calls then go without a company context, as before.
func (s *Service) companiesOf(ctx context.Context, who runAs) ([]company, error) {
	key := who.cachePrefix()
	c := &s.companies
	c.mu.Lock()
	e, ok := c.items[key]
	c.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.list, nil
	}
	list, err := s.readCompanies(ctx, who.client)
	if err != nil {
		if odoo.IsRetryable(err) {
			return nil, err
		}
		s.log.Debug().Err(err).Str("login", who.login).Msg("cannot read the user's companies; calls go without a company context")
		list = nil
	}
	c.mu.Lock()
	if c.items == nil {
		c.items = map[string]companyEntry{}
	}
	c.items[key] = companyEntry{list: list, expires: time.Now().Add(s.cfg.SchemaTTL)}
	c.mu.Unlock()
	return list, nil
}

func (s *Service) readCompanies(ctx context.Context, c odoo.Client) ([]company, error) {
	uid, err := c.UID(ctx)
	if err != nil {
		return nil, err
	}
	users, err := c.Read(ctx, "res.users", []int64{uid}, []string{"company_ids"})
	if err != nil || len(users) != 1 {
		return nil, err
	}
	raw, _ := users[0]["company_ids"].([]any)
	ids := make([]int64, 0, len(raw))
	for _, v := range raw {
		if id, ok := odoo.Sanitize(v).(int64); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	recs, err := c.Read(ctx, "res.company", ids, []string{"name"})
	if err != nil {
		return nil, err
	}
	out := make([]company, 0, len(recs))
	for _, r := range recs {
		id, _ := odoo.Sanitize(r["id"]).(int64)
		name, _ := r["name"].(string)
		out = append(out, company{ID: id, Name: name})
	}
	return out, nil
}

// pickCompanies narrows the user's companies to the one a question names
// (by id or by name, case-insensitive, a unique part of it is enough);
// empty name: all of them.
func pickCompanies(all []company, name string) ([]company, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return all, nil
	}
	var names []string
	var hits []company
	for _, c := range all {
		names = append(names, c.Name)
		if strconv.FormatInt(c.ID, 10) == name || strings.EqualFold(c.Name, name) {
			return []company{c}, nil
		}
		if strings.Contains(strings.ToLower(c.Name), strings.ToLower(name)) {
			hits = append(hits, c)
		}
	}
	if len(hits) == 1 {
		return hits, nil
	}
	if len(all) == 0 {
		return nil, refused("this Odoo user works in no company Maria can name; ask without a company")
	}
	if len(hits) > 1 {
		return nil, refused("company %q matches several of yours (%s): name it fully", name, strings.Join(names, ", "))
	}
	return nil, refused("company %q is not one of the companies your Odoo user works in (%s)", name, strings.Join(names, ", "))
}

// companyContext puts the companies in the Odoo call context of ctx.
func companyContext(ctx context.Context, cs []company) context.Context {
	if len(cs) == 0 {
		return ctx
	}
	ids := make([]any, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return odoo.WithCallContext(ctx, map[string]any{"allowed_company_ids": ids})
}

// companyKey keys cached reads by the companies they were read in.
func companyKey(cs []company) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(strconv.FormatInt(c.ID, 10))
		b.WriteByte(',')
	}
	return "c:" + b.String() + "|"
}

func companyNames(cs []company) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

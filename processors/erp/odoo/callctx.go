package odoo

import "context"

type callContextKey struct{}

// WithCallContext returns ctx carrying Odoo's call context (the `context`
// argument of execute_kw / the JSON-2 body), e.g. allowed_company_ids:
// every call made with the returned ctx sends it, so the erp service sets
// a user's companies once per request rather than on each method.
func WithCallContext(ctx context.Context, oc map[string]any) context.Context {
	if len(oc) == 0 {
		return ctx
	}
	return context.WithValue(ctx, callContextKey{}, oc)
}

// CallContext returns the Odoo call context ctx carries (nil if none).
func CallContext(ctx context.Context) map[string]any {
	oc, _ := ctx.Value(callContextKey{}).(map[string]any)
	return oc
}

// withCallContext adds ctx's Odoo context to a call's keyword arguments
// (XML-RPC kwargs, JSON-2 body), without changing the caller's map.
func withCallContext(ctx context.Context, kw map[string]any) map[string]any {
	oc := CallContext(ctx)
	if oc == nil {
		return kw
	}
	out := make(map[string]any, len(kw)+1)
	for k, v := range kw {
		out[k] = v
	}
	out["context"] = Sanitize(oc)
	return out
}

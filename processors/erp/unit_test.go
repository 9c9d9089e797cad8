package erp

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/erp/odoo"
)

func TestAllowListSyntax(t *testing.T) {
	a, err := ParseAllowList(" res.partner: name, email ;\nsale.order:*;")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Model("res.partner") || a.Model("res.users") {
		t.Fatal("models wrong")
	}
	if !a.Field("res.partner", "email") || a.Field("res.partner", "vat") || !a.Field("res.partner", "id") {
		t.Fatal("fields wrong")
	}
	if !a.Field("sale.order", "anything") || !a.AllFields("sale.order") {
		t.Fatal("* should allow every field")
	}
	if got := a.String(); got != "res.partner:name,email;sale.order:*" {
		t.Fatalf("String() = %q", got)
	}
	j, err := ParseAllowList(`{"crm.lead": ["name", "expected_revenue"]}`)
	if err != nil || !j.Field("crm.lead", "expected_revenue") || j.Field("crm.lead", "probability") {
		t.Fatalf("json syntax: %v", err)
	}
	path := filepath.Join(t.TempDir(), "allow.json")
	if err := os.WriteFile(path, []byte(`{"project.task": ["*"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err := LoadAllowList(path); err != nil || !f.AllFields("project.task") {
		t.Fatalf("file: %v", err)
	}
	for _, bad := range []string{"", "res.partner", "res.partner:", "Res Partner:name", "res.partner:na-me", `{"x": 1}`} {
		if _, err := ParseAllowList(bad); err == nil {
			t.Errorf("%q should be rejected", bad)
		}
	}
	for _, def := range []string{DefaultReadAllow, DefaultWriteAllow} {
		if _, err := ParseAllowList(def); err != nil {
			t.Fatalf("default allow-list: %v", err)
		}
	}
}

func jsonDomain(t *testing.T, s string) []any {
	t.Helper()
	var d []any
	if err := decodeStrict([]byte(s), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDomainValidation(t *testing.T) {
	allow, _ := ParseAllowList("sale.order:name,state,partner_id,amount_total;res.partner:name;account.move:name,partner_id")
	rel := func(_ context.Context, model, field string) (string, error) {
		if field == "partner_id" {
			return "res.partner", nil
		}
		return "", nil
	}
	ok := []string{
		`[]`,
		`[["state", "=", "sale"]]`,
		`[["state", "in", ["sale", "sent"]], ["amount_total", ">", 1000.5]]`,
		`["|", ["state", "=", "sale"], ["state", "=", "draft"]]`,
		`["&", "!", ["name", "ilike", "S0004"], ["partner_id", "=", 10]]`,
		`[["partner_id.name", "ilike", "azure"]]`,
		`[["partner_id", "=", null]]`,
		`[["state", "NOT IN", []]]`,
	}
	for _, s := range ok {
		if _, err := validateDomain(context.Background(), allow, "sale.order", jsonDomain(t, s), rel); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := map[string]string{
		`[["secret", "=", 1]]`:             "not in Maria's allow-list",
		`["|", ["state", "=", "sale"]]`:    "needs two operands",
		`["!"]`:                            "needs one operand",
		`["&&", ["state", "=", "sale"]]`:   "not an operator",
		`[["state", "=="]]`:                "[field, operator, value]",
		`[["state", "child_of", 1]]`:       "not allowed",
		`[["state", "=", {"a": 1}]]`:       "an object",
		`[["state", "=", ["a"]]]`:          "needs operator 'in'",
		`[[1, "=", 1]]`:                    "must be a string",
		`[42]`:                             "want an operator or",
		`[["name.x", "=", 1]]`:             "not relational",
		`[["partner_id.email", "=", "x"]]`: "email of res.partner",
		`[["state", "=", "sale"], ["state", "=", 1], "|"]`: "needs two operands",
	}
	for s, want := range bad {
		_, err := validateDomain(context.Background(), allow, "sale.order", jsonDomain(t, s), rel)
		if !IsRefused(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want refusal containing %q, got %v", s, want, err)
		}
	}
	// Normalization: JSON numbers become ints when integral, null becomes false.
	d, err := validateDomain(context.Background(), allow, "sale.order", jsonDomain(t, `[["partner_id", "=", 10], ["amount_total", ">=", 1.5], ["name", "=", null]]`), rel)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(d)
	if strings.ReplaceAll(string(raw), `\u003e`, ">") != `[["partner_id","=",10],["amount_total",">=",1.5],["name","=",false]]` {
		t.Fatalf("normalized %s", raw)
	}
	if _, err := validateOrder(allow, "sale.order", "amount_total DESC, name"); err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{"secret", "name sideways", "name; drop table", "name asc desc"} {
		if _, err := validateOrder(allow, "sale.order", o); !IsRefused(err) {
			t.Errorf("order %q should be refused", o)
		}
	}
}

func TestCacheLRUTTLAndGenerations(t *testing.T) {
	now := time.Unix(0, 0)
	c := newCache(2, time.Minute)
	c.now = func() time.Time { return now }
	c.put("a", "m1", c.gen("m1"), 1)
	c.put("b", "m1", c.gen("m1"), 2)
	if _, ok := c.get("a"); !ok { // a is now most recent
		t.Fatal("miss a")
	}
	c.put("c", "m2", c.gen("m2"), 3) // evicts b
	if _, ok := c.get("b"); ok {
		t.Fatal("b should be evicted (LRU)")
	}
	now = now.Add(2 * time.Minute)
	if _, ok := c.get("a"); ok {
		t.Fatal("a should be expired")
	}
	c.put("a", "m1", c.gen("m1"), 1)
	c.put("c", "m2", c.gen("m2"), 3)
	g := c.gen("m1")
	if n := c.invalidate("m1"); n != 1 {
		t.Fatalf("invalidate dropped %d", n)
	}
	c.put("late", "m1", g, 9) // a read that started before the write
	if _, ok := c.get("late"); ok {
		t.Fatal("a read started before an invalidation must not be cached")
	}
	if _, ok := c.get("c"); !ok || c.len() != 1 {
		t.Fatal("other models must survive")
	}
}

func TestBreaker(t *testing.T) {
	now := time.Unix(0, 0)
	b := NewBreaker(3, 10*time.Second)
	b.now = func() time.Time { return now }
	down := &odoo.Error{Kind: odoo.KindUnavailable, Message: "cannot connect", Retry: true}
	userErr := &odoo.Error{Kind: odoo.KindValidation, Message: "no"}
	for i := 0; i < 2; i++ {
		if err := b.Allow(); err != nil {
			t.Fatal(err)
		}
		b.Done(down, false)
	}
	b.Done(userErr, false) // Odoo answered: resets the count
	for i := 0; i < 3; i++ {
		if err := b.Allow(); err != nil {
			t.Fatal(err)
		}
		b.Done(down, false)
	}
	if b.State() != BreakerOpen || b.Ready() == nil {
		t.Fatalf("want open, got %s", b.State())
	}
	err := b.Allow()
	if !errors.Is(err, odoo.ErrUnavailable) || !strings.Contains(err.Error(), "circuit open") || !strings.Contains(err.Error(), "cannot connect") {
		t.Fatalf("open breaker should fail fast with the reason, got %v", err)
	}
	now = now.Add(11 * time.Second)
	if err := b.Allow(); err != nil {
		t.Fatalf("half-open should allow a probe: %v", err)
	}
	if err := b.Allow(); err == nil {
		t.Fatal("only one probe at a time")
	}
	b.Done(down, false) // probe failed: open again
	if b.State() != BreakerOpen {
		t.Fatalf("want open after failed probe, got %s", b.State())
	}
	now = now.Add(11 * time.Second)
	if err := b.Allow(); err != nil {
		t.Fatal(err)
	}
	b.Done(nil, false)
	if b.State() != BreakerClosed || b.Ready() != nil {
		t.Fatalf("want closed after a good probe, got %s", b.State())
	}
	// An abandoned probe changes nothing but frees the probe slot.
	for i := 0; i < 3; i++ {
		_ = b.Allow()
		b.Done(down, false)
	}
	now = now.Add(11 * time.Second)
	_ = b.Allow()
	b.Done(context.Canceled, true)
	if err := b.Allow(); err != nil {
		t.Fatalf("abandoned probe should free the slot: %v", err)
	}
}

func TestReplyKinds(t *testing.T) {
	cases := map[string]error{
		"refused":     refused("x"),
		"unavailable": &odoo.Error{Kind: odoo.KindUnavailable},
		"access":      &odoo.Error{Kind: odoo.KindAccessDenied},
		"validation":  &odoo.Error{Kind: odoo.KindServer, Message: "ValueError: Invalid field 'x' on model 'y'"},
		"internal":    &odoo.Error{Kind: odoo.KindProtocol, Message: "garbage"},
	}
	for want, err := range cases {
		if got := replyKind(err); got != want {
			t.Errorf("replyKind(%v) = %s, want %s", err, got, want)
		}
	}
	if s := plainError(&odoo.Error{Kind: odoo.KindAccessDenied, Message: "x"}); strings.Contains(s, "x") || !strings.Contains(s, "ODOO_PASSWORD") {
		t.Errorf("access denied words: %s", s)
	}
}

// With the default cool-down, a short Odoo outage ends for Maria within a
// couple of seconds of Odoo's return: while open, queries fail at once with
// a retryable "unavailable" (the AI's patience decides the wait), and the
// probe that follows finds Odoo back.
func TestDefaultBreakerProbesWithinSeconds(t *testing.T) {
	cfg := LoadConfig(config.NewEnvFrom(map[string]string{"ODOO_URL": "http://odoo.test", "ODOO_DB": "d", "ODOO_USERNAME": "u", "ODOO_PASSWORD": "p"}))
	if cfg.BreakerCooldown != DefaultBreakerCooldown || DefaultBreakerCooldown > 2*time.Second {
		t.Fatalf("cool-down %s (default %s): a recovered Odoo would stay unused longer than 2s", cfg.BreakerCooldown, DefaultBreakerCooldown)
	}
	for _, cooldown := range []time.Duration{cfg.BreakerCooldown, 0} { // 0: NewBreaker's own default
		now := time.Unix(0, 0)
		b := NewBreaker(cfg.BreakerThreshold, cooldown)
		b.now = func() time.Time { return now }
		down := &odoo.Error{Kind: odoo.KindUnavailable, Message: "HTTP 502", Retry: true}
		for i := 0; i < cfg.BreakerThreshold; i++ {
			if err := b.Allow(); err != nil {
				t.Fatal(err)
			}
			b.Done(down, false)
		}
		now = now.Add(DefaultBreakerCooldown - time.Millisecond)
		if err := b.Allow(); !odoo.IsUnavailable(err) || !odoo.IsRetryable(err) {
			t.Fatalf("during the outage: %v, want a fast retryable unavailable", err)
		}
		now = now.Add(time.Millisecond) // Odoo is back
		if err := b.Allow(); err != nil {
			t.Fatalf("no probe %s after opening: %v", DefaultBreakerCooldown, err)
		}
		b.Done(nil, false)
		if b.State() != BreakerClosed {
			t.Fatalf("state %s after a good probe", b.State())
		}
	}
}

package erp

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/natsconn"
	"github.com/mariahq/maria/processors/erp/odoo"
)

// Config is the ERP service's configuration (see README.md, "## ERP").
type Config struct {
	Odoo odoo.Config
	// Protocol is ODOO_PROTOCOL: "auto" (default: version() decides,
	// JSON-2 from Odoo 19, XML-RPC before), "xmlrpc" (Odoo up to 21) or
	// "json2" (Odoo 19+).
	Protocol string
	// PublicURL is the base of record links shown to people (default ODOO_URL).
	PublicURL string
	// Read is the allow-list for queries, Write the one for commands.
	Read  *AllowList
	Write *AllowList
	// Actions are the business methods commands may call (MARIA_ERP_ACTIONS).
	Actions *ActionList
	// MaxLimit caps the records one query returns.
	MaxLimit int
	// CacheTTL and CacheSize bound the read cache (TTL 0 disables it).
	CacheTTL  time.Duration
	CacheSize int
	// SchemaTTL is how long fields_get answers (field types, relations) are kept.
	SchemaTTL time.Duration
	// BreakerThreshold consecutive availability failures open the breaker
	// for BreakerCooldown.
	BreakerThreshold int
	BreakerCooldown  time.Duration
	// QueryConcurrency bounds queries served at once by one replica.
	QueryConcurrency int
	// QueryTimeout bounds one query end to end.
	QueryTimeout time.Duration
	// IdempotencyTTL is how long executed commands are remembered;
	// ClaimStale how old an unfinished claim must be before another
	// delivery takes it over (and reconciles).
	IdempotencyTTL time.Duration
	ClaimStale     time.Duration
	// ReadOnly refuses every command without calling Odoo (queries still
	// work): `maria replay --to sandbox` sets MARIA_ERP_READ_ONLY=true.
	ReadOnly bool
	// IdentityPolicy is MARIA_ERP_IDENTITY_POLICY: what people who have not
	// connected their own Odoo user may do (service, read-only-service,
	// personal).
	IdentityPolicy string
}

// LoadConfig reads the configuration; problems are collected in env.
func LoadConfig(env *config.Env) Config {
	c := Config{
		Protocol:         env.OneOf("ODOO_PROTOCOL", odoo.ProtocolAuto, odoo.ProtocolAuto, odoo.ProtocolXMLRPC, odoo.ProtocolJSON2),
		MaxLimit:         env.Int("MARIA_ERP_MAX_LIMIT", 80, 1, 1000),
		CacheTTL:         30 * time.Second,
		CacheSize:        env.Int("MARIA_ERP_CACHE_SIZE", 2000, 0, 1_000_000),
		SchemaTTL:        env.Duration("MARIA_ERP_SCHEMA_TTL", 10*time.Minute),
		BreakerThreshold: env.Int("MARIA_ERP_BREAKER_THRESHOLD", 5, 1, 1000),
		BreakerCooldown:  env.Duration("MARIA_ERP_BREAKER_COOLDOWN", DefaultBreakerCooldown),
		QueryConcurrency: env.Int("MARIA_ERP_QUERY_CONCURRENCY", 16, 1, 1024),
		IdempotencyTTL:   env.Duration("MARIA_ERP_IDEMPOTENCY_TTL", 8*24*time.Hour),
		ClaimStale:       env.Duration("MARIA_ERP_CLAIM_STALE", 2*time.Minute),
		ReadOnly:         env.Bool("MARIA_ERP_READ_ONLY", false),
		IdentityPolicy:   env.OneOf("MARIA_ERP_IDENTITY_POLICY", PolicyService, PolicyService, PolicyReadOnlyService, PolicyPersonal),
	}
	// The cache TTL may be 0 (cache off), which config.Env.Duration refuses.
	if v := env.String("MARIA_ERP_CACHE_TTL", ""); v == "0" {
		c.CacheTTL = 0
	} else {
		c.CacheTTL = env.Duration("MARIA_ERP_CACHE_TTL", 30*time.Second)
	}
	c.Odoo = odoo.Config{
		URL:      strings.TrimRight(env.Required("ODOO_URL", "the erp service reads and writes Odoo there, e.g. https://mycompany.odoo.com; `maria demo` points it at the Odoo simulator"), "/"),
		DB:       env.String("ODOO_DB", ""),
		Username: env.String("ODOO_USERNAME", ""),
		Password: env.Required("ODOO_PASSWORD", "Odoo password or, better, an API key of Maria's Odoo user"),
		Timeout:  env.Duration("MARIA_ODOO_TIMEOUT", 30*time.Second),
	}
	if c.Protocol != odoo.ProtocolJSON2 {
		// auto may pick XML-RPC, which needs both.
		c.Odoo.DB = env.Required("ODOO_DB", "the Odoo database name, needed by XML-RPC (ODOO_PROTOCOL=auto or xmlrpc)")
		c.Odoo.Username = env.Required("ODOO_USERNAME", "the login of Maria's Odoo user, needed by XML-RPC (ODOO_PROTOCOL=auto or xmlrpc)")
	}
	if c.Odoo.URL != "" {
		if u, err := url.Parse(c.Odoo.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			env.Fail(fmt.Errorf("ODOO_URL=%q: want http(s)://host[:port]", natsconn.RedactURL(c.Odoo.URL)))
		} else if u.User != nil {
			env.Fail(fmt.Errorf("ODOO_URL must not carry credentials: use ODOO_USERNAME and ODOO_PASSWORD"))
			c.Odoo.URL = ""
		}
	}
	if c.ClaimStale < 3*c.Odoo.Timeout {
		env.Fail(fmt.Errorf("MARIA_ERP_CLAIM_STALE=%s must be at least 3×MARIA_ODOO_TIMEOUT (%s): a live write must not look abandoned", c.ClaimStale, 3*c.Odoo.Timeout))
	}
	c.PublicURL = strings.TrimRight(env.String("ODOO_PUBLIC_URL", c.Odoo.URL), "/")
	c.QueryTimeout = env.Duration("MARIA_ERP_QUERY_TIMEOUT", c.Odoo.Timeout+5*time.Second)

	c.Read = loadAllow(env, "MARIA_ERP_ALLOW", "MARIA_ERP_ALLOW_FILE", DefaultReadAllow)
	c.Write = loadAllow(env, "MARIA_ERP_WRITE_ALLOW", "MARIA_ERP_WRITE_ALLOW_FILE", DefaultWriteAllow)
	var err error
	if c.Actions, err = ParseActions(env.String("MARIA_ERP_ACTIONS", DefaultActions)); err != nil {
		env.Fail(fmt.Errorf("MARIA_ERP_ACTIONS: %w", err))
		c.Actions, _ = ParseActions(DefaultActions)
	}
	return c
}

func loadAllow(env *config.Env, inline, file, def string) *AllowList {
	s, f := env.String(inline, ""), env.String(file, "")
	var (
		a   *AllowList
		err error
	)
	switch {
	case s != "" && f != "":
		env.Fail(fmt.Errorf("set %s or %s, not both", inline, file))
		a, err = ParseAllowList(def)
	case f != "":
		a, err = LoadAllowList(f)
	case s != "":
		a, err = ParseAllowList(s)
	default:
		a, err = ParseAllowList(def)
	}
	if err != nil {
		env.Fail(fmt.Errorf("%s/%s: %w", inline, file, err))
		a, _ = ParseAllowList(def)
	}
	return a
}

// Validate reports whether the configuration is usable; LoadConfig has
// already recorded the reasons in the Env.
func (c Config) Validate() error {
	if c.Odoo.URL == "" || c.Odoo.Password == "" || c.Read == nil || c.Write == nil {
		return fmt.Errorf("erp: incomplete configuration")
	}
	if c.Protocol != odoo.ProtocolJSON2 && (c.Odoo.DB == "" || c.Odoo.Username == "") {
		return fmt.Errorf("erp: incomplete configuration")
	}
	return nil
}

// NewOdooClient builds the client for cfg.Protocol: an odoo.Auto, which
// asks the server's version before its first call and speaks JSON-2 or
// XML-RPC accordingly (or as ODOO_PROTOCOL forces).
func NewOdooClient(cfg Config) (odoo.Client, error) {
	return odoo.NewAuto(cfg.Odoo, cfg.Protocol)
}

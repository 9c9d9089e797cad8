// Package ai is Maria's AI processor: it answers questions addressed to
// Maria in Slack with an OpenAI-compatible chat model that reaches the Odoo
// ERP only through tools. Reads go to the ERP query service
// (maria.erp.query); writes only become proposals that the asking user must
// confirm with a click, after which a command goes to maria.erp.command.<model>.
//
// The processor keeps per-thread memory and daily token budgets in
// JetStream KV buckets, streams answers to egress (out.stream.*), and
// publishes a short, honest apology instead of looping when the AI service
// cannot be reached.
package ai

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/settings"
)

// DefaultModel is used when OPENAI_MODEL is unset.
const DefaultModel = "gpt-4o-mini"

// Config is the AI processor's configuration (see README.md, section AI).
type Config struct {
	// APIKey authenticates to the OpenAI-compatible API; may be empty for
	// local servers (OPENAI_BASE_URL set).
	APIKey string
	// BaseURL of the API, e.g. http://127.0.0.1:8080/v1; empty → OpenAI's.
	BaseURL string
	Model   string
	// Timeout bounds every API call attempt.
	Timeout time.Duration
	// MaxToolRounds bounds model ↔ tool round trips per turn.
	MaxToolRounds int
	// MaxRetries bounds retries of one API call on 429 rate limits and 5xx.
	MaxRetries int
	// MaxRetryWait caps a single wait, whatever Retry-After says.
	MaxRetryWait time.Duration
	// ERPTimeout bounds one request to the ERP query service.
	ERPTimeout time.Duration
	// DependencyPatience is how long a turn, counted from when the
	// question arrived, waits out transient failures of the model and the
	// ERP (retrying with backoff) before answering that they failed; 0
	// answers at the first failure.
	DependencyPatience time.Duration
	// MemoryTokens bounds the thread memory fed back to the model.
	MemoryTokens int
	// UserDailyTokens and TeamDailyTokens are daily budgets; 0 = unlimited.
	UserDailyTokens int
	TeamDailyTokens int
	// MaxAnswerTokens bounds one completion (max_completion_tokens); 0 = server default.
	MaxAnswerTokens int
	// StreamFlushChars and StreamFlushInterval batch streamed text.
	StreamFlushChars    int
	StreamFlushInterval time.Duration
	// StatusDelay is how long a thread status must stay current before it
	// is published (0: at once): quick turns then publish none.
	StatusDelay time.Duration
	// Concurrency is how many threads one replica answers at once.
	Concurrency int
	// ProposalTTL is how long a proposal can be confirmed.
	ProposalTTL time.Duration
	// ERP is who may use the ERP tools, and in which conversations; the
	// zero value allows nobody anywhere.
	ERP ERPPolicy
	// LinkHosts are hosts links in answers may point to besides Slack's
	// and Odoo's (MARIA_LINK_ALLOWED_HOSTS; ODOO_URL and ODOO_PUBLIC_URL
	// hosts are added, see linkHosts).
	LinkHosts []string
	// Settings is where per-workspace settings live and their defaults
	// (MARIA_STORAGE, MARIA_ASSISTANT_TITLE, MARIA_SUGGESTED_PROMPTS, …).
	Settings settings.Config
	// Files is how shared files reach the model (files_config.go).
	Files FileConfig
}

// LoadConfig reads the AI configuration from env; problems are recorded in
// env (env.Err reports them all together).
func LoadConfig(env *config.Env) Config {
	c := Config{
		APIKey:              env.String("OPENAI_API_KEY", ""),
		BaseURL:             env.String("OPENAI_BASE_URL", ""),
		Model:               env.String("OPENAI_MODEL", DefaultModel),
		Timeout:             env.Duration("MARIA_AI_TIMEOUT", 60*time.Second),
		MaxToolRounds:       env.Int("MARIA_AI_MAX_TOOL_ROUNDS", 5, 1, 20),
		MaxRetries:          env.Int("MARIA_AI_MAX_RETRIES", 3, 0, 10),
		MaxRetryWait:        env.Duration("MARIA_AI_MAX_RETRY_WAIT", 20*time.Second),
		ERPTimeout:          env.Duration("MARIA_AI_ERP_TIMEOUT", 15*time.Second),
		MemoryTokens:        env.Int("MARIA_AI_MEMORY_TOKENS", 3000, 200, 1_000_000),
		UserDailyTokens:     env.Int("MARIA_AI_USER_DAILY_TOKENS", 200_000, 0, 1<<31-1),
		TeamDailyTokens:     env.Int("MARIA_AI_TEAM_DAILY_TOKENS", 2_000_000, 0, 1<<31-1),
		MaxAnswerTokens:     env.Int("MARIA_AI_MAX_ANSWER_TOKENS", 1500, 0, 1_000_000),
		StreamFlushChars:    env.Int("MARIA_AI_STREAM_FLUSH_CHARS", 200, 1, 1<<20),
		StreamFlushInterval: env.Duration("MARIA_AI_STREAM_FLUSH_INTERVAL", 300*time.Millisecond),
		StatusDelay:         statusDelay(env),
		Concurrency:         env.Int("MARIA_AI_CONCURRENCY", 8, 1, 256),
		ProposalTTL:         env.Duration("MARIA_AI_PROPOSAL_TTL", 7*24*time.Hour),
	}
	c.DependencyPatience = loadPatience(env)
	c.ERP = loadERPPolicy(env)
	c.LinkHosts = loadLinkHosts(env)
	c.Settings = settings.LoadConfig(env)
	c.Files = loadFileConfig(env)
	if c.APIKey == "" && c.BaseURL == "" {
		env.Fail(errors.New("ai: set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (an OpenAI-compatible server such as a local model or the simulator)"))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			env.Fail(errors.New("ai: OPENAI_BASE_URL must be an http(s) URL such as http://127.0.0.1:8080/v1"))
		}
	}
	return c
}

// DefaultDependencyPatience covers a dependency's restart or failover (the
// chaos suite's 10-s outages) with room for the retries' backoff, and is
// still a wait a person accepts with a status line saying why.
const DefaultDependencyPatience = 45 * time.Second

// maxDependencyPatience bounds the wait: past it a person has given up.
const maxDependencyPatience = 10 * time.Minute

// loadPatience reads MARIA_AI_DEPENDENCY_PATIENCE: a duration up to
// maxDependencyPatience, or 0 (never wait).
func loadPatience(env *config.Env) time.Duration {
	const name = "MARIA_AI_DEPENDENCY_PATIENCE"
	if v := strings.TrimSpace(env.String(name, "")); v == "0" || v == "0s" {
		return 0
	}
	d := env.Duration(name, DefaultDependencyPatience)
	if d > maxDependencyPatience {
		env.Fail(fmt.Errorf("%s=%s: at most %s (a person does not wait longer for an answer)", name, d, maxDependencyPatience))
		return DefaultDependencyPatience
	}
	return d
}

// loadERPPolicy reads who may use the ERP and where; every invalid entry is
// reported, and a write channel must also allow reads.
func loadERPPolicy(env *config.Env) ERPPolicy {
	p := ERPPolicy{
		AllowGuests:   env.Bool("MARIA_ERP_ALLOW_GUESTS", false),
		AllowExternal: env.Bool("MARIA_ERP_ALLOW_EXTERNAL", false),
	}
	var errs []error
	p.Read, errs = ParseChannelList("MARIA_ERP_READ_CHANNELS", env.String("MARIA_ERP_READ_CHANNELS", DefaultERPChannels))
	for _, err := range errs {
		env.Fail(err)
	}
	p.Write, errs = ParseChannelList("MARIA_ERP_WRITE_CHANNELS", env.String("MARIA_ERP_WRITE_CHANNELS", DefaultERPChannels))
	for _, err := range errs {
		env.Fail(err)
	}
	// An explicit write list must stay within reads (at run time a write
	// needs read access anyway); the default "dm" just follows reads.
	if missing := p.Read.covers(p.Write); len(missing) > 0 && env.String("MARIA_ERP_WRITE_CHANNELS", "") != "" {
		env.Fail(fmt.Errorf("MARIA_ERP_WRITE_CHANNELS: %s not in MARIA_ERP_READ_CHANNELS (writes require reads: add them there too)",
			strings.Join(missing, ", ")))
	}
	return p
}

// loadLinkHosts reads MARIA_LINK_ALLOWED_HOSTS (host names, "*.domain"
// for subdomains) and adds the Odoo hosts record links point to.
func loadLinkHosts(env *config.Env) []string {
	var hosts []string
	for _, h := range strings.Split(env.String("MARIA_LINK_ALLOWED_HOSTS", ""), ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case h == "":
		case strings.Contains(h, "/") || strings.Contains(h, ":") || strings.Contains(h[min(len(h), 2):], "*"):
			env.Fail(fmt.Errorf("MARIA_LINK_ALLOWED_HOSTS: %q is not a host name (write odoo.example.com or *.example.com, no scheme or port)", h))
		default:
			hosts = append(hosts, h)
		}
	}
	for _, v := range []string{"ODOO_URL", "ODOO_PUBLIC_URL"} {
		if u, err := url.Parse(env.String(v, "")); err == nil && u.Hostname() != "" {
			hosts = append(hosts, strings.ToLower(u.Hostname()))
		}
	}
	return hosts
}

// statusDelay is MARIA_AI_STATUS_DELAY: a positive duration, or 0 to
// publish every thread status at once.
func statusDelay(env *config.Env) time.Duration {
	if env.String("MARIA_AI_STATUS_DELAY", "") == "0" {
		return 0
	}
	return env.Duration("MARIA_AI_STATUS_DELAY", 300*time.Millisecond)
}

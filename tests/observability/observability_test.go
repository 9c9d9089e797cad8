// Package observability checks Maria's metrics contract (README "## Metrics"),
// health endpoints, the Grafana dashboard and the Prometheus alert rules.
package observability

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/cmd/maria/app"
	"github.com/mariahq/maria/schemas"
	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"
)

func repoFile(parts ...string) string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(here), "..", ".."}, parts...)...)
}

// documented is one row of README's metrics table.
type documented struct {
	Name, Type, Labels, Service string
}

var rowRE = regexp.MustCompile("^\\| `(maria_[a-z0-9_]+)` \\| ([a-z]+) \\| ([^|]*) \\| ([^|]*) \\|")

// readmeMetrics parses the table of README's "## Metrics" section.
func readmeMetrics(t *testing.T) map[string]documented {
	t.Helper()
	f, err := os.Open(repoFile("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]documented{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Metrics"
			continue
		}
		if !in {
			continue
		}
		if m := rowRE.FindStringSubmatch(line); m != nil {
			if _, dup := out[m[1]]; dup {
				t.Errorf("README lists %s twice", m[1])
			}
			out[m[1]] = documented{Name: m[1], Type: m[2], Labels: strings.TrimSpace(m[3]), Service: strings.TrimSpace(m[4])}
		}
	}
	if len(out) < 8 {
		t.Fatalf("README's ## Metrics table has %d rows; expected the runtime's metrics at least", len(out))
	}
	return out
}

// registered reports whether the process registered a metric named name
// with the default registry (promauto): registering a probe descriptor
// under the same name then fails.
func registered(name string) bool {
	probe := probeCollector{prometheus.NewDesc(name, "registration probe", nil, nil)}
	if err := prometheus.DefaultRegisterer.Register(probe); err != nil {
		return true
	}
	prometheus.DefaultRegisterer.Unregister(probe)
	return false
}

type probeCollector struct{ d *prometheus.Desc }

func (p probeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- p.d }
func (p probeCollector) Collect(chan<- prometheus.Metric)    {}

// upstreams answers Slack, OpenAI and Odoo calls with failures (auth.test
// succeeds so services verifying the token at start run, and Odoo's
// version and login succeed so erp's readiness, which waits for them, turns
// green).
func upstreams(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/xmlrpc/2/common":
			// Odoo answers and accepts the login (erp turns ready only
			// then); every model call below is refused.
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/xml")
			if strings.Contains(string(body), "<methodName>version</methodName>") {
				_, _ = w.Write([]byte(`<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>server_version</name><value><string>17.0</string></value></member><member><name>server_version_info</name><value><array><data><value><int>17</int></value><value><int>0</int></value></data></array></value></member></struct></value></param></params></methodResponse>`))
				return
			}
			_, _ = w.Write([]byte(`<?xml version="1.0"?><methodResponse><params><param><value><int>2</int></value></param></params></methodResponse>`))
		case strings.HasPrefix(r.URL.Path, "/xmlrpc"):
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte(`<?xml version="1.0"?><methodResponse><fault><value><struct><member><name>faultCode</name><value><int>3</int></value></member><member><name>faultString</name><value><string>Access Denied</string></value></member></struct></value></fault></methodResponse>`))
		case strings.Contains(r.URL.Path, "chat/completions"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`))
		case strings.HasSuffix(r.URL.Path, "/auth.test"):
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"ok":true,"team_id":"T1","user_id":"UMARIA","bot_id":"B1"}`))
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func offlineEnv(t *testing.T, upstream string) map[string]string {
	return map[string]string{
		"MARIA_HTTP_ADDR":      "127.0.0.1:0",
		"MARIA_DATA_DIR":       t.TempDir(),
		"MARIA_NATS_LISTEN":    "-",
		"SLACK_BOT_TOKEN":      "xoxb-test-token",
		"SLACK_SIGNING_SECRET": "test-signing-secret",
		"SLACK_API_URL":        upstream + "/api/",
		"OPENAI_API_KEY":       "sk-test",
		"OPENAI_BASE_URL":      upstream + "/v1",
		"OPENAI_MODEL":         "gpt-test",
		"ODOO_URL":             upstream,
		"ODOO_DB":              "maria",
		"ODOO_USERNAME":        "admin",
		"ODOO_PASSWORD":        "test",
		"MARIA_AI_MAX_RETRIES": "0",
	}
}

// startable lists the registered services that start with env: every one
// whose configuration can be satisfied offline. The list grows as services
// land; the rest is logged.
func startable(t *testing.T, env map[string]string) []string {
	t.Helper()
	ok, skipped := app.Probe(context.Background(), app.Services(), env, t.TempDir, io.Discard)
	for name, err := range skipped {
		t.Logf("service %s does not start offline: %v", name, err)
	}
	return ok
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scrapeNames returns the maria_* metric families present in a scrape.
func scrapeNames(body string) map[string]bool {
	names := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "# TYPE maria_") {
			names[strings.Fields(line)[2]] = true
		}
	}
	return names
}

// TestMetricsHealthAndReadiness starts Maria with every service that can
// start offline, drives messages through the runtime, scrapes /metrics, and
// checks the README contract; then stops NATS and expects /readyz to fail.
func TestMetricsHealthAndReadiness(t *testing.T) {
	docs := readmeMetrics(t)
	up := upstreams(t)
	env := offlineEnv(t, up.URL)
	services := startable(t, env)
	if len(services) == 0 {
		t.Fatal("no registered service starts offline")
	}
	t.Logf("started: %v of %v", services, app.Services())
	started := map[string]bool{"all (runtime)": true}
	for _, s := range services {
		started[s] = true
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	r, err := app.Start(ctx, app.Options{Services: services, Env: config.NewEnvFrom(env), LogOutput: io.Discard, HTTPReady: addrc})
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + <-addrc

	if code, body := get(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d %s", code, body)
	}
	bustest.Eventually(t, 10*time.Second, func() bool { code, _ := get(t, base+"/readyz"); return code == http.StatusOK }, "/readyz ready")

	// Traffic: a message every processor on maria.in.message sees, and an
	// invalid body (dead-lettered as invalid).
	pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
	defer pcancel()
	ev, _ := schemas.New("Ev-metrics-1", schemas.TypeSlackMessage, "ingress", schemas.SlackMessage{TS: "1700000000.000100", Text: "thanks Maria!"})
	ev.Team, ev.Channel, ev.User = "T1", "C1", "U1"
	if _, err := r.Bus.Publish(pctx, schemas.InSubject(schemas.KindMessage, "T1", "C1"), ev); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Bus.Conn().Request(schemas.InSubject(schemas.KindMessage, "T1", "C1"), []byte("{not an envelope"), 5*time.Second); err != nil {
		t.Fatal(err)
	}

	want := []string{"maria_bus_published_total", "maria_processor_messages_total", "maria_processor_handler_seconds",
		"maria_processor_in_flight", "maria_consumer_pending", "maria_consumer_ack_pending", "maria_dead_letters_total"}
	var body string
	bustest.Eventually(t, 20*time.Second, func() bool {
		_, body = get(t, base+"/metrics")
		names := scrapeNames(body)
		for _, w := range want {
			if !names[w] {
				return false
			}
		}
		return true
	}, "runtime metrics in the scrape")
	names := scrapeNames(body)

	// 1. Everything the process exposes is documented.
	var undocumented []string
	for n := range names {
		if _, ok := docs[n]; !ok {
			undocumented = append(undocumented, n)
		}
	}
	sort.Strings(undocumented)
	if len(undocumented) > 0 {
		t.Errorf("exposed but missing from README ## Metrics: %v", undocumented)
	}
	// 2. Everything documented exists in the binary; unlabelled metrics of
	// started services are in the scrape (labelled ones appear once observed).
	for _, d := range docs {
		if !registered(d.Name) && !names[d.Name] {
			t.Errorf("README documents %s (%s) but the binary does not register it", d.Name, d.Service)
			continue
		}
		if started[d.Service] && (d.Labels == "—" || d.Labels == "") && !names[d.Name] {
			t.Errorf("%s of started service %s is missing from /metrics", d.Name, d.Service)
		}
		if names[d.Name] && !strings.Contains(body, "# TYPE "+d.Name+" "+d.Type) {
			t.Errorf("%s: README says %s; the scrape disagrees", d.Name, d.Type)
		}
	}
	// 3. The runtime's labels never carry team or channel ids.
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "maria_") && (strings.Contains(line, "T1") || strings.Contains(line, "C1")) {
			t.Errorf("high-cardinality label value in %q", line)
		}
	}

	// Readiness follows NATS: stop the embedded server.
	if !r.Bus.Embedded() {
		t.Fatal("expected the embedded server")
	}
	t0 := time.Now()
	r.Bus.StopEmbeddedServer()
	bustest.Eventually(t, 15*time.Second, func() bool {
		code, _ := get(t, base+"/readyz")
		return code == http.StatusServiceUnavailable
	}, "/readyz turns 503 when NATS is gone")
	if code, body := get(t, base+"/readyz"); !strings.Contains(body, `"nats"`) {
		t.Errorf("/readyz %d does not name the failing check: %s", code, body)
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while NATS is down; the process is alive", code)
	}
	cancel()
	done := make(chan struct{})
	go func() { _ = r.Wait(); close(done) }()
	select {
	case <-done:
		t.Logf("stopped %s after NATS shutdown", time.Since(t0))
	case <-time.After(60 * time.Second):
		t.Error("Maria did not stop within 60s after NATS went away")
	}
}

var metricRefRE = regexp.MustCompile(`\bmaria_[a-z0-9_]+\b`)

// metricRefs returns the maria_* metric families an expression uses.
func metricRefs(expr string) []string {
	var out []string
	for _, m := range metricRefRE.FindAllString(expr, -1) {
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			m = strings.TrimSuffix(m, suf)
		}
		out = append(out, m)
	}
	return out
}

func TestDashboardUsesDocumentedMetrics(t *testing.T) {
	docs := readmeMetrics(t)
	raw, err := os.ReadFile(repoFile("infra", "grafana", "maria-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			Title   string                    `json:"title"`
			Type    string                    `json:"type"`
			GridPos *struct{ H, W, X, Y int } `json:"gridPos"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard is not valid JSON: %v", err)
	}
	if dash.Title == "" || dash.UID == "" {
		t.Fatal("dashboard needs a title and a uid")
	}
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if p.GridPos == nil {
			t.Errorf("panel %q has no gridPos", p.Title)
		}
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			refs := metricRefs(tg.Expr)
			if len(refs) == 0 && !strings.Contains(tg.Expr, "up{") {
				t.Errorf("panel %q: query %q uses no Maria metric", p.Title, tg.Expr)
			}
			for _, m := range refs {
				used[m] = true
				if _, ok := docs[m]; !ok {
					t.Errorf("panel %q uses %s, which README ## Metrics does not list", p.Title, m)
				}
			}
		}
	}
	// The views the issue asks for.
	for _, m := range []string{"maria_processor_messages_total", "maria_processor_handler_seconds", "maria_consumer_pending",
		"maria_dead_letters_total", "maria_egress_rate_limited_total", "maria_ai_tokens_total", "maria_erp_odoo_calls_total",
		"maria_erp_breaker_state"} {
		if !used[m] {
			t.Errorf("dashboard has no panel on %s", m)
		}
	}
}

func TestAlertsUseDocumentedMetricsAndHaveRunbooks(t *testing.T) {
	docs := readmeMetrics(t)
	raw, err := os.ReadFile(repoFile("infra", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	runbook, err := os.ReadFile(repoFile("infra", "runbooks", "observability.md"))
	if err != nil {
		t.Fatal(err)
	}
	alerts := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" {
				t.Errorf("group %s: rule without alert name or expr", g.Name)
				continue
			}
			if alerts[r.Alert] {
				t.Errorf("alert %s defined twice", r.Alert)
			}
			alerts[r.Alert] = true
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q", r.Alert, s)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs summary and description", r.Alert)
			}
			want := "infra/runbooks/observability.md#" + strings.ToLower(r.Alert)
			if r.Annotations["runbook_url"] != want {
				t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
			}
			if !strings.Contains(string(runbook), "### "+r.Alert+"\n") {
				t.Errorf("%s: no '### %s' section in the runbook", r.Alert, r.Alert)
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") {
				t.Errorf("%s: unbalanced parentheses in %q", r.Alert, r.Expr)
			}
			for _, m := range metricRefs(r.Expr) {
				if _, ok := docs[m]; !ok {
					t.Errorf("%s uses %s, which README ## Metrics does not list", r.Alert, m)
				}
			}
		}
	}
	for _, a := range []string{"MariaDeadLettersGrowing", "MariaConsumerLag", "MariaProcessorErrorRate", "MariaSlackRateLimited",
		"MariaOdooBreakerOpen", "MariaNotReady"} {
		if !alerts[a] {
			t.Errorf("missing alert %s", a)
		}
	}
}

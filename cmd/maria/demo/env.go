// Package demo runs Maria end to end on one machine: an embedded JetStream,
// every service wired exactly as `maria run` wires them (app.Start), and
// simulators standing in for Slack (Web API and file hosting), OpenAI and
// Odoo, all on loopback listeners. Slack's side of the conversation is
// delivered to the real HTTP ingress as signed Events API requests, slash
// commands and button clicks.
//
// `maria demo` runs the scripted conversation (Script) and then an
// interactive prompt (Chat); `maria chat` runs only the prompt; the
// end-to-end suite (tests/e2e) builds the same environment with Start, so
// the demo and the suite share their wiring.
//
// With OPENAI_API_KEY or OPENAI_BASE_URL in the environment the real model
// answers instead of the OpenAI simulator; with ODOO_URL the real Odoo is
// used instead of the Odoo simulator. Slack is always simulated here: with
// real Slack credentials, use `maria run`.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/natsconn"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/cmd/maria/app"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/tests/sim/odoosim"
	"github.com/mariahq/maria/tests/sim/openaisim"
	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/mariahq/maria/tests/sim/slacksim"
	"github.com/nats-io/nats-server/v2/server"
)

// Identity of the simulated workspace, as the Slack simulator reports it
// (auth.test) and as the signed events name it.
const (
	Team      = slacksim.TeamID
	BotUserID = slacksim.BotUserID
	AppID     = "A0MARIA"
)

// Options configure Start.
type Options struct {
	// DataDir holds the embedded JetStream store; empty → a temporary
	// directory removed by Close.
	DataDir string
	// Environ is the surrounding environment (os.Environ as a map): it
	// selects the real model (OPENAI_API_KEY / OPENAI_BASE_URL) or Odoo
	// (ODOO_URL) and carries MARIA_* tuning. Nil: nothing real, defaults.
	Environ map[string]string
	// Overrides are applied last to the services' configuration (tests:
	// short timeouts).
	Overrides map[string]string
	// NATSListen is where the embedded server accepts other processes
	// (operator commands such as `maria trace`); empty or "-" → loopback
	// random port.
	NATSListen string
	// HTTPAddr is ingress' listener (Slack endpoints, /metrics); empty →
	// a random loopback port.
	HTTPAddr string
	// LogOutput receives the services' JSON logs (default discarded).
	LogOutput io.Writer
	// Services to run (default: every registered service).
	Services []string
	// Split runs every service as its own app.Start instance sharing the
	// one embedded server, so one of them can be stopped and restarted
	// (StopService, StartService) like a separate process.
	Split bool
	// OpenAI replaces the default simulator (scripted tests); ignored when
	// the real model is configured.
	OpenAI *openaisim.Sim
	// Slack, when set, is the Slack simulator to use instead of a new one
	// (its token is the bot token); the caller closes it. A test restarting
	// Maria on restored state keeps Slack's side, as real Slack outlives
	// Maria.
	Slack *slacksim.Sim
	// SettleTimeout bounds the wait for one turn (default 30 s with the
	// simulators, 2 min with a real model).
	SettleTimeout time.Duration
	// MultiWorkspace runs Maria as an app workspaces install through OAuth
	// (no SLACK_BOT_TOKEN): no workspace, the demo's own included, is
	// served before InstallWorkspace installed it (workspaces.go).
	MultiWorkspace bool
}

// Env is a running demo environment.
type Env struct {
	// Slack is the Slack Web API simulator: messages, threads, files, Transcript().
	Slack *slacksim.Sim
	// OpenAI is the model simulator; nil when the real model answers.
	OpenAI *openaisim.Sim
	// Odoo is the Odoo simulator; nil when the real Odoo is used.
	Odoo *odoosim.Server
	// Events delivers signed Slack requests to ingress.
	Events *slackevents.Client
	// Server is the embedded nats-server every service connects to.
	Server *server.Server
	// Observer is a bus connection of the demo's own: it watches every
	// maria.* message (Watch) and reads the streams (traces, waits).
	Observer *bus.Bus
	Watch    *Watcher
	// HTTPAddr is ingress' bound address (host:port).
	HTTPAddr string
	// Vars is the configuration every service got (secrets included: do
	// not print it).
	Vars map[string]string
	// DataDir is the JetStream store directory.
	DataDir string
	// RealAI and RealOdoo say whether the real services are used.
	RealAI, RealOdoo bool
	// SettleTimeout bounds the wait for one turn.
	SettleTimeout time.Duration

	opts      Options
	tempDir   bool
	openaiSrv *http.Server
	mu        sync.Mutex
	instances map[string]*instance // by service name ("" = all in one)
	closers   []func()
}

type instance struct {
	services []string
	cancel   context.CancelFunc
	run      *app.Running
	addr     string
}

// Start builds the environment: simulators, embedded server, services.
// Close it when done, whatever happens.
func Start(ctx context.Context, o Options) (_ *Env, err error) {
	e := &Env{opts: o, instances: map[string]*instance{}}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	environ := o.Environ
	if environ == nil {
		environ = map[string]string{}
	}
	if err := e.startStore(o.DataDir, o.NATSListen); err != nil {
		return nil, err
	}
	// Slack: the Web API simulator with a generated bot token, and signed
	// deliveries with a generated signing secret.
	botToken := "xoxb-demo-" + randomHex(24)
	signingSecret := randomHex(32)
	if o.Slack != nil {
		e.Slack, botToken = o.Slack, o.Slack.Token()
	} else {
		e.Slack = slacksim.New(botToken)
		e.closers = append(e.closers, e.Slack.Close)
	}
	vars := passedThrough(environ)
	if err := e.startModelAndERP(environ, vars, o.OpenAI); err != nil {
		return nil, err
	}
	e.ownVars(vars, botToken, signingSecret)
	if o.MultiWorkspace {
		if err := e.enableOAuth(vars, &o); err != nil {
			return nil, err
		}
		e.opts = o
	}
	for k, v := range o.Overrides {
		vars[k] = v
	}
	e.Vars = vars
	e.publishConfig()
	e.SettleTimeout = o.SettleTimeout
	if e.SettleTimeout <= 0 {
		e.SettleTimeout = 30 * time.Second
		if e.RealAI {
			e.SettleTimeout = 2 * time.Minute
		}
	}
	if err := e.startObserver(ctx, o.LogOutput); err != nil {
		return nil, err
	}
	if err := e.startServices(ctx, o); err != nil {
		return nil, err
	}
	e.Events = &slackevents.Client{BaseURL: "http://" + e.HTTPAddr, SigningSecret: signingSecret,
		Team: Team, BotUserID: BotUserID, AppID: AppID}
	if err := e.waitReady(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// startStore starts the embedded server on dataDir (default: a temporary
// directory), listening on listen (default: a random loopback port).
func (e *Env) startStore(dataDir, listen string) error {
	e.DataDir = dataDir
	if e.DataDir == "" {
		dir, err := os.MkdirTemp("", "maria-demo-")
		if err != nil {
			return fmt.Errorf("demo data dir: %w", err)
		}
		e.DataDir, e.tempDir = dir, true
	}
	if listen == "" || listen == "-" {
		listen = "127.0.0.1:0"
	}
	var err error
	e.Server, err = natsconn.StartEmbedded(e.DataDir, listen)
	return err
}

// passedThrough is the part of the operator's environment the demo's
// services get: Maria's tuning and the real services they may name.
func passedThrough(environ map[string]string) map[string]string {
	vars := map[string]string{}
	for k, v := range environ {
		if strings.HasPrefix(k, "MARIA_") || strings.HasPrefix(k, "OPENAI_") || strings.HasPrefix(k, "ODOO_") ||
			strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "OTEL_") {
			vars[k] = v
		}
	}
	return vars
}

// startModelAndERP uses the real model and Odoo when environ configures
// them, else starts their simulators and points vars at them.
func (e *Env) startModelAndERP(environ, vars map[string]string, sim *openaisim.Sim) error {
	e.RealAI = environ["OPENAI_API_KEY"] != "" || environ["OPENAI_BASE_URL"] != ""
	if !e.RealAI {
		e.OpenAI = sim
		if e.OpenAI == nil {
			e.OpenAI = openaisim.New(openaisim.Rules())
		}
		e.OpenAI.APIKey = "sk-demo-" + randomHex(20)
		srv, url, err := e.OpenAI.Listen("127.0.0.1:0")
		if err != nil {
			return err
		}
		e.openaiSrv = srv
		vars["OPENAI_BASE_URL"], vars["OPENAI_API_KEY"] = url, e.OpenAI.APIKey
		delete(vars, "OPENAI_MODEL")
	}
	e.RealOdoo = environ["ODOO_URL"] != ""
	if !e.RealOdoo {
		e.Odoo = odoosim.Start()
		e.closers = append(e.closers, e.Odoo.Close)
		for k := range vars {
			if strings.HasPrefix(k, "ODOO_") {
				delete(vars, k)
			}
		}
		vars["ODOO_URL"], vars["ODOO_DB"], vars["ODOO_USERNAME"], vars["ODOO_PASSWORD"] = e.Odoo.URL, e.Odoo.DB, e.Odoo.User, e.Odoo.Password
	}
	return nil
}

// ownVars sets what is the demo's own: the bus, Slack, the listeners, and
// who may use it (the simulated workspace is not in a production allow-list
// of teams, enterprises or apps).
func (e *Env) ownVars(vars map[string]string, botToken, signingSecret string) {
	for _, k := range []string{"MARIA_EGRESS_DRY_RUN", "MARIA_ERP_READ_ONLY", "MARIA_HTTP_ADDR", "MARIA_DATA_DIR", "MARIA_NATS_LISTEN",
		"MARIA_ALLOWED_TEAMS", "MARIA_ALLOWED_ENTERPRISES", "MARIA_ALLOWED_APP_IDS"} {
		delete(vars, k)
	}
	vars["NATS_URL"] = e.Server.ClientURL()
	// Every in-process service is the operator, as in `maria run`.
	vars["NATS_CREDS"] = e.NATSCreds()
	vars["MARIA_DATA_DIR"] = e.DataDir
	vars["MARIA_NATS_LISTEN"] = "-"
	vars["MARIA_STREAM_REPLICAS"] = "1"
	// The demo declares the streams once, as an operator does (the
	// observer, before any service runs); the services only check them.
	// Several instances updating a stream while others create consumers on
	// it trips a data race inside nats-server (seen with -race, Split mode).
	vars["MARIA_DECLARE_STREAMS"] = "false"
	vars["SLACK_API_URL"] = e.Slack.URL()
	vars["SLACK_BOT_TOKEN"] = botToken
	vars["SLACK_SIGNING_SECRET"] = signingSecret
	// The demo's channel shows ERP answers and proposals with no extra
	// step (DMs are enabled by default; channels only when listed).
	vars["MARIA_ERP_READ_CHANNELS"] = ScriptChannel + ",dm"
	vars["MARIA_ERP_WRITE_CHANNELS"] = ScriptChannel + ",dm"
	setDemoPrompts(vars)
	if vars["MARIA_SERVICE_NAME"] == "" {
		vars["MARIA_SERVICE_NAME"] = "maria-demo"
	}
}

// startObserver connects the demo's own bus connection, declares the
// streams (idempotent) and watches maria.> before any service runs, so no
// message of a turn is missed.
func (e *Env) startObserver(ctx context.Context, logOut io.Writer) error {
	if logOut == nil {
		logOut = io.Discard
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var err error
	e.Observer, err = bus.Connect(cctx, config.Config{NATSURL: e.Server.ClientURL(), NATSCreds: e.NATSCreds(), DataDir: e.DataDir, EmbeddedListen: "-",
		Replicas: 1, ServiceName: "maria-demo-observer", LogLevel: "warn"}, telemetry.NewLogger(logOut, "warn", "maria-demo-observer"))
	if err != nil {
		return fmt.Errorf("demo observer: %w", err)
	}
	if err := e.Observer.EnsureStreams(cctx); err != nil {
		return err
	}
	e.Watch, err = NewWatcher(e.Observer)
	return err
}

// startServices runs the selected services (default: all), in one
// instance or, Split, one instance each.
func (e *Env) startServices(ctx context.Context, o Options) error {
	names := o.Services
	if len(names) == 0 {
		names = app.Services()
	}
	if o.Split {
		for _, n := range names {
			if err := e.startInstance(ctx, n, []string{n}, o.HTTPAddr, n == "ingress"); err != nil {
				return err
			}
		}
	} else if err := e.startInstance(ctx, "", names, o.HTTPAddr, true); err != nil {
		return err
	}
	if e.HTTPAddr == "" {
		return errors.New("demo: no ingress running (the ingress service is needed to deliver Slack events)")
	}
	return nil
}

// startInstance runs services as one app.Start instance.
func (e *Env) startInstance(ctx context.Context, key string, services []string, httpAddr string, ingress bool) error {
	vars := make(map[string]string, len(e.Vars)+1)
	for k, v := range e.Vars {
		vars[k] = v
	}
	if httpAddr == "" || !ingress {
		httpAddr = "127.0.0.1:0"
	}
	vars["MARIA_HTTP_ADDR"] = httpAddr
	if key != "" {
		vars["MARIA_SERVICE_NAME"] = e.Vars["MARIA_SERVICE_NAME"] + "-" + key
	}
	logOut := e.opts.LogOutput
	if logOut == nil {
		logOut = io.Discard
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ready := make(chan string, 1)
	r, err := app.Start(rctx, app.Options{Services: services, Env: config.NewEnvFrom(vars), LogOutput: logOut, HTTPReady: ready})
	if err != nil {
		cancel()
		return fmt.Errorf("start %s: %w", strings.Join(services, ", "), err)
	}
	in := &instance{services: services, cancel: cancel, run: r}
	select {
	case in.addr = <-ready:
	case <-time.After(15 * time.Second):
		cancel()
		_ = r.Wait()
		return fmt.Errorf("start %s: HTTP listener not ready after 15s", strings.Join(services, ", "))
	}
	e.mu.Lock()
	e.instances[key] = in
	if contains(services, "ingress") {
		e.HTTPAddr = in.addr
	}
	e.mu.Unlock()
	return nil
}

// waitReady waits until every instance answers /readyz with 200.
func (e *Env) waitReady(ctx context.Context) error {
	e.mu.Lock()
	var addrs []string
	for _, in := range e.instances {
		addrs = append(addrs, in.addr)
	}
	e.mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for _, a := range addrs {
		for {
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := ops.Probe(pctx, "http://"+a+"/readyz")
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("demo: services on %s not ready: %v", a, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// StopService stops one service of a Split environment, waiting for it to
// drain its in-flight work, as a process does on SIGTERM.
func (e *Env) StopService(name string) error {
	e.mu.Lock()
	in, ok := e.instances[name]
	delete(e.instances, name)
	e.mu.Unlock()
	if !ok {
		return fmt.Errorf("demo: service %q is not running on its own (Options.Split)", name)
	}
	in.cancel()
	return in.run.Wait()
}

// StartService starts a stopped service of a Split environment again.
func (e *Env) StartService(ctx context.Context, name string) error {
	if !e.opts.Split {
		return errors.New("demo: StartService needs Options.Split")
	}
	e.mu.Lock()
	_, running := e.instances[name]
	e.mu.Unlock()
	if running {
		return fmt.Errorf("demo: service %q is already running", name)
	}
	return e.startInstance(ctx, name, []string{name}, e.opts.HTTPAddr, name == "ingress")
}

// Running lists the service instances running, sorted.
func (e *Env) Running() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, in := range e.instances {
		out = append(out, in.services...)
	}
	sort.Strings(out)
	return out
}

// Close stops everything and removes a temporary store.
func (e *Env) Close() {
	e.mu.Lock()
	instances := e.instances
	e.instances = map[string]*instance{}
	e.mu.Unlock()
	for _, in := range instances {
		in.cancel()
	}
	for _, in := range instances {
		_ = in.run.Wait()
	}
	if e.Watch != nil {
		e.Watch.Close()
	}
	if e.Observer != nil {
		e.Observer.Close()
	}
	if e.Server != nil {
		e.Server.Shutdown()
		e.Server.WaitForShutdown()
	}
	if e.openaiSrv != nil {
		_ = e.openaiSrv.Close()
	}
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	if e.tempDir && e.DataDir != "" {
		_ = os.RemoveAll(e.DataDir)
	}
}

// NATSURL is where operator commands reach the demo's server
// (NATS_URL=... NATS_CREDS=... maria trace <id>).
func (e *Env) NATSURL() string { return e.Server.ClientURL() }

// NATSCreds is the operator identity to present with NATSURL.
func (e *Env) NATSCreds() string { return natsconn.EmbeddedCreds(e.DataDir, natsconn.Operator) }

// FreeListen returns addr when it can be listened on, else a random
// loopback port (the demo must not fail because a `maria run` holds 4222).
func FreeListen(addr string) string {
	if addr == "" || addr == "-" {
		return "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "127.0.0.1:0"
	}
	_ = ln.Close()
	return addr
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("demo: no randomness: %v", err)) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)[:n]
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Package app wires Maria's services into one process. `maria run` uses it,
// and so do the end-to-end tests and `maria demo`, so they exercise exactly
// the production wiring.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/health"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/rs/zerolog"
)

// Factory builds a service from the shared dependencies (it may call the
// network: auth.test, opening buckets).
type Factory func(ctx context.Context, d bus.Deps) (bus.Service, error)

// Configure reads a service's configuration from env without any network
// call, recording every problem in env, and returns the Factory that
// builds the service from it. Start configures every selected service
// before connecting anything, so all problems are reported at once.
type Configure func(env *config.Env) Factory

var (
	regMu    sync.Mutex
	registry = map[string]Configure{}
)

// Register adds a service without configuration of its own under name
// (called from init in this package).
func Register(name string, f Factory) {
	RegisterConfigured(name, func(*config.Env) Factory { return f })
}

// RegisterConfigured adds a service whose configuration is read and
// checked by c before anything starts.
func RegisterConfigured(name string, c Configure) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("app: service registered twice: " + name)
	}
	registry[name] = c
}

// Services lists registered service names, sorted.
func Services() []string {
	regMu.Lock()
	defer regMu.Unlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Options control Start.
type Options struct {
	// Services to start; empty means MARIA_SERVICES, else DefaultServices.
	Services []string
	// Env is the configuration source (default: the process environment).
	Env *config.Env
	// LogOutput defaults to stderr.
	LogOutput io.Writer
	// HTTPReady, if set, receives the bound HTTP address.
	HTTPReady chan<- string
}

// Running is a started process: its bus and a way to wait for the end.
type Running struct {
	Bus  *bus.Bus
	HTTP *health.Server
	done chan error
}

// Wait blocks until every service returned after ctx was cancelled.
func (r *Running) Wait() error { return <-r.done }

// Start checks the configuration of the process and of every selected
// service — reporting every problem at once, grouped by service
// (*config.Errors), before any network call — then connects the bus,
// declares streams, builds the services and runs them until ctx ends.
func Start(ctx context.Context, o Options) (*Running, error) {
	env := o.Env
	if env == nil {
		env = config.NewEnv()
	}
	names := selected(o.Services, env)
	cfg, factories, err := configure(env, names)
	if err != nil {
		return nil, err
	}
	out := o.LogOutput
	if out == nil {
		out = os.Stderr
	}
	log := telemetry.NewLoggerFormat(out, cfg.LogLevel, cfg.ServiceName, cfg.LogFormat)
	// Tracing from the standard OTEL_* variables; off (no-op) when unset.
	shutdownTracing, err := telemetry.SetupTracing(log.WithContext(ctx), cfg.ServiceName)
	if err != nil {
		return nil, err
	}
	tracingHandedOver := false
	defer func() {
		if !tracingHandedOver {
			_ = shutdownTracing(context.WithoutCancel(ctx))
		}
	}()

	if cfg.PprofAddr != "" {
		if err := servePprof(ctx, cfg.PprofAddr, log); err != nil {
			return nil, fmt.Errorf("MARIA_PPROF_ADDR: %w", err)
		}
	}

	connectCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := bus.Connect(connectCtx, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := b.Prepare(connectCtx); err != nil {
		b.Close()
		return nil, err
	}
	h := health.New(log)
	h.AddCheck("nats", b.Ready)
	h.AddCheckSource(b.ConsumerChecks)
	services, err := build(connectCtx, bus.Deps{Bus: b, HTTP: h, Env: env, Log: log}, names, factories)
	if err != nil {
		b.Close()
		return nil, err
	}
	r := &Running{Bus: b, HTTP: h, done: make(chan error, 1)}
	tracingHandedOver = true
	r.run(ctx, log, names, services, func(c context.Context) error { return h.Serve(c, cfg.HTTPAddr, o.HTTPReady) }, shutdownTracing)
	return r, nil
}

// configure reads the shared configuration and every named service's, each
// service's problems under its name, and returns all problems together.
func configure(env *config.Env, names []string) (config.Config, []Factory, error) {
	configures, err := configuresOf(names)
	if err != nil {
		return config.Config{}, nil, err
	}
	cfg := config.Load(env)
	factories := make([]Factory, len(names))
	for i, c := range configures {
		factories[i] = c(env.Scope(names[i]))
	}
	if err := env.Err(); err != nil {
		return config.Config{}, nil, err
	}
	return cfg, factories, nil
}

// configuresOf looks the named services up in the registry.
func configuresOf(names []string) ([]Configure, error) {
	known := Services()
	regMu.Lock()
	defer regMu.Unlock()
	configures := make([]Configure, len(names))
	for i, n := range names {
		c, ok := registry[n]
		if !ok {
			return nil, fmt.Errorf("unknown service %q (known: %v)", n, known)
		}
		configures[i] = c
	}
	return configures, nil
}

// build makes every service, each with its own logger and configuration
// scope, and reports every failure at once.
func build(ctx context.Context, deps bus.Deps, names []string, factories []Factory) ([]bus.Service, error) {
	services := make([]bus.Service, 0, len(factories))
	var buildErrs []error
	env := deps.Env
	for i, f := range factories {
		d := deps
		d.Env = env.Scope(names[i])
		d.Log = deps.Log.With().Str("component", names[i]).Logger()
		s, err := f(ctx, d)
		if err != nil {
			buildErrs = append(buildErrs, fmt.Errorf("%s: %w", names[i], err))
			continue
		}
		services = append(services, s)
	}
	if err := env.Err(); err != nil {
		// A factory read more configuration than its Configure did.
		return services, err
	}
	return services, errors.Join(buildErrs...)
}

// run starts the HTTP server, the dead-letter watcher and the services; one
// failing stops them all. When all have returned it closes the bus, flushes
// tracing and reports their errors on r.done.
func (r *Running) run(ctx context.Context, log zerolog.Logger, names []string, services []bus.Service, serveHTTP func(context.Context) error, shutdownTracing func(context.Context) error) {
	runCtx, stop := context.WithCancel(ctx)
	errc := make(chan error, len(services)+2)
	var wg sync.WaitGroup
	start := func(name string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(runCtx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error().Err(err).Str("component", name).Msg("service stopped with error")
				errc <- fmt.Errorf("%s: %w", name, err)
				stop() // one service failing takes the process down: let the supervisor restart it
			}
		})
	}
	start("http", serveHTTP)
	if watchDeadLetters(names) {
		start("dlq-watcher", r.Bus.WatchMaxDeliveries)
	}
	for i, s := range services {
		start(names[i], s.Run)
	}
	log.Info().Strs("services", names).Str("nats", r.Bus.ClientURL()).Msg("maria running")
	go func() {
		wg.Wait()
		stop()
		r.Bus.Close()
		flushCtx, cancelFlush := context.WithTimeout(context.Background(), 5*time.Second)
		if err := shutdownTracing(flushCtx); err != nil {
			log.Warn().Err(err).Msg("tracing shutdown")
		}
		cancelFlush()
		close(errc)
		var errs []error
		for e := range errc {
			errs = append(errs, e)
		}
		log.Info().Msg("maria stopped")
		r.done <- errors.Join(errs...)
	}()
}

// watchDeadLetters tells whether this process should turn MAX_DELIVERIES
// advisories into dead letters: any process running consumers does (the DLQ
// dedup keeps one copy); ingress alone has no consumers and, under its
// least-privilege NATS user, may not subscribe to advisories.
func watchDeadLetters(services []string) bool {
	for _, s := range services {
		if s != "ingress" {
			return true
		}
	}
	return false
}

// Probe starts each named service alone with env, stops it at once, and
// reports which ones start and why the others do not — so a caller (the
// replay sandbox, the observability and security suites) can run every
// service whose configuration is satisfiable and say what it left out.
// Probes run one after the other, never two service sets at once. env
// maps variables; dataDir, when set, gives each probe its own data dir.
func Probe(ctx context.Context, names []string, env map[string]string, dataDir func() string, logs io.Writer) (ok []string, skipped map[string]error) {
	skipped = map[string]error{}
	for _, n := range names {
		e := make(map[string]string, len(env)+1)
		for k, v := range env {
			e[k] = v
		}
		if dataDir != nil {
			e["MARIA_DATA_DIR"] = dataDir()
		}
		pctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		r, err := Start(pctx, Options{Services: []string{n}, Env: config.NewEnvFrom(e), LogOutput: logs})
		stop()
		if err == nil {
			err = r.Wait()
		}
		if ce, ok := config.AsErrors(err); ok {
			err = errors.New(ce.Summary()) // one service: one line of reasons
		}
		if err != nil {
			skipped[n] = err
			continue
		}
		ok = append(ok, n)
	}
	return ok, skipped
}

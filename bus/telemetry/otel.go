package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// tracerName is the instrumentation scope of every span Maria starts (the
// bus's, as it has always been named).
const tracerName = "github.com/mariahq/maria/bus"

// tracerHolder lets an atomic pointer hold an interface.
type tracerHolder struct{ t trace.Tracer }

// activeTracer is nil while tracing is off: the runtime then starts no span
// at all (no allocation, no clock read) and only passes incoming W3C trace
// context through to what it publishes.
var activeTracer atomic.Pointer[tracerHolder]

// SetTracerProvider makes Maria start its spans with tp; nil turns tracing
// off. SetupTracing calls it; tests call it with an in-memory SDK provider,
// and a program that configures OpenTelemetry itself may pass its own.
func SetTracerProvider(tp trace.TracerProvider) {
	if tp == nil {
		activeTracer.Store(nil)
		return
	}
	activeTracer.Store(&tracerHolder{t: tp.Tracer(tracerName)})
}

// TracingEnabled reports whether spans are currently recorded.
func TracingEnabled() bool { return activeTracer.Load() != nil }

// Tracer returns the tracer spans are started with, nil while tracing is
// off: callers then start no span at all. Package bus starts its publish
// and process spans with it.
func Tracer() trace.Tracer {
	if h := activeTracer.Load(); h != nil {
		return h.t
	}
	return nil
}

// TracingSettings is what SetupTracing understood from the standard
// OpenTelemetry environment variables.
type TracingSettings struct {
	// Enabled is false when no exporter is configured (the default).
	Enabled bool
	// Protocol is "grpc" or "http/protobuf" (the OpenTelemetry default).
	Protocol string
}

// TracingFromEnv reads the standard OTEL_* variables through lookup.
// Tracing is on when OTEL_TRACES_EXPORTER=otlp or an OTLP endpoint is set
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and
// off when OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
func TracingFromEnv(lookup func(string) (string, bool)) (TracingSettings, error) {
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	var s TracingSettings
	if strings.EqualFold(get("OTEL_SDK_DISABLED"), "true") {
		return s, nil
	}
	exporter := strings.ToLower(get("OTEL_TRACES_EXPORTER"))
	endpoint := get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		endpoint = get("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	switch exporter {
	case "none":
		return s, nil
	case "":
		if endpoint == "" {
			return s, nil
		}
	case "otlp":
	default:
		return s, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: Maria supports otlp or none", exporter)
	}
	s.Enabled = true
	s.Protocol = strings.ToLower(get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"))
	if s.Protocol == "" {
		s.Protocol = strings.ToLower(get("OTEL_EXPORTER_OTLP_PROTOCOL"))
	}
	switch s.Protocol {
	case "":
		s.Protocol = "http/protobuf"
	case "grpc", "http/protobuf":
	default:
		return s, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%q: want grpc or http/protobuf", s.Protocol)
	}
	return s, nil
}

// SetupTracing configures OpenTelemetry tracing from the standard OTEL_*
// environment variables of the process (the SDK reads the exporter's
// endpoint, headers, TLS, timeout and compression, the sampler
// OTEL_TRACES_SAMPLER/OTEL_TRACES_SAMPLER_ARG, batching OTEL_BSP_* and the
// resource OTEL_SERVICE_NAME/OTEL_RESOURCE_ATTRIBUTES itself). serviceName
// names the service unless OTEL_SERVICE_NAME is set. With no exporter
// configured tracing stays off and the returned shutdown does nothing.
// Exporter errors are logged with the zerolog logger carried by ctx.
//
// The shutdown function flushes buffered spans and restores the previous
// providers; call it on exit.
func SetupTracing(ctx context.Context, serviceName string) (func(context.Context) error, error) {
	noop := func(context.Context) error { return nil }
	settings, err := TracingFromEnv(os.LookupEnv)
	if err != nil {
		return noop, fmt.Errorf("tracing: %w", err)
	}
	if !settings.Enabled {
		return noop, nil
	}
	var exp sdktrace.SpanExporter
	switch settings.Protocol {
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	default:
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return noop, fmt.Errorf("tracing: otlp %s exporter: %w", settings.Protocol, err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(serviceNameAttr(serviceName)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithProcessPID(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		_ = exp.Shutdown(ctx)
		return noop, fmt.Errorf("tracing: resource: %w", err)
	}
	// No WithSampler: the SDK honours OTEL_TRACES_SAMPLER (default
	// parentbased_always_on, so an upstream sampling decision is kept).
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))

	log := zerolog.Ctx(ctx)
	prevGlobal := otel.GetTracerProvider()
	prevProp := otel.GetTextMapPropagator()
	prevBus := activeTracer.Load()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn().Err(err).Msg("opentelemetry error")
	}))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagator)
	SetTracerProvider(tp)
	log.Info().Str("protocol", settings.Protocol).Msg("tracing enabled (OTLP)")
	return func(ctx context.Context) error {
		activeTracer.Store(prevBus)
		otel.SetTracerProvider(prevGlobal)
		otel.SetTextMapPropagator(prevProp)
		if err := tp.Shutdown(ctx); err != nil {
			return fmt.Errorf("tracing: flush spans: %w", err)
		}
		return nil
	}, nil
}

func serviceNameAttr(name string) attribute.KeyValue {
	if name == "" {
		name = "maria"
	}
	return attribute.String("service.name", name)
}

// Package telemetry is how a Maria process is observed: the JSON logger,
// OpenTelemetry tracing set up from the standard OTEL_* variables, spans for
// external calls and requests, and the W3C trace context and correlation id
// carried in NATS headers across every hop (with tracing off too).
//
// The active tracer is process state set only through SetTracerProvider
// (SetupTracing calls it); nothing here is an exported variable.
package telemetry

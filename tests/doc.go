// Package tests holds Maria's cross-service suites (end-to-end, chaos,
// security, benchmarks) and the protocol simulators (Slack, OpenAI, Odoo)
// that those suites and `maria demo` share.
package tests

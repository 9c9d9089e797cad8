// Package failover proves the runtime's failover promises against real
// embedded nats-servers: a killed replica's message resumes on another
// within seconds, a pinned standby takes over within seconds, and after a
// nats-server restart a round trip is back to its baseline within seconds.
// The consumer timings under test are the ones Maria declares
// (schemas.Consumers), not test-only values.
package failover

// Package natsconn connects a Maria process to NATS: dialing a server (or
// starting the embedded JetStream server), authenticating with NATS_CREDS,
// and the NATS users of Maria with their least-privilege permissions, which
// the embedded server enforces and infra/ mirrors for external servers.
//
// It knows nothing of streams or processors: package bus builds on it.
package natsconn

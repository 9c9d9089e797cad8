// Package backup is `maria backup` and `maria restore`: every JetStream
// stream of Maria's account — the MARIA_* streams, the KV_ streams behind
// key-value buckets (thread memory, pending proposals, claims) and the OBJ_
// streams behind object stores (stored files) — snapshotted with its
// consumers' state (so unprocessed messages stay unprocessed) into one
// directory per stream, and restored from there.
//
// Snapshots use jsm.go (the library behind the nats CLI's `nats stream
// backup`/`restore`) rather than hand-written $JS.API.STREAM.SNAPSHOT
// requests: the chunked, flow-controlled transfer and its archive format
// are the server team's to get right.
package backup

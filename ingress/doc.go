// Package ingress turns everything Slack delivers — Events API callbacks,
// slash commands and interactivity, over signed HTTP or over Socket Mode —
// into schemas envelopes on maria.in.<kind>.<team>.<channel>.
//
// An event is acknowledged to Slack only after JetStream stored it (PubAck):
// if the bus is unavailable the HTTP endpoints answer 503 and Socket Mode
// envelopes stay unacknowledged, so Slack delivers them again. Redeliveries
// carry the same message id (Slack's event_id, or a hash of a command's or a
// click's stable ids), so the stream's duplicates window keeps one copy.
//
// Every inbound path shares one Normalizer; FuzzNormalize exercises it.
package ingress

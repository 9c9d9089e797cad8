// Package sealed is envelope encryption for secrets Maria keeps at rest
// (Slack installation tokens, per-person ERP keys): every record gets its
// own random data key (AES-256-GCM), and only that data key is encrypted
// ("wrapped") by a master key — a local key from MARIA_ENCRYPTION_KEYS or
// an AWS KMS key (package processors/kmswrap, outside bus so that bus links
// no AWS SDK). The sealed record names the master key that wrapped it, so
// after a rotation (a new key first in the list, the old ones after it) old
// records still open while new ones use the new key.
//
// The caller's additional data (aad) binds a record to where it belongs —
// a team id, a user id — so a sealed token copied under another key of
// the store does not open.
package sealed

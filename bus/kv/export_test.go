package kv

import "time"

// SetIdempotencyClock replaces the local clock an Idempotency stamps its
// records with, to prove a skewed replica clock decides nothing.
func SetIdempotencyClock(i *Idempotency, now func() time.Time) { i.now = now }

package ingress

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits of maria_ingress_overloaded_total{limit}.
const (
	LimitBodies = "bodies"
	LimitBytes  = "bytes"
)

// bodyGate bounds the request bodies held in memory before their signature
// is verified. A signature covers the whole body, so it must be read first:
// without a bound, a few hundred clients sending ~1 MB unsigned bodies at
// once made ingress buffer them all (41 MB → 420 MB RSS). A request over
// the bound is answered 503 with Retry-After before a byte of its body is
// read; Slack retries its own deliveries.
type bodyGate struct {
	mu                    sync.Mutex
	inflight, maxInflight int
	buffered, maxBuffered int64
}

func newBodyGate(maxInflight int, maxBuffered int64) *bodyGate {
	return &bodyGate{maxInflight: maxInflight, maxBuffered: maxBuffered}
}

// admit reserves room for a body of n bytes. It returns the release
// function, or the limit that refused it (LimitBodies, LimitBytes).
func (g *bodyGate) admit(n int64) (release func(), limit string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.inflight >= g.maxInflight:
		return nil, LimitBodies
	case g.buffered+n > g.maxBuffered:
		return nil, LimitBytes
	}
	g.inflight++
	g.buffered += n
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.inflight--
			g.buffered -= n
			g.mu.Unlock()
		})
	}, ""
}

// signatureMaxAge is Slack's replay window: a request timestamp further
// from now than this is refused (slack-go checks the same window).
const signatureMaxAge = 5 * time.Minute

// Reasons a request is refused on its headers alone.
var (
	errNoSignature    = errors.New("missing X-Slack-Signature or X-Slack-Request-Timestamp")
	errBadSignatureHd = errors.New("malformed X-Slack-Signature (want v0=<64 hex digits>)")
	errStaleTimestamp = errors.New("stale or future X-Slack-Request-Timestamp")
)

// precheckSignature refuses, from the headers alone, what can never carry
// a valid signature: no signature headers, a signature not shaped like
// v0=<hex HMAC-SHA256>, a timestamp outside Slack's five-minute window.
// Such requests cost no body read.
func precheckSignature(h http.Header, now time.Time) error {
	sig, ts := h.Get("X-Slack-Signature"), h.Get("X-Slack-Request-Timestamp")
	if sig == "" || ts == "" {
		return errNoSignature
	}
	if !validSignatureShape(sig) {
		return errBadSignatureHd
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errStaleTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > signatureMaxAge || d < -signatureMaxAge {
		return errStaleTimestamp
	}
	return nil
}

func validSignatureShape(sig string) bool {
	hexPart, ok := strings.CutPrefix(sig, "v0=")
	if !ok || len(hexPart) != 64 {
		return false
	}
	for _, c := range hexPart {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

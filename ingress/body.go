package ingress

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// readUnverified reads the body of a request whose signature is not yet
// checked, within the body gate. What can be refused without reading is:
// missing or malformed signature headers, a stale timestamp (401), a
// declared length over MARIA_INGRESS_MAX_BODY (413), the gate full (503 +
// Retry-After). A non-empty outcome means the request was answered;
// otherwise release frees the body's room in the gate (idempotent).
func (in *Ingress) readUnverified(w http.ResponseWriter, r *http.Request, log zerolog.Logger) (body []byte, release func(), outcome string) {
	if err := precheckSignature(r.Header, time.Now()); err != nil {
		log.Info().Err(err).Msg("rejected before reading the body")
		reply(w, http.StatusUnauthorized, err.Error())
		if errors.Is(err, errStaleTimestamp) {
			return nil, nil, OutcomeStale
		}
		return nil, nil, OutcomeBadSignature
	}
	if r.ContentLength > in.cfg.MaxBody {
		return nil, nil, in.tooLarge(w, log)
	}
	reserve := in.cfg.MaxBody // chunked: it may grow up to the limit
	if r.ContentLength >= 0 {
		reserve = r.ContentLength
	}
	release, limit := in.gate.admit(reserve)
	if limit != "" {
		metricOverloaded.WithLabelValues(limit).Inc()
		in.overloadLog.Warn().Str("limit", limit).Int("max_inflight_bodies", in.cfg.MaxInflightBodies).
			Int64("max_buffered_bytes", in.cfg.MaxBufferedBytes).Msg("overloaded: unverified request refused before reading its body (logged at most once a second)")
		w.Header().Set("Retry-After", "1")
		reply(w, http.StatusServiceUnavailable, "too many requests in flight; retry later")
		return nil, nil, OutcomeOverloaded
	}
	body, err := readLimited(http.MaxBytesReader(w, r.Body, in.cfg.MaxBody), r.ContentLength)
	if err != nil {
		release()
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, nil, in.tooLarge(w, log)
		}
		reply(w, http.StatusBadRequest, "cannot read request body")
		return nil, nil, OutcomeBadRequest
	}
	return body, release, ""
}

// readLimited reads a body of declared length n (negative: unknown) into
// one allocation of its size when known, so what is buffered is what the
// gate reserved.
func readLimited(r io.Reader, n int64) ([]byte, error) {
	if n < 0 {
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(r); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body, nil
}

func (in *Ingress) tooLarge(w http.ResponseWriter, log zerolog.Logger) string {
	log.Warn().Int64("limit", in.cfg.MaxBody).Msg("rejected: body too large")
	reply(w, http.StatusRequestEntityTooLarge, "request body over the limit (MARIA_INGRESS_MAX_BODY)")
	return OutcomeTooLarge
}

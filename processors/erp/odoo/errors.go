package odoo

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an Odoo failure by what the caller should do about it.
type Kind string

// Kinds of failure. The string values are the ones Maria puts in replies
// and results ("access", "validation", ...), so callers in any language read
// the same words.
const (
	// KindUnavailable: Odoo could not be reached or answered 5xx / timed
	// out. Retryable; counts against the circuit breaker.
	KindUnavailable Kind = "unavailable"
	// KindAccessDenied: the credentials were refused (authenticate returned
	// false, fault 3, HTTP 401). Permanent until the configuration changes.
	KindAccessDenied Kind = "access_denied"
	// KindAccess: the user may not do this (fault 4 AccessError, HTTP 403).
	KindAccess Kind = "access"
	// KindValidation: Odoo refused the data (fault 2 UserError,
	// ValidationError, MissingError; HTTP 4xx on JSON-2).
	KindValidation Kind = "validation"
	// KindServer: a Python exception (fault 1) — a bad field, a bad value,
	// a bug. Permanent unless it is a database concurrency failure.
	KindServer Kind = "server"
	// KindProtocol: the answer was not what the protocol promises.
	KindProtocol Kind = "protocol"
)

// Error is a failed Odoo call.
type Error struct {
	Kind Kind
	// Code is the XML-RPC fault code (1-4) or the HTTP status, 0 when neither.
	Code int
	// Op names the call, e.g. "res.partner.search_read".
	Op string
	// Message is Odoo's message in plain words (the last line of a Python
	// traceback, not the traceback). It never contains credentials.
	Message string
	// Retry reports that repeating the same call may succeed.
	Retry bool
	// MaybeExecuted is set when the request may have reached Odoo and been
	// executed although no answer came back (timeout, connection reset,
	// gateway timeout): a create must be reconciled before it is repeated.
	MaybeExecuted bool
	// Err is the underlying transport error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("odoo")
	if e.Op != "" {
		b.WriteString(" ")
		b.WriteString(e.Op)
	}
	b.WriteString(": ")
	b.WriteString(string(e.Kind))
	if e.Code != 0 {
		fmt.Fprintf(&b, " (%d)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, odoo.ErrAccessDenied) and friends match on Kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Message == "" && t.Code == 0 && t.Kind == e.Kind
}

// Sentinels to test a failure's kind with errors.Is.
var (
	ErrUnavailable  = &Error{Kind: KindUnavailable}
	ErrAccessDenied = &Error{Kind: KindAccessDenied}
	ErrAccess       = &Error{Kind: KindAccess}
	ErrValidation   = &Error{Kind: KindValidation}
	ErrServer       = &Error{Kind: KindServer}
	ErrProtocol     = &Error{Kind: KindProtocol}
)

// AsError extracts an *Error from err.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// KindOf returns the kind of err, KindServer for foreign errors.
func KindOf(err error) Kind {
	if e, ok := AsError(err); ok {
		return e.Kind
	}
	return KindServer
}

// IsRetryable reports whether repeating the call may succeed: transport
// failures, timeouts, 5xx and database concurrency failures.
func IsRetryable(err error) bool {
	e, ok := AsError(err)
	return ok && e.Retry
}

// IsUnavailable reports a failure of Odoo's availability (what a circuit
// breaker counts), as opposed to Odoo answering "no".
func IsUnavailable(err error) bool {
	e, ok := AsError(err)
	return ok && e.Kind == KindUnavailable
}

// MaybeExecuted reports whether the failed call may nevertheless have taken effect.
func MaybeExecuted(err error) bool {
	e, ok := AsError(err)
	return ok && e.MaybeExecuted
}

// Fault codes of /xmlrpc/2 (odoo/service/wsgi_server.py).
const (
	FaultApplication  = 1 // any other exception; faultString is a traceback
	FaultWarning      = 2 // UserError, ValidationError, MissingError, RedirectWarning
	FaultAccessDenied = 3 // AccessDenied (bad credentials)
	FaultAccessError  = 4 // AccessError (not allowed)
)

// fromFault maps an XML-RPC fault to an Error.
func fromFault(op string, code int, s string) *Error {
	e := &Error{Op: op, Code: code, Message: plainMessage(s)}
	switch code {
	case FaultWarning:
		e.Kind = KindValidation
	case FaultAccessDenied:
		e.Kind = KindAccessDenied
	case FaultAccessError:
		e.Kind = KindAccess
	default:
		e.Kind = KindServer
		e.Retry = concurrencyFailure(s)
	}
	return e
}

// concurrencyFailure spots the database errors Odoo gives up retrying
// itself: the same call later will likely succeed.
func concurrencyFailure(s string) bool {
	l := strings.ToLower(s)
	for _, p := range []string{"could not serialize access", "deadlock detected", "lock not available", "serializationfailure", "could not obtain lock"} {
		if strings.Contains(l, p) {
			return true
		}
	}
	return false
}

// plainMessage turns a faultString into words for a person: a traceback is
// reduced to its last line ("ValueError: Invalid field 'x' on model 'y'").
func plainMessage(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "Traceback (most recent call last)") {
		lines := strings.Split(s, "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if l := strings.TrimSpace(lines[i]); l != "" {
				s = l
				break
			}
		}
	}
	const maxLen = 2000
	if len(s) > maxLen {
		s = s[:maxLen] + "…"
	}
	return s
}

package ingress

import "github.com/rs/zerolog"

// requestFields adds a request's endpoint and remote address to the
// events its logger writes. A hook runs only for events actually written,
// so the request that is logged about pays for the fields and the
// thousands that are not pay nothing — With() copied a context buffer of
// its own for every request.
type requestFields struct{ endpoint, remote string }

func (f *requestFields) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Str("endpoint", f.endpoint).Str("remote", f.remote)
}

// deliveryFields adds what is being delivered, and Slack's retry number
// when it is one, to the events of deliver's logger.
type deliveryFields struct{ endpoint, what, retry string }

func (f *deliveryFields) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Str("endpoint", f.endpoint).Str("what", f.what)
	if f.retry != "" {
		e.Str("slack_retry", f.retry)
	}
}

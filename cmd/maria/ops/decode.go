package ops

import (
	"bytes"
	"strings"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

// Endpoint is a request/reply endpoint of the bus: its requests and replies
// are plain JSON bodies (not envelopes) that no stream stores.
type Endpoint struct {
	Subject, Request, Reply string // subject; request and reply types
}

// Endpoints lists Maria's request/reply endpoints.
var Endpoints = []Endpoint{
	{schemas.SubjectERPQuery, schemas.TypeERPQuery, schemas.TypeERPReply},
	{schemas.SubjectHistoryQuery, schemas.TypeHistoryQuery, schemas.TypeHistoryReply},
}

// EndpointOf returns the endpoint served on subject.
func EndpointOf(subject string) (Endpoint, bool) {
	for _, e := range Endpoints {
		if e.Subject == subject {
			return e, true
		}
	}
	return Endpoint{}, false
}

// DescribeMsg decodes any message Maria publishes on subject: an envelope;
// a request to an endpoint (its type is the endpoint's request type, its
// data the body); a dead letter whose original body is not an envelope (the
// very reason it may have failed: shown as the body, not as an error). Only
// what matches none of these is marked Invalid.
func DescribeMsg(subject string, h nats.Header, data []byte) Info {
	in := Describe(h, data)
	if in.Invalid == "" {
		return in
	}
	if e, ok := EndpointOf(subject); ok {
		return plainBody(in, e.Request, data)
	}
	if strings.HasPrefix(subject, "maria.dlq.") {
		return plainBody(in, "dead letter", data)
	}
	return in
}

// plainBody describes a JSON body that is not an envelope.
func plainBody(in Info, typ string, data []byte) Info {
	in.Invalid, in.Type = "", typ
	in.Data = CompactJSON(RedactCapabilities(data, Redacted))
	return in
}

// unescapeHTML undoes the HTML escaping Go's encoder applies inside JSON
// strings (\u003c, \u003e, \u0026 for <, >, &): valid JSON either way, but
// Slack's "<@U123|alice>" should read as such. An escaped backslash
// followed by "u003c" is left alone.
func unescapeHTML(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u00`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) {
			switch string(b[i+2 : i+6]) {
			case "003c", "003C":
				out, i = append(out, '<'), i+5
				continue
			case "003e", "003E":
				out, i = append(out, '>'), i+5
				continue
			case "0026":
				out, i = append(out, '&'), i+5
				continue
			}
		}
		out = append(out, b[i], b[i+1]) // any other escape, kept whole
		i++
	}
	return out
}

package natsconn

import (
	"net/url"
	"strings"
)

// redactURL hides credentials in a (comma separated) NATS URL list.
func redactURL(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		parts[i] = RedactURL(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

// RedactURL returns u fit for logs and errors: any user:password@ part is
// masked, even when u does not parse as a URL.
func RedactURL(u string) string {
	if parsed, err := url.Parse(u); err == nil && parsed.User != nil {
		return parsed.Redacted()
	}
	if at := strings.LastIndex(u, "@"); at >= 0 {
		start := strings.Index(u, "://")
		if start < 0 || start > at {
			start = -3
		}
		return u[:start+3] + "xxxxx" + u[at:]
	}
	return u
}

package ops

import (
	"bytes"
	"encoding/json"
)

// Redacted replaces a capability's value in what operators see.
const Redacted = "[redacted]"

// capabilityKeys are payload fields that grant whoever holds them the
// power to act as Maria in Slack for a while (response_url: 30 minutes,
// trigger_id: 3 seconds). They are never shown, nor replayed as they were.
var capabilityKeys = map[string]bool{"response_url": true, "trigger_id": true}

// RedactCapabilities returns raw with the value of every non-empty
// response_url and trigger_id, at any depth, replaced by with. raw comes
// back unchanged when it is not JSON or holds no capability.
func RedactCapabilities(raw []byte, with string) []byte {
	return rewriteCapabilities(raw, func(string) string { return with })
}

// SandboxCapabilities rewrites the capabilities of a message replayed into
// the sandbox: response_url points at the sandbox's Slack sink (so a
// sandbox egress that answers it is recorded and refused there, and never
// reaches the real, possibly still valid, URL), trigger_id is redacted.
func SandboxCapabilities(raw []byte, sinkURL string) []byte {
	return rewriteCapabilities(raw, func(key string) string {
		if key == "response_url" && sinkURL != "" {
			return sinkURL
		}
		return Redacted
	})
}

func rewriteCapabilities(raw []byte, with func(key string) string) []byte {
	if !bytes.Contains(raw, []byte("response_url")) && !bytes.Contains(raw, []byte("trigger_id")) {
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // ids and amounts keep every digit
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	if !redactValue(v, with) {
		return raw
	}
	out, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return out
}

// redactValue rewrites capabilities in place; it reports whether any was
// found. Nested JSON documents in strings are not parsed, but an envelope's
// data is an object, so a whole message body is covered.
func redactValue(v any, with func(string) string) bool {
	found := false
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && capabilityKeys[k] && s != "" {
				x[k] = with(k)
				found = true
				continue
			}
			found = redactValue(e, with) || found
		}
	case []any:
		for _, e := range x {
			found = redactValue(e, with) || found
		}
	}
	return found
}

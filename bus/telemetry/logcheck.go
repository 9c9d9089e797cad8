package telemetry

import (
	"encoding/json"
	"fmt"
	"strings"
)

// DuplicateKeys returns the top-level keys a JSON log line holds more
// than once. encoding/json keeps the last one silently and log collectors
// disagree on which wins, so a logger must never write a key twice (tests
// of the services' logs check every line with it).
func DuplicateKeys(line string) ([]string, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object: %q", line)
	}
	seen := map[string]bool{}
	var dups []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("log line %q: %w", line, err)
		}
		key, _ := tok.(string)
		if seen[key] {
			dups = append(dups, key)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, fmt.Errorf("log line %q: %w", line, err)
		}
	}
	return dups, nil
}

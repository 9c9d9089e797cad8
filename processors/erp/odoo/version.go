package odoo

import (
	"strconv"
	"strings"
)

// ServerInfo is what version() says about the server.
type ServerInfo struct {
	// Version is the server version, e.g. "17.0", "saas~18.2", "19.0".
	Version string
	// Major is its major number (17, 18, 19…); 0 when unknown.
	Major int
}

// JSON2Since is the first Odoo version serving JSON-2 (/json/2).
const JSON2Since = 19

// FormattedReadGroupSince is the first Odoo version whose public grouped
// read is formatted_read_group (read_group is its private helper there).
const FormattedReadGroupSince = 19

// ParseVersion reads common.version() (server_version,
// server_version_info) or GET /web/version (version, version_info).
func ParseVersion(v map[string]any) ServerInfo {
	var si ServerInfo
	for _, k := range []string{"server_version", "version", "server_serie"} {
		if s, ok := v[k].(string); ok && s != "" {
			si.Version = s
			break
		}
	}
	for _, k := range []string{"server_version_info", "version_info"} {
		if info, ok := v[k].([]any); ok && len(info) > 0 {
			if n, ok := asInt64(info[0]); ok {
				si.Major = int(n)
			} else if s, ok := info[0].(string); ok {
				// "saas~18.2" as the first element
				si.Major = majorOf(s)
			}
			if si.Major > 0 {
				return si
			}
		}
	}
	si.Major = majorOf(si.Version)
	return si
}

// majorOf reads the major number of "17.0", "saas~18.2", "19.0+e".
func majorOf(s string) int {
	s = strings.TrimPrefix(s, "saas~")
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

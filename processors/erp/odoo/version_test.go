package odoo

import "testing"

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]any
		want ServerInfo
	}{
		{"xmlrpc 17", map[string]any{"server_version": "17.0", "server_version_info": []any{int64(17), int64(0), int64(0), "final", int64(0), ""}}, ServerInfo{"17.0", 17}},
		{"saas string", map[string]any{"server_version": "saas~18.2", "server_version_info": []any{"saas~18", int64(2)}}, ServerInfo{"saas~18.2", 18}},
		{"web version 19", map[string]any{"version": "19.0", "version_info": []any{float64(19), float64(0)}}, ServerInfo{"19.0", 19}},
		{"version only", map[string]any{"server_version": "16.0+e"}, ServerInfo{"16.0+e", 16}},
		{"nothing", map[string]any{}, ServerInfo{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseVersion(tc.in); got != tc.want {
				t.Fatalf("ParseVersion = %+v, want %+v", got, tc.want)
			}
		})
	}
}

package odoosim

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Option configures a simulator at Start.
type Option func(*Server)

// Version makes the simulator answer as Odoo major (17, 18 or 19; 17 by
// default): version() says so, JSON-2 (/json/2) is served only from 19,
// and the grouped read is read_group before 19, formatted_read_group
// from 19.
func Version(major int) Option {
	return func(s *Server) { s.major = major }
}

// Major is the Odoo version the simulator answers as.
func (s *Server) Major() int { return s.major }

func (s *Server) versionInfo() map[string]any {
	v := fmt.Sprintf("%d.0", s.major)
	return map[string]any{
		"server_version":      v,
		"server_version_info": []any{int64(s.major), int64(0), int64(0), "final", int64(0), ""},
		"server_serie":        v,
		"protocol_version":    int64(1),
	}
}

func (s *Server) webVersion(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.calls["common.version"]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"version_info": []any{s.major, 0, 0, "final", 0, ""}, "version": fmt.Sprintf("%d.0", s.major)})
}

// hasJSON2 reports whether the simulated version serves /json/2.
func (s *Server) hasJSON2() bool { return s.major >= 19 }

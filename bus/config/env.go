// Package config reads a Maria process's configuration from environment
// variables: Env collects every problem so a misconfigured service reports
// all of them at once at start, and Config is the part every service shares
// (where NATS is, the data dir, the HTTP address, logging).
package config

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Env reads configuration from environment variables and collects every
// problem, so a misconfigured service reports all of them at once at start.
type Env struct {
	lookup func(string) (string, bool)
	// problems is shared by an Env and its scopes; group names who
	// reported a problem (a service, or "" for the shared variables).
	problems *problems
	group    string
}

// NewEnv reads the process environment.
func NewEnv() *Env { return &Env{lookup: os.LookupEnv, problems: &problems{}} }

// NewEnvFrom reads from a map (tests, `maria demo`).
func NewEnvFrom(m map[string]string) *Env {
	return &Env{lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }, problems: &problems{}}
}

// Scope returns an Env reading the same variables whose problems are
// reported under group (a service's name): Err lists them per service.
func (e *Env) Scope(group string) *Env {
	return &Env{lookup: e.lookup, problems: e.problems, group: group}
}

// String returns the variable or def when unset or empty.
func (e *Env) String(name, def string) string {
	if v, ok := e.lookup(name); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

// Required returns the variable or records an error naming it.
func (e *Env) Required(name, why string) string {
	v := e.String(name, "")
	if v == "" {
		e.Fail(fmt.Errorf("%s is required (%s)", name, why))
	}
	return v
}

// Int parses an integer variable within [lo, hi].
func (e *Env) Int(name string, def, lo, hi int) int {
	s := e.String(name, "")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		e.Fail(fmt.Errorf("%s=%q: want an integer in [%d, %d]", name, s, lo, hi))
		return def
	}
	return n
}

// Duration parses a Go duration ("30s", "5m") that must be positive.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	s := e.String(name, "")
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		e.Fail(fmt.Errorf("%s=%q: want a positive duration like 30s or 5m", name, s))
		return def
	}
	return d
}

// Bool parses true/false/1/0.
func (e *Env) Bool(name string, def bool) bool {
	s := e.String(name, "")
	if s == "" {
		return def
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		e.Fail(fmt.Errorf("%s=%q: want true or false", name, s))
		return def
	}
	return b
}

// OneOf returns the variable if it is one of the allowed values.
func (e *Env) OneOf(name, def string, allowed ...string) string {
	v := e.String(name, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	e.Fail(fmt.Errorf("%s=%q: want one of %s", name, v, strings.Join(allowed, ", ")))
	return def
}

// Addr validates a host:port listen address.
func (e *Env) Addr(name, def string) string {
	v := e.String(name, def)
	if _, _, err := net.SplitHostPort(v); err != nil {
		e.Fail(fmt.Errorf("%s=%q: want host:port such as :3000", name, v))
		return def
	}
	return v
}

// Fail records a validation error (a joined error counts as each of its
// parts) under this Env's group.
func (e *Env) Fail(err error) { e.problems.add(e.group, err) }

// Err returns every problem found by this Env and all its scopes, grouped
// by service, each once (an *Errors), or nil.
func (e *Env) Err() error { return e.problems.err() }

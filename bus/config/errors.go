package config

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// SharedGroup names the variables every service reads (NATS, data dir,
// HTTP address, logging) in Errors.
const SharedGroup = "shared"

// problems collects what an Env and its scopes found; services validated
// concurrently may record at once.
type problems struct {
	mu   sync.Mutex
	list []problem
}

type problem struct {
	group string
	msg   string
}

func (p *problems) add(group string, err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			p.add(group, e)
		}
		return
	}
	if group == "" {
		group = SharedGroup
	}
	// Listed under its service already: "ai: set …" reads "set …".
	msg := strings.TrimPrefix(err.Error(), group+": ")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, problem{group: group, msg: msg})
}

func (p *problems) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.list) == 0 {
		return nil
	}
	return newErrors(p.list)
}

// Errors is every configuration problem of a start, grouped by who
// reported it: the shared variables, then each service in the order it was
// validated. A problem several services report the same way (a variable
// they share) is listed once, under all their names.
type Errors struct {
	Groups []ErrorGroup
}

// ErrorGroup is the problems of one service, or of several services that
// found exactly the same ones.
type ErrorGroup struct {
	// Services who reported them ("shared" for the shared variables).
	Services []string
	Problems []string
}

// newErrors groups list: each distinct message once, under the services
// that reported it, groups in the order they first appear.
func newErrors(list []problem) *Errors {
	var order []string // distinct messages, first seen first
	who := map[string][]string{}
	for _, p := range list {
		if _, seen := who[p.msg]; !seen {
			order = append(order, p.msg)
		}
		if !contains(who[p.msg], p.group) {
			who[p.msg] = append(who[p.msg], p.group)
		}
	}
	e := &Errors{}
	index := map[string]int{}
	for _, msg := range order {
		key := strings.Join(who[msg], ", ")
		i, ok := index[key]
		if !ok {
			i = len(e.Groups)
			index[key] = i
			e.Groups = append(e.Groups, ErrorGroup{Services: who[msg]})
		}
		e.Groups[i].Problems = append(e.Groups[i].Problems, msg)
	}
	return e
}

// Count is the number of distinct problems.
func (e *Errors) Count() int {
	n := 0
	for _, g := range e.Groups {
		n += len(g.Problems)
	}
	return n
}

// Error lists every problem, one per line, under its services.
func (e *Errors) Error() string {
	var b strings.Builder
	n := e.Count()
	fmt.Fprintf(&b, "configuration: %d problem", n)
	if n != 1 {
		b.WriteString("s")
	}
	for _, g := range e.Groups {
		fmt.Fprintf(&b, "\n  %s:", strings.Join(g.Services, ", "))
		for _, p := range g.Problems {
			fmt.Fprintf(&b, "\n    - %s", strings.ReplaceAll(p, "\n", "\n      "))
		}
	}
	return b.String()
}

// Summary is every problem on one line ("; " between them), for a
// report that has one line per service (the replay sandbox's skipped
// services).
func (e *Errors) Summary() string {
	var all []string
	for _, g := range e.Groups {
		all = append(all, g.Problems...)
	}
	return strings.Join(all, "; ")
}

// AsErrors returns the *Errors inside err, if any.
func AsErrors(err error) (*Errors, bool) {
	var e *Errors
	ok := errors.As(err, &e)
	return e, ok
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

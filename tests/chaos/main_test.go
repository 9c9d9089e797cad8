// Package chaos is Maria's chaos suite: the real `maria` binary, one
// process per service (`maria run ingress`, `ai`, `erp`, `storage`,
// `egress`), against a real nats-server process (single node or a 3-node
// R3 cluster, configured from infra/nats), with the Slack, OpenAI and Odoo
// simulators in the test process on loopback. Each scenario drives
// conversations through signed Slack events while it injects one kind of
// fault — kill -9 of a service, a nats-server restart, a killed stream
// leader, Slack 429 / 500 / 500-after-acting, OpenAI errors, Odoo down — and
// reports what Slack saw per thread: answered exactly once, lost,
// duplicated, streams never stopped, latency, dead letters.
//
// TestChaosShort runs inside `make test` (scenarios today's code survives,
// asserted). `make chaos` runs TestChaos: the full table, written to
// tests/chaos/RESULTS.md; it reports without failing unless CHAOS_STRICT=1.
//
// The suite talks to NATS with nats.go only (no import of Maria's bus
// package): it observes the system the way an operator's tools would.
package chaos

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// natsUsers maps each user of infra/nats/accounts.conf to the variable
// holding its password, read from the file itself.
var natsUsers map[string]string

// passwords are generated once per run; they reach the nats-server
// processes through their environment only.
var passwords = map[string]string{}

var userLine = regexp.MustCompile(`\{\s*user:\s*(\w+),\s*password:\s*\$(\w+)`)

func readUsers() (map[string]string, error) {
	path := filepath.Join(repoRoot(), "infra", "nats", "accounts.conf")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	users := map[string]string{}
	for _, m := range userLine.FindAllStringSubmatch(string(b), -1) {
		users[m[1]] = m[2]
	}
	for _, u := range append([]string{"operator"}, serviceNames...) {
		if users[u] == "" {
			return nil, fmt.Errorf("%s: no password user %q", path, u)
		}
	}
	return users, nil
}

func TestMain(m *testing.M) {
	var err error
	if natsUsers, err = readUsers(); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	for user := range natsUsers {
		passwords[user] = randomHex(16)
	}
	code := m.Run()
	cleanupBinaries()
	os.Exit(code)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("chaos: no randomness: %v", err))
	}
	return hex.EncodeToString(b)
}

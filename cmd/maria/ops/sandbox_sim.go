package ops

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/mariahq/maria/tests/sim/odoosim"
	"github.com/mariahq/maria/tests/sim/openaisim"
)

// sandboxSims are the OpenAI and Odoo simulators a sandbox runs with
// --simulate, the ones `maria demo` runs on: the replay then needs neither
// the real model nor Odoo (and spends nothing on either).
type sandboxSims struct {
	odoo   *odoosim.Server
	openai *http.Server
}

// startSims starts both simulators and points env at them.
func startSims(env map[string]string) (*sandboxSims, error) {
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("sandbox simulators: %w", err)
	}
	ai := openaisim.New(openaisim.Rules())
	ai.APIKey = "sk-sandbox-" + hex.EncodeToString(key)
	srv, url, err := ai.Listen("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sandbox OpenAI simulator: %w", err)
	}
	s := &sandboxSims{openai: srv, odoo: odoosim.Start()}
	// Links in answers keep naming the Odoo the original run used, so
	// they compare equal to its answers.
	public := env["ODOO_PUBLIC_URL"]
	if public == "" {
		public = env["ODOO_URL"]
	}
	for k := range env {
		if strings.HasPrefix(k, "ODOO_") || strings.HasPrefix(k, "OPENAI_") {
			delete(env, k)
		}
	}
	env["OPENAI_BASE_URL"], env["OPENAI_API_KEY"] = url, ai.APIKey
	env["ODOO_URL"], env["ODOO_DB"], env["ODOO_USERNAME"], env["ODOO_PASSWORD"] = s.odoo.URL, s.odoo.DB, s.odoo.User, s.odoo.Password
	if public != "" {
		env["ODOO_PUBLIC_URL"] = public
	}
	for k, v := range simulatedTuning {
		env[k] = v
	}
	return s, nil
}

// simulatedTuning replaces, on the simulators, the tuning that protects
// the real model and Odoo (their rate limits, their cost): the simulators
// answer at once, so a replay is bound only by how many turns run at once.
var simulatedTuning = map[string]string{
	"MARIA_AI_CONCURRENCY": "64",
}

func (s *sandboxSims) Close() {
	if s == nil {
		return
	}
	_ = s.openai.Close()
	s.odoo.Close()
}

package ops

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DemoConfigFile is where `maria demo` and `maria chat` leave, in their data
// dir, the configuration their services run with: the simulators' endpoints
// (OpenAI, Odoo) and the demo's settings (channels enabled for the ERP, …).
// A sandbox replay against the demo reads it, so ai and erp run in the
// sandbox as they ran in the demo instead of being skipped for want of an
// OPENAI_API_KEY or ODOO_URL. Only a demo writes it: against a deployment
// the sandbox uses the operator's environment.
const DemoConfigFile = "demo-config.json"

// demoConfig is the file's content.
type demoConfig struct {
	Vars map[string]string `json:"vars"`
}

// demoOwnKeys are the demo's own wiring, never handed to a sandbox: its
// bus, its Slack (token, signing secret, simulator), its listeners.
func demoOwnKey(k string) bool {
	switch k {
	case "MARIA_DATA_DIR", "MARIA_NATS_LISTEN", "MARIA_HTTP_ADDR", "MARIA_DECLARE_STREAMS", "MARIA_SERVICE_NAME":
		return true
	}
	return strings.HasPrefix(k, "NATS_") || strings.HasPrefix(k, "SLACK_") || strings.HasPrefix(k, "AWS_")
}

// WriteDemoConfig records the demo's service configuration in dataDir
// (mode 0600: it holds the simulators' generated credentials).
func WriteDemoConfig(dataDir string, vars map[string]string) error {
	c := demoConfig{Vars: map[string]string{}}
	for k, v := range vars {
		if !demoOwnKey(k) {
			c.Vars[k] = v
		}
	}
	body, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, DemoConfigFile), body, 0o600); err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	return nil
}

// ReadDemoConfig returns the configuration a demo left in the first of dirs
// that holds one, and where; found is false when none does.
func ReadDemoConfig(dirs ...string) (vars map[string]string, from string, err error) {
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, DemoConfigFile)
		body, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("demo config: %w", err)
		}
		var c demoConfig
		if err := json.Unmarshal(body, &c); err != nil {
			return nil, "", fmt.Errorf("demo config %s: %w", p, err)
		}
		return c.Vars, p, nil
	}
	return nil, "", nil
}

// CredsDataDir is the data dir of an embedded server whose operator
// credentials are at creds (<data dir>/nats/operator.nk, as `maria demo`
// prints them), or "" for credentials elsewhere.
func CredsDataDir(creds string) string {
	if creds == "" || filepath.Base(filepath.Dir(creds)) != "nats" {
		return ""
	}
	return filepath.Dir(filepath.Dir(creds))
}

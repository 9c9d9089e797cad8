package scaffold

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/mariahq/maria/bus/natsconn"
)

// marker is the text of the comment line new entries go before.
func marker(what string) string { return "maria new processor: " + what }

// edit is one insertion into a shared file.
type edit struct {
	path, marker, text string
}

// plannedEdits computes the new content of every shared file a processor
// is listed in, without writing anything.
func plannedEdits(root string, v vars) (map[string][]byte, error) {
	perms := natsconn.ProcessorPermissions(v.Name, v.Name, v.Bucket)
	permCase, err := render("permissions.go.tmpl", v)
	if err != nil {
		return nil, err
	}
	compose, err := render("compose.yaml.tmpl", v)
	if err != nil {
		return nil, err
	}
	edits := []edit{
		{"bus/natsconn/permissions.go", marker("users"), fmt.Sprintf("\t%q,\n", v.Name)},
		{"bus/natsconn/permissions.go", marker("permissions"), string(permCase)},
		{"infra/nats/accounts.conf", marker("permissions"), "# " + v.Name + ": made by `maria new processor " + v.Name + "`\n" + accountsBlock(v.Name, perms) + "\n"},
		{"infra/nats/accounts.conf", marker("users"), fmt.Sprintf("      { user: %s, password: $%s_PASSWORD, permissions: $%s_PERMISSIONS }\n", v.Name, v.Upper, v.Upper)},
		{"infra/k8s/nats-values.yaml", marker("users"), helmUser(v.Name, perms)},
		{"infra/k8s/nats-values.yaml", marker("nkeys"), fmt.Sprintf("    %s_NKEY:\n      valueFrom:\n        configMapKeyRef:\n          name: maria-nats-users\n          key: %s\n", v.Upper, v.Name)},
		{"infra/docker/compose.yaml", marker("passwords"), fmt.Sprintf("  %s_PASSWORD: ${%s_PASSWORD:?set %s_PASSWORD in infra/docker/.env}\n", v.Upper, v.Upper, v.Upper)},
		{"infra/docker/compose.yaml", marker("services"), string(compose)},
		{"infra/docker/nats.env.example", marker("passwords"), v.Upper + "_PASSWORD=\n"},
		{"infra/k8s/kustomization.yaml", marker("resources"), "  - deployment-" + v.Name + ".yaml\n"},
		{"infra/aws/variables.tf", marker("services"), fmt.Sprintf("    %q,\n", v.Name)},
	}
	out := map[string][]byte{}
	for _, e := range edits {
		content, ok := out[e.path]
		if !ok {
			b, err := os.ReadFile(filepath.Join(root, e.path))
			if err != nil {
				return nil, fmt.Errorf("new processor %s: %w", v.Name, err)
			}
			content = b
		}
		next, err := insertAt(content, e.path, e.marker, e.text)
		if err != nil {
			return nil, err
		}
		out[e.path] = next
	}
	// The Secret template (no marker: one more document at the end).
	const secrets = "infra/k8s/secrets.example.yaml"
	if exists(root, secrets) {
		b, err := os.ReadFile(filepath.Join(root, secrets))
		if err != nil {
			return nil, err
		}
		out[secrets] = append(b, fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: maria-nats-%s\n  namespace: maria\n  labels:\n"+
			"    app.kubernetes.io/name: maria\n    app.kubernetes.io/component: %s\ntype: Opaque\nstringData:\n  nats.creds: \"\"\n", v.Name, v.Name)...)
	}
	return out, nil
}

func sortResult(r *Result) {
	sort.Strings(r.Created)
	sort.Strings(r.Edited)
}

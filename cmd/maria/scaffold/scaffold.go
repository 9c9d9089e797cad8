package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/mariahq/maria/bus/natsconn"
)

//go:embed templates/*.tmpl
var templates embed.FS

// validName keeps a name usable everywhere it goes: a Go package, a NATS
// user and its $NAME_PASSWORD / $NAME_NKEY variables, a KV bucket, a
// Kubernetes object name and a compose service.
var validName = regexp.MustCompile(`^[a-z][a-z0-9]{1,29}$`)

// reserved are names with another meaning already (server users, the
// MARIA_SERVICES keyword, packages of the workspace).
var reserved = map[string]bool{"operator": true, "sys": true, "route": true, "default": true, "app": true, "main": true,
	"bus": true, "schemas": true, "scaffold": true, "demo": true, "ops": true, "test": true}

// Result lists what Processor wrote, relative to the repository root.
type Result struct {
	Created, Edited []string
}

// vars are what the templates see.
type vars struct {
	Name, Upper, Bucket, Prefix string
}

// Processor generates processor name in the repository at root. It checks
// everything first — the name, that nothing of that name exists, that every
// marker is where it belongs — and writes only when all is well, so a
// refused run leaves the tree as it was.
func Processor(root, name string) (Result, error) {
	if err := checkName(name); err != nil {
		return Result{}, err
	}
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		return Result{}, fmt.Errorf("%s is not the repository root (no go.work): run maria new from there", root)
	}
	v := vars{Name: name, Upper: strings.ToUpper(name), Bucket: "maria_" + name, Prefix: "!" + name}
	files, err := newFiles(v)
	if err != nil {
		return Result{}, err
	}
	var res Result
	for path := range files {
		if _, err := os.Stat(filepath.Join(root, path)); err == nil {
			return Result{}, fmt.Errorf("%s exists: processor %q is already there (nothing was changed)", path, name)
		}
		res.Created = append(res.Created, path)
	}
	edited, err := plannedEdits(root, v)
	if err != nil {
		return Result{}, err
	}
	for path, content := range edited {
		files[path] = content
		res.Edited = append(res.Edited, path)
	}
	for path, content := range files {
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return Result{}, fmt.Errorf("new processor %s: %w", name, err)
		}
		if err := os.WriteFile(full, content, 0o644); err != nil {
			return Result{}, fmt.Errorf("new processor %s: %w", name, err)
		}
	}
	sortResult(&res)
	return res, nil
}

// checkName refuses a name that cannot be used everywhere or that is taken.
func checkName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("processor name %q: want 2 to 30 lower-case letters and digits, starting with a letter (it names a Go package, a NATS user and Kubernetes objects)", name)
	}
	if token.IsKeyword(name) || reserved[name] {
		return fmt.Errorf("processor name %q is reserved", name)
	}
	for _, u := range natsconn.Users() {
		if u == name {
			return fmt.Errorf("processor name %q: a NATS user of that name exists", name)
		}
	}
	return nil
}

// newFiles renders the files the processor brings, by path.
func newFiles(v vars) (map[string][]byte, error) {
	out := map[string][]byte{}
	for tmpl, path := range map[string]string{
		"processor.go.tmpl":      filepath.Join("processors", v.Name, v.Name+".go"),
		"processor_test.go.tmpl": filepath.Join("processors", v.Name, v.Name+"_test.go"),
		"svc.go.tmpl":            filepath.Join("cmd", "maria", "app", "svc_"+v.Name+".go"),
		"deployment.yaml.tmpl":   filepath.Join("infra", "k8s", "deployment-"+v.Name+".yaml"),
	} {
		b, err := render(tmpl, v)
		if err != nil {
			return nil, err
		}
		out[path] = b
	}
	return out, nil
}

func render(name string, v vars) ([]byte, error) {
	t, err := template.ParseFS(templates, "templates/"+name)
	if err != nil {
		return nil, fmt.Errorf("scaffold template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("scaffold template %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// errMarker says a shared file lost the comment where new entries go.
var errMarker = errors.New("marker comment missing or repeated")

// insertAt puts text just before the one line holding marker.
func insertAt(content []byte, path, marker, text string) ([]byte, error) {
	lines := strings.SplitAfter(string(content), "\n")
	at := -1
	for i, l := range lines {
		if strings.Contains(l, marker) {
			if at >= 0 {
				return nil, fmt.Errorf("%s: %q: %w", path, marker, errMarker)
			}
			at = i
		}
	}
	if at < 0 {
		return nil, fmt.Errorf("%s: %q: %w (restore it from git, then run again)", path, marker, errMarker)
	}
	out := strings.Join(lines[:at], "") + text + strings.Join(lines[at:], "")
	return []byte(out), nil
}

// exists tells whether path exists under root.
func exists(root, path string) bool {
	_, err := os.Stat(filepath.Join(root, path))
	return !errors.Is(err, fs.ErrNotExist)
}

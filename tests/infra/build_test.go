package infra

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// versionMark stands for the version string in both build commands.
const versionMark = "@VERSION@"

// --- Makefile -------------------------------------------------------------

var makeVarRE = regexp.MustCompile(`^(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(:=|::=|\?=|=)\s*(.*)$`)

// makefile is what the test needs of a Makefile: variables and recipes.
type makefile struct {
	vars    map[string]string
	recipes map[string][]string
}

func parseMakefile(src string) makefile {
	mf := makefile{vars: map[string]string{}, recipes: map[string][]string{}}
	lines := joinContinuations(strings.Split(src, "\n"), false)
	target := ""
	for _, line := range lines {
		if strings.HasPrefix(line, "\t") {
			if target != "" {
				mf.recipes[target] = append(mf.recipes[target], strings.TrimSpace(line))
			}
			continue
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if m := makeVarRE.FindStringSubmatch(trimmed); m != nil {
			if _, set := mf.vars[m[1]]; !(m[2] == "?=" && set) {
				mf.vars[m[1]] = strings.TrimSpace(m[3])
			}
			target = ""
			continue
		}
		if i := strings.Index(trimmed, ":"); i > 0 && !strings.HasPrefix(trimmed, ".") {
			target = strings.TrimSpace(trimmed[:i])
			continue
		}
		target = ""
	}
	return mf
}

// expand replaces $(NAME) and ${NAME} by the variables' values, recursively;
// overrides win (like `make VAR=value`).
func (mf makefile) expand(s string, overrides map[string]string) (string, error) {
	re := regexp.MustCompile(`\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]`)
	for range 20 {
		var missing []string
		next := re.ReplaceAllStringFunc(s, func(ref string) string {
			name := re.FindStringSubmatch(ref)[1]
			if v, ok := overrides[name]; ok {
				return v
			}
			if v, ok := mf.vars[name]; ok {
				return v
			}
			missing = append(missing, name)
			return ref
		})
		if len(missing) > 0 {
			return "", fmt.Errorf("undefined make variables %v in %q", missing, s)
		}
		if next == s {
			return strings.ReplaceAll(s, "$$", "$"), nil
		}
		s = next
	}
	return "", fmt.Errorf("make variables nest too deep in %q", s)
}

// makeBuildCommand is the `go build` command of the Makefile's build target.
func makeBuildCommand(src string) ([]string, error) {
	mf := parseMakefile(src)
	recipe := mf.recipes["build"]
	if len(recipe) == 0 {
		return nil, fmt.Errorf("the Makefile has no recipe for target build")
	}
	for _, line := range recipe {
		line = strings.TrimLeft(line, "@-+")
		expanded, err := mf.expand(line, map[string]string{"VERSION": versionMark})
		if err != nil {
			return nil, err
		}
		words, err := shellWords(expanded, nil)
		if err != nil {
			return nil, fmt.Errorf("build recipe %q: %w", line, err)
		}
		if cmd := goBuildCommand(words); cmd != nil {
			return cmd, nil
		}
	}
	return nil, fmt.Errorf("no go build command in the build recipe %q", recipe)
}

// --- Dockerfile -----------------------------------------------------------

type instruction struct {
	cmd  string // upper-case keyword
	args string
	line int
}

type stage struct {
	image, name  string
	instructions []instruction
}

func parseDockerfile(src string) ([]stage, error) {
	var stages []stage
	raw := strings.Split(src, "\n")
	// Comments are whole lines starting with # (also inside continuations).
	var kept []string
	for _, l := range raw {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			kept = append(kept, "")
			continue
		}
		kept = append(kept, l)
	}
	for i, line := range joinContinuations(kept, true) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		kw, rest, _ := strings.Cut(line, " ")
		in := instruction{cmd: strings.ToUpper(kw), args: strings.TrimSpace(rest), line: i + 1}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			var st stage
			for j := 0; j < len(f); j++ {
				switch {
				case strings.HasPrefix(f[j], "--"):
				case strings.EqualFold(f[j], "AS") && j+1 < len(f):
					st.name = f[j+1]
					j++
				default:
					st.image = f[j]
				}
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				return nil, fmt.Errorf("%s before the first FROM", in.cmd)
			}
			stages = append(stages, stage{name: "<global>"})
			stages[0].instructions = append(stages[0].instructions, in)
			continue
		}
		stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, in)
	}
	if len(stages) > 0 && stages[0].name == "<global>" && len(stages) > 1 {
		// Global ARGs belong to no stage; keep them on the first real one.
		stages[1].instructions = append(stages[0].instructions, stages[1].instructions...)
		stages = stages[1:]
	}
	return stages, nil
}

// runShell strips RUN's own --flags (--mount=..., --network=...).
func runShell(args string) string {
	for strings.HasPrefix(args, "--") {
		_, rest, _ := strings.Cut(args, " ")
		args = strings.TrimSpace(rest)
	}
	return args
}

// dockerBuildCommand is the `go build` command of the Dockerfile's RUN
// instructions, with the shell's expansion of ${VERSION}/$VERSION applied
// where the shell would apply it (not inside single quotes).
func dockerBuildCommand(src string) ([]string, error) {
	stages, err := parseDockerfile(src)
	if err != nil {
		return nil, err
	}
	for _, st := range stages {
		for _, in := range st.instructions {
			if in.cmd != "RUN" {
				continue
			}
			words, err := shellWords(runShell(in.args), map[string]string{"VERSION": versionMark})
			if err != nil {
				return nil, fmt.Errorf("RUN at line %d: %w", in.line, err)
			}
			if cmd := goBuildCommand(words); cmd != nil {
				return cmd, nil
			}
		}
	}
	return nil, fmt.Errorf("no RUN with a go build command")
}

// --- shell ----------------------------------------------------------------

func joinContinuations(lines []string, dropEmpty bool) []string {
	var out []string
	cur := ""
	cont := false
	for _, l := range lines {
		if cont && dropEmpty && strings.TrimSpace(l) == "" {
			continue
		}
		if cont {
			cur += " " + strings.TrimSpace(l)
		} else {
			cur = l
		}
		trimmed := strings.TrimRight(cur, " \t")
		cont = strings.HasSuffix(trimmed, "\\")
		if cont {
			cur = strings.TrimSuffix(trimmed, "\\")
			continue
		}
		out = append(out, cur)
	}
	if cont {
		out = append(out, cur)
	}
	return out
}

var shellVarRE = regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))`)

// shellWords splits a POSIX shell command line into words; control
// operators (&&, ||, ;, |) are words of their own. vars, when non-nil, are
// expanded as the shell would: unquoted and in double quotes, not in single.
func shellWords(s string, vars map[string]string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	expand := func(seg string) string {
		if vars == nil {
			return seg
		}
		return shellVarRE.ReplaceAllStringFunc(seg, func(ref string) string {
			m := shellVarRE.FindStringSubmatch(ref)
			name := m[1] + m[2]
			if v, ok := vars[name]; ok {
				return v
			}
			return ref
		})
	}
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			flush()
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			j := i + 1
			var seg strings.Builder
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && strings.IndexByte("\\\"$`", s[j+1]) >= 0 {
					j++
				}
				seg.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated double quote")
			}
			cur.WriteString(expand(seg.String()))
			inWord = true
			i = j
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(s[i+1])
			inWord = true
			i++
		case c == '&' || c == '|' || c == ';':
			flush()
			op := string(c)
			if i+1 < len(s) && (s[i+1] == '&' || s[i+1] == '|') && c != ';' {
				op += string(s[i+1])
				i++
			}
			words = append(words, op)
		default:
			// An unquoted run up to the next special character.
			j := i
			for j < len(s) && strings.IndexByte(" \t\n'\"\\&|;", s[j]) < 0 {
				j++
			}
			cur.WriteString(expand(s[i:j]))
			inWord = true
			i = j - 1
		}
	}
	flush()
	return words, nil
}

// goBuildCommand returns the simple command (with its leading VAR=value
// assignments) that runs `go build`, or nil.
func goBuildCommand(words []string) []string {
	var cmd []string
	for i := 0; i <= len(words); i++ {
		if i == len(words) || words[i] == "&&" || words[i] == "||" || words[i] == ";" || words[i] == "|" {
			for j := 0; j+1 < len(cmd); j++ {
				if cmd[j] == "go" && cmd[j+1] == "build" {
					return cmd
				}
			}
			cmd = nil
			continue
		}
		cmd = append(cmd, words[i])
	}
	return nil
}

// --- tests ----------------------------------------------------------------

// TestDockerfileBuildsWhatMakefileBuilds: the image's binary is `make build`'s.
func TestDockerfileBuildsWhatMakefileBuilds(t *testing.T) {
	mk, err := makeBuildCommand(string(readFile(t, "Makefile")))
	if err != nil {
		t.Fatal(err)
	}
	dk, err := dockerBuildCommand(string(readFile(t, "infra", "docker", "Dockerfile")))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Makefile:   %q", mk)
	t.Logf("Dockerfile: %q", dk)
	if strings.Join(mk, "\x00") != strings.Join(dk, "\x00") {
		t.Fatalf("the Dockerfile's build command differs from the Makefile's build target:\n Makefile:   %q\n Dockerfile: %q", mk, dk)
	}
	if !contains(mk, "./cmd/maria") || !contains(mk, "-o") {
		t.Fatalf("build command %q does not build ./cmd/maria with -o", mk)
	}
}

// TestBuildCommandComparisonCatchesDrift proves the comparison above fails
// when either side changes, including a shell-quoting slip in the Dockerfile.
func TestBuildCommandComparisonCatchesDrift(t *testing.T) {
	makeSrc := string(readFile(t, "Makefile"))
	dockerSrc := string(readFile(t, "infra", "docker", "Dockerfile"))
	want, err := dockerBuildCommand(dockerSrc)
	if err != nil {
		t.Fatal(err)
	}
	same := func(a []string) bool { return strings.Join(a, "\x00") == strings.Join(want, "\x00") }
	for name, mutate := range map[string]func(string) string{
		"no -trimpath":    func(s string) string { return strings.Replace(s, "-trimpath ", "", 1) },
		"ldflags changed": func(s string) string { return strings.Replace(s, "LDFLAGS := -s -w", "LDFLAGS := -w", 1) },
		"other package": func(s string) string {
			return strings.Replace(s, "-o bin/maria ./cmd/maria", "-o bin/maria ./cmd/other", 1)
		},
		"cgo on": func(s string) string {
			return strings.Replace(s, "CGO_ENABLED=0 $(GO) build", "CGO_ENABLED=1 $(GO) build", 1)
		},
		"version variable": func(s string) string {
			return strings.Replace(s, "main.version=$(VERSION)", "main.Version=$(VERSION)", 1)
		},
	} {
		mutated := mutate(makeSrc)
		if mutated == makeSrc {
			t.Errorf("%s: the mutation did not apply; update this test with the Makefile", name)
			continue
		}
		got, err := makeBuildCommand(mutated)
		if err == nil && same(got) {
			t.Errorf("%s: a changed Makefile still compares equal", name)
		}
	}
	// Single quotes in RUN keep the shell from expanding ${VERSION}: caught.
	single := strings.Replace(dockerSrc, `"-s -w -X main.version=${VERSION}"`, `'-s -w -X main.version=${VERSION}'`, 1)
	if single == dockerSrc {
		t.Fatal("Dockerfile mutation did not apply; update this test with the Dockerfile")
	}
	if got, err := dockerBuildCommand(single); err == nil && same(got) {
		t.Error("a single-quoted ${VERSION} in RUN compares equal")
	}
}

func TestShellWords(t *testing.T) {
	got, err := shellWords(`A=1 go build -ldflags "-X v=${V}" -o 'x $V' a\ b && echo $V;ls`, map[string]string{"V": "9"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A=1", "go", "build", "-ldflags", "-X v=9", "-o", "x $V", "a b", "&&", "echo", "9", ";", "ls"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if _, err := shellWords(`echo "open`, nil); err == nil {
		t.Fatal("unterminated quote accepted")
	}
}

// TestDockerfileImage checks the runtime stage: non-root numeric user, the
// binary from the build stage's -o path, entrypoint, port, and that the
// builder copies every module of go.work and uses go.work's Go version.
func TestDockerfileImage(t *testing.T) {
	src := string(readFile(t, "infra", "docker", "Dockerfile"))
	stages, err := parseDockerfile(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stage(s)", len(stages))
	}
	final := stages[len(stages)-1]
	args := map[string]string{}
	for _, in := range stages[0].instructions {
		if in.cmd == "ARG" {
			k, v, _ := strings.Cut(in.args, "=")
			args[k] = v
		}
	}

	// Builder: Go version of go.work, every module's go.mod copied.
	builder := stages[0]
	img := shellVarRE.ReplaceAllStringFunc(builder.image, func(ref string) string {
		m := shellVarRE.FindStringSubmatch(ref)
		return args[m[1]+m[2]]
	})
	goVersion, modules := goWork(t)
	if !strings.HasPrefix(img, "golang:"+goVersion) {
		t.Errorf("builder image %q (from %q): want golang:%s, the Go version of go.work", img, builder.image, goVersion)
	}
	copied := map[string]bool{}
	workdir := ""
	for _, in := range builder.instructions {
		switch in.cmd {
		case "COPY":
			for _, f := range strings.Fields(in.args) {
				copied[strings.TrimPrefix(f, "./")] = true
			}
		case "WORKDIR":
			workdir = in.args
		}
	}
	if !copied["go.work"] {
		t.Error("the builder does not copy go.work")
	}
	for _, m := range modules {
		if !copied[m+"/go.mod"] {
			t.Errorf("module %s of go.work: its go.mod is not copied before `go mod download`", m)
		}
	}

	// Runtime stage.
	var user, entrypoint, cmd, expose, copyFrom string
	for _, in := range final.instructions {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "CMD":
			cmd = in.args
		case "EXPOSE":
			expose = in.args
		case "COPY":
			if strings.Contains(in.args, "--from="+builder.name+" ") && strings.HasSuffix(in.args, " /maria") {
				copyFrom = in.args
			}
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || uid == "root" || strings.Trim(uid, "0123456789") != "" {
		t.Errorf("final stage USER %q: want a numeric non-root uid (Kubernetes' runAsNonRoot checks it)", user)
	}
	assertJSONList(t, "ENTRYPOINT", entrypoint, []string{"/maria"})
	assertJSONList(t, "CMD", cmd, []string{"run"})
	if !contains(strings.Fields(expose), "3000") {
		t.Errorf("EXPOSE %q: want 3000 (MARIA_HTTP_ADDR default)", expose)
	}
	build, err := dockerBuildCommand(src)
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for i, w := range build {
		if w == "-o" && i+1 < len(build) {
			out = build[i+1]
		}
	}
	wantSrc := strings.TrimSuffix(workdir, "/") + "/" + out
	if copyFrom == "" || !contains(strings.Fields(copyFrom), wantSrc) {
		t.Errorf("final stage: want COPY --from=%s %s /maria (the -o of go build), got %q", builder.name, wantSrc, copyFrom)
	}
	if !strings.Contains(final.image, "distroless/static") && final.image != "scratch" {
		t.Errorf("final image %q: want distroless static or scratch", final.image)
	}
}

// goWork returns go.work's "go" version (major.minor) and its modules.
func goWork(t testing.TB) (string, []string) {
	t.Helper()
	var version string
	var mods []string
	inUse := false
	for _, line := range strings.Split(string(readFile(t, "go.work")), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "go "):
			parts := strings.SplitN(strings.TrimPrefix(line, "go "), ".", 3)
			version = strings.Join(parts[:min(2, len(parts))], ".")
		case line == "use (":
			inUse = true
		case inUse && line == ")":
			inUse = false
		case inUse && line != "":
			mods = append(mods, strings.TrimPrefix(line, "./"))
		case strings.HasPrefix(line, "use ./"):
			mods = append(mods, strings.TrimPrefix(line, "use ./"))
		}
	}
	if version == "" || len(mods) == 0 {
		t.Fatal("go.work: no go version or no modules")
	}
	return version, mods
}

func assertJSONList(t *testing.T, what, got string, want []string) {
	t.Helper()
	var l []string
	if err := json.Unmarshal([]byte(got), &l); err != nil {
		t.Errorf("%s %s: want exec (JSON) form %q: %v", what, got, want, err)
		return
	}
	if strings.Join(l, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("%s = %q, want %q", what, l, want)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

package infra

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// deploySteps are the steps every environment's deploy job must run, in
// this order, each found by what its run line does.
var deploySteps = []struct {
	what string
	is   func(step any) bool
}{
	{"kustomize edit set image … by digest", func(s any) bool {
		return strings.Contains(str(s, "run"), "kustomize edit set image") && strings.Contains(str(s, "run"), "$IMAGE")
	}},
	{"kubectl apply -k the overlay", func(s any) bool { return strings.Contains(str(s, "run"), `kubectl apply -k "$OVERLAY"`) }},
	{"kubectl rollout status with a timeout", func(s any) bool {
		r := str(s, "run")
		return str(s, "if") == "" && strings.Contains(r, "rollout status") && strings.Contains(r, "--timeout=")
	}},
	{"maria healthcheck on /readyz", func(s any) bool {
		r := str(s, "run")
		return strings.Contains(r, "bin/maria healthcheck") && strings.Contains(r, "/readyz")
	}},
	{"maria smoke against the ingress", func(s any) bool { return strings.Contains(str(s, "run"), "bin/maria smoke") }},
	{"rollback on failure", func(s any) bool {
		return strings.Contains(str(s, "if"), "failure()") && strings.Contains(str(s, "run"), "rollout undo")
	}},
}

// TestDeployWorkflow: .github/workflows/deploy.yml builds the image through
// image.yml and deploys its digest to staging, then — after staging — to
// production behind the production environment; each environment applies
// its overlay, waits for the rollouts, checks readiness and the smoke
// check, rolls back on failure, one deploy per environment at a time, and
// every step is named.
func TestDeployWorkflow(t *testing.T) {
	wf := loadYAML(t, ".github", "workflows", "deploy.yml")[0]
	if _, ok := on(wf)["release"]; !ok {
		t.Error("deploy.yml does not run on a release")
	}
	if _, ok := on(wf)["workflow_dispatch"]; !ok {
		t.Error("deploy.yml cannot be run by hand (workflow_dispatch)")
	}
	jobs, _ := wf["jobs"].(map[string]any)
	if str(jobs["image"], "uses") != "./.github/workflows/image.yml" {
		t.Errorf("the image job uses %q, want image.yml (one definition of the build)", str(jobs["image"], "uses"))
	}
	checkImageOutputsDigest(t)

	if got := strs(jobs["staging"], "needs"); str(jobs["staging"], "needs") != "image" && !contains(got, "image") {
		t.Errorf("staging needs %v, want the image job", got)
	}
	if got := strs(jobs["production"], "needs"); !contains(got, "staging") || !contains(got, "image") {
		t.Errorf("production needs %v, want staging (and image for its digest)", got)
	}
	groups := map[string]bool{}
	for _, env := range []string{"staging", "production"} {
		job := jobs[env]
		if job == nil {
			t.Fatalf("no %s job", env)
		}
		if got := str(job, "environment", "name"); got != env {
			t.Errorf("%s job runs in environment %q, want %q (its secrets; production's approval)", env, got, env)
		}
		group := str(job, "concurrency", "group")
		if !strings.Contains(group, env) || groups[group] || str(job, "concurrency", "cancel-in-progress") != "false" {
			t.Errorf("%s concurrency %v: want a group of its own that never cancels a rollout", env, job.(map[string]any)["concurrency"])
		}
		groups[group] = true
		checkDeployJob(t, env, job)
	}
	if !reflect.DeepEqual(list(jobs["staging"], "steps"), list(jobs["production"], "steps")) {
		t.Error("production does not run the same steps staging ran")
	}
	// The deploy's log reads as its steps: every one named, image.yml's too.
	img := loadYAML(t, ".github", "workflows", "image.yml")[0]
	for file, wf := range map[string]map[string]any{"deploy.yml": wf, "image.yml": img} {
		jobs, _ := wf["jobs"].(map[string]any)
		for name, job := range jobs {
			for i, s := range list(job, "steps") {
				if strings.TrimSpace(str(s, "name")) == "" {
					t.Errorf("%s job %s step %d (%s%s) has no name", file, name, i+1, str(s, "uses"), firstLine(str(s, "run")))
				}
			}
		}
	}
}

// checkDeployJob checks one environment's deploy job.
func checkDeployJob(t *testing.T, env string, job any) {
	t.Helper()
	overlay := str(job, "env", "OVERLAY")
	if overlay != "infra/overlays/"+env {
		t.Errorf("%s deploys overlay %q", env, overlay)
	} else if _, err := os.Stat(filepath.Join(repoRoot(t), overlay, "kustomization.yaml")); err != nil {
		t.Errorf("%s overlay: %v", env, err)
	}
	if img := str(job, "env", "IMAGE"); !strings.HasSuffix(img, "@${{ needs.image.outputs.digest }}") {
		t.Errorf("%s image %q is not pinned by the built digest", env, img)
	}
	steps := list(job, "steps")
	at, prev := -1, "the start"
	for _, want := range deploySteps {
		found := -1
		for i, s := range steps {
			if want.is(s) {
				found = i
				break
			}
		}
		switch {
		case found < 0:
			t.Errorf("%s: no step %s", env, want.what)
		case found < at:
			t.Errorf("%s: step %d (%s) runs before %s", env, found+1, want.what, prev)
		default:
			at, prev = found, want.what
		}
	}
	for _, s := range steps {
		r := str(s, "run")
		if strings.Contains(r, "bin/maria smoke") {
			if !strings.HasPrefix(str(s, "env", "SLACK_SIGNING_SECRET"), "${{ secrets.") || !strings.HasPrefix(str(s, "env", "SLACK_BOT_TOKEN"), "${{ secrets.") {
				t.Errorf("%s: the smoke check's Slack credentials do not come from the environment's secrets", env)
			}
			checkFlags(t, r, "bin/maria smoke", "cmd_smoke.go", "ingress-url", "channel", "user", "timeout")
		}
		if strings.Contains(r, "bin/maria healthcheck") {
			checkFlags(t, r, "bin/maria healthcheck", "cmd_healthcheck.go", "addr", "path")
		}
	}
}

var flagRE = regexp.MustCompile(`--([a-z][a-z-]*)`)

// checkFlags: the command line of cmd in run uses the required flags, and
// every flag it uses is one file declares (a renamed flag breaks the
// workflow, not only the docs).
func checkFlags(t *testing.T, run, cmd, file string, required ...string) {
	t.Helper()
	src := string(readFile(t, "cmd", "maria", file))
	var used []string
	for _, line := range strings.Split(run, "\n") {
		if i := strings.Index(line, cmd); i >= 0 {
			for _, m := range flagRE.FindAllStringSubmatch(line[i:], -1) {
				used = append(used, m[1])
			}
		}
	}
	for _, f := range used {
		if !strings.Contains(src, `"`+f+`"`) {
			t.Errorf("%s --%s: %s declares no such flag", cmd, f, file)
		}
	}
	for _, f := range required {
		if !contains(used, f) {
			t.Errorf("%s is run without --%s", cmd, f)
		}
	}
}

// checkImageOutputsDigest: image.yml can be called and outputs the digest
// its build-push step pushed.
func checkImageOutputsDigest(t *testing.T) {
	t.Helper()
	img := loadYAML(t, ".github", "workflows", "image.yml")[0]
	if v := str(on(img), "workflow_call", "outputs", "digest", "value"); v != "${{ jobs.image.outputs.digest }}" {
		t.Errorf("image.yml workflow_call output digest = %q", v)
	}
	if v := str(img, "jobs", "image", "outputs", "digest"); v != "${{ steps.build.outputs.digest }}" {
		t.Errorf("image job output digest = %q", v)
	}
	for _, s := range steps(img) {
		if str(s, "id") == "build" && !strings.HasPrefix(str(s, "uses"), "docker/build-push-action@") {
			t.Errorf("step id build is %q, want docker/build-push-action", str(s, "uses"))
		}
	}
}

func firstLine(s string) string {
	if s == "" {
		return ""
	}
	return "run: " + strings.SplitN(strings.TrimSpace(s), "\n", 2)[0]
}

package infra

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/natsconf"
	"github.com/nats-io/nkeys"
)

// k8sObjects loads every object the kustomization lists, failing on listed
// files that are missing and YAML files the kustomization forgets.
func k8sObjects(t *testing.T) []map[string]any {
	t.Helper()
	k := loadYAML(t, "infra", "k8s", "kustomization.yaml")[0]
	listed := map[string]bool{}
	var objs []map[string]any
	for _, r := range strs(k, "resources") {
		listed[r] = true
		objs = append(objs, loadYAML(t, "infra", "k8s", r)...)
	}
	// Files that are deliberately not resources: Helm values, the Secret
	// template, the kustomization itself.
	notResources := setOf("kustomization.yaml", "nats-values.yaml", "prometheus-adapter-values.yaml", "secrets.example.yaml")
	entries, err := os.ReadDir(filepath.Join(repoRoot(t), "infra", "k8s"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".yaml") && !listed[e.Name()] && !notResources[e.Name()] {
			t.Errorf("infra/k8s/%s is not listed in kustomization.yaml resources", e.Name())
		}
	}
	return objs
}

func byKind(objs []map[string]any, kind string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, o := range objs {
		if str(o, "kind") == kind {
			out[str(o, "metadata", "name")] = o
		}
	}
	return out
}

func selectorMatches(sel, labels any) bool {
	m, ok := sel.(map[string]any)
	if !ok || len(m) == 0 {
		return false
	}
	l, _ := labels.(map[string]any)
	for k, v := range m {
		if str(l, k) != str(v) {
			return false
		}
	}
	return true
}

// TestK8sDeployments: one Deployment per deployed service with probes,
// resources, a hardened securityContext, its own credentials, a PDB and an
// HPA (or a declared singleton).
func TestK8sDeployments(t *testing.T) {
	objs := k8sObjects(t)
	deps := byKind(objs, "Deployment")
	pdbs := byKind(objs, "PodDisruptionBudget")
	hpas := byKind(objs, "HorizontalPodAutoscaler")
	secrets := map[string]bool{}
	for _, es := range byKind(objs, "ExternalSecret") {
		secrets[str(es, "spec", "target", "name")] = true
	}
	configMaps := byKind(objs, "ConfigMap")
	sas := byKind(objs, "ServiceAccount")

	var names []string
	for _, d := range deps {
		names = append(names, str(d, "spec", "template", "metadata", "labels", "app.kubernetes.io/component"))
	}
	missing, extra := diffSets(deployedServices(t), names)
	if len(missing) > 0 {
		t.Errorf("registered services without a Deployment: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("Deployments for services that are not registered: %v", extra)
	}

	dockerUID := dockerfileUID(t)
	for name, d := range deps {
		svc := str(d, "spec", "template", "metadata", "labels", "app.kubernetes.io/component")
		t.Run(name, func(t *testing.T) {
			pod, _ := get(d, "spec", "template", "spec")
			if !selectorMatches(mustGet(t, d, "spec", "selector", "matchLabels"), mustGet(t, d, "spec", "template", "metadata", "labels")) {
				t.Error("selector does not match the pod labels")
			}
			cs := list(pod, "containers")
			if len(cs) != 1 {
				t.Fatalf("%d containers, want 1", len(cs))
			}
			c := cs[0]
			if got := strings.Join(strs(c, "args"), " "); got != "run "+svc {
				t.Errorf("args %q, want run %s", got, svc)
			}
			ports := map[string]string{}
			for _, p := range list(c, "ports") {
				ports[str(p, "name")] = str(p, "containerPort")
			}
			probePort := func(probe string) string {
				p := str(c, probe, "httpGet", "port")
				if n, ok := ports[p]; ok {
					return n
				}
				return p
			}
			for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
				if got := str(c, probe, "httpGet", "path"); got != path {
					t.Errorf("%s path %q, want %s", probe, got, path)
				}
				if got := probePort(probe); got != "3000" {
					t.Errorf("%s port %q, want 3000 (MARIA_HTTP_ADDR)", probe, got)
				}
			}
			for _, kind := range []string{"requests", "limits"} {
				for _, r := range []string{"cpu", "memory"} {
					if str(c, "resources", kind, r) == "" {
						t.Errorf("resources.%s.%s missing", kind, r)
					}
				}
			}
			sc, _ := get(c, "securityContext")
			for path, want := range map[string]string{
				"runAsNonRoot": "true", "readOnlyRootFilesystem": "true", "allowPrivilegeEscalation": "false",
			} {
				if got := str(sc, path); got != want {
					t.Errorf("container securityContext.%s = %q, want %s", path, got, want)
				}
			}
			if drop := strs(sc, "capabilities", "drop"); !contains(drop, "ALL") {
				t.Errorf("capabilities.drop %v, want ALL", drop)
			}
			if str(pod, "securityContext", "runAsNonRoot") != "true" {
				t.Error("pod securityContext.runAsNonRoot is not true")
			}
			for _, where := range []any{sc, mustGet(t, pod, "securityContext")} {
				if uid := str(where, "runAsUser"); uid != "" && uid != dockerUID {
					t.Errorf("runAsUser %s differs from the image's USER %s", uid, dockerUID)
				}
			}
			if str(pod, "securityContext", "seccompProfile", "type") != "RuntimeDefault" {
				t.Error("seccompProfile is not RuntimeDefault")
			}
			// Writable paths are volumes (the root filesystem is read-only).
			mounts := map[string]bool{}
			for _, m := range list(c, "volumeMounts") {
				mounts[str(m, "mountPath")] = true
			}
			if !mounts["/tmp"] || !mounts["/data"] {
				t.Errorf("mounts %v: want /tmp and /data volumes", sortedKeys(mounts))
			}
			// Configuration: the ConfigMap, its own NATS credentials, existing secrets.
			for _, ef := range list(c, "envFrom") {
				if cm := str(ef, "configMapRef", "name"); cm != "" && configMaps[cm] == nil {
					t.Errorf("envFrom ConfigMap %s does not exist", cm)
				}
			}
			env := map[string]any{}
			for _, e := range list(c, "env") {
				env[str(e, "name")] = e
				if ref := str(e, "valueFrom", "secretKeyRef", "name"); ref != "" && !secrets[ref] {
					t.Errorf("env %s: Secret %s is produced by no ExternalSecret", str(e, "name"), ref)
				}
			}
			if str(env["MARIA_SERVICE_NAME"], "value") != svc {
				t.Errorf("MARIA_SERVICE_NAME is not %s", svc)
			}
			credsSecret := ""
			for _, v := range list(pod, "volumes") {
				if str(v, "name") == "nats-creds" {
					credsSecret = str(v, "secret", "secretName")
				}
			}
			if credsSecret != "maria-nats-"+svc || !secrets[credsSecret] {
				t.Errorf("NATS credentials from Secret %q, want maria-nats-%s (an ExternalSecret)", credsSecret, svc)
			}
			if !strings.HasPrefix(str(env["NATS_CREDS"], "value"), "/etc/maria/nats/") {
				t.Error("NATS_CREDS does not point into the mounted credentials")
			}
			if sa := str(pod, "serviceAccountName"); sas[sa] == nil {
				t.Errorf("ServiceAccount %q does not exist", sa)
			}
			// Disruption budget and autoscaling.
			labels := mustGet(t, d, "spec", "template", "metadata", "labels")
			var pdb map[string]any
			for _, p := range pdbs {
				if selectorMatches(mustGet(t, p, "spec", "selector", "matchLabels"), labels) {
					pdb = p
				}
			}
			if pdb == nil {
				t.Error("no PodDisruptionBudget selects its pods")
			}
			var hpa map[string]any
			for _, h := range hpas {
				if str(h, "spec", "scaleTargetRef", "kind") == "Deployment" && str(h, "spec", "scaleTargetRef", "name") == name {
					hpa = h
				}
			}
			singleton := str(d, "metadata", "annotations", "maria.dev/singleton") != ""
			switch {
			case hpa != nil && singleton:
				t.Error("both an HPA and the singleton annotation")
			case hpa == nil && !singleton:
				t.Error("no HorizontalPodAutoscaler (or maria.dev/singleton annotation with the reason)")
			case singleton:
				if str(d, "spec", "replicas") != "1" || str(d, "spec", "strategy", "rollingUpdate", "maxSurge") != "0" {
					t.Error("a singleton needs replicas 1 and maxSurge 0 (never two pods)")
				}
			default:
				minR, _ := strconv.Atoi(str(hpa, "spec", "minReplicas"))
				maxR, _ := strconv.Atoi(str(hpa, "spec", "maxReplicas"))
				if minR < 2 || maxR <= minR {
					t.Errorf("HPA min %d max %d: want min ≥ 2 < max", minR, maxR)
				}
				hasCPU := false
				for _, m := range list(hpa, "spec", "metrics") {
					hasCPU = hasCPU || str(m, "resource", "name") == "cpu"
				}
				if !hasCPU {
					t.Error("HPA does not scale on CPU")
				}
				if pdb != nil && str(pdb, "spec", "minAvailable") == "" && str(pdb, "spec", "maxUnavailable") == "" {
					t.Error("PDB sets neither minAvailable nor maxUnavailable")
				}
			}
		})
	}
}

func mustGet(t *testing.T, v any, path ...any) any {
	t.Helper()
	x, ok := get(v, path...)
	if !ok {
		t.Fatalf("missing %v", path)
	}
	return x
}

// dockerfileUID is the uid of the image's final USER.
func dockerfileUID(t *testing.T) string {
	stages, err := parseDockerfile(string(readFile(t, "infra", "docker", "Dockerfile")))
	if err != nil {
		t.Fatal(err)
	}
	uid := ""
	for _, in := range stages[len(stages)-1].instructions {
		if in.cmd == "USER" {
			uid, _, _ = strings.Cut(in.args, ":")
		}
	}
	return uid
}

// TestK8sIngressExposesOnlySlack: the public Ingress routes exactly the Slack
// endpoints to the ingress Service, which selects the ingress pods.
func TestK8sIngressExposesOnlySlack(t *testing.T) {
	objs := k8sObjects(t)
	svc := byKind(objs, "Service")["maria-ingress"]
	if svc == nil {
		t.Fatal("no Service maria-ingress")
	}
	dep := byKind(objs, "Deployment")["maria-ingress"]
	if !selectorMatches(mustGet(t, svc, "spec", "selector"), mustGet(t, dep, "spec", "template", "metadata", "labels")) {
		t.Error("Service maria-ingress does not select the ingress pods")
	}
	var paths []string
	for _, ing := range byKind(objs, "Ingress") {
		for _, r := range list(ing, "spec", "rules") {
			for _, p := range list(r, "http", "paths") {
				paths = append(paths, str(p, "path"))
				if str(p, "backend", "service", "name") != "maria-ingress" {
					t.Errorf("path %s routes to %s", str(p, "path"), str(p, "backend", "service", "name"))
				}
			}
		}
		if len(list(ing, "spec", "tls")) == 0 {
			t.Error("Ingress without TLS")
		}
	}
	sort.Strings(paths)
	if strings.Join(paths, " ") != "/slack/commands /slack/events /slack/interactions" {
		t.Errorf("public paths %v: want exactly the three Slack endpoints", paths)
	}
}

// TestK8sLagAutoscaling: the component adds maria_consumer_pending for
// consumers Maria declares, to HPAs that exist.
func TestK8sLagAutoscaling(t *testing.T) {
	hpas := byKind(k8sObjects(t), "HorizontalPodAutoscaler")
	comp := loadYAML(t, "infra", "k8s", "components", "lag-autoscaling", "kustomization.yaml")[0]
	if str(comp, "kind") != "Component" {
		t.Fatalf("kind %q, want Component", str(comp, "kind"))
	}
	declared := map[string]bool{}
	for _, c := range schemas.Consumers {
		declared[c.Durable] = true
	}
	patches := list(comp, "patches")
	if len(patches) == 0 {
		t.Fatal("no patches")
	}
	for _, p := range patches {
		target := str(p, "target", "name")
		if hpas[target] == nil {
			t.Errorf("patch targets HPA %s, which does not exist", target)
		}
		docs, err := decodeYAMLDocs([]byte("ops: " + indentYAML(str(p, "patch"))))
		if err != nil {
			t.Fatalf("%s: patch: %v", target, err)
		}
		op := list(docs[0], "ops")
		if len(op) != 1 || str(op[0], "path") != "/spec/metrics/-" {
			t.Fatalf("%s: want one op adding to /spec/metrics", target)
		}
		if n := str(op[0], "value", "external", "metric", "name"); n != "maria_consumer_pending" {
			t.Errorf("%s: metric %q", target, n)
		}
		consumer := str(op[0], "value", "external", "metric", "selector", "matchLabels", "consumer")
		if !declared[consumer] {
			t.Errorf("%s: consumer %q is not declared in schemas.Consumers", target, consumer)
		}
	}
}

func indentYAML(s string) string {
	return "\n  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// TestNATSHelmValues: 3 servers, JetStream file storage, a message size that
// fits the largest stream message, and the replicas Maria's streams use.
func TestNATSHelmValues(t *testing.T) {
	v := loadYAML(t, "infra", "k8s", "nats-values.yaml")[0]
	for path, want := range map[string]string{
		"cluster.enabled": "true", "cluster.replicas": "3", "jetstream.enabled": "true",
		"jetstream.fileStore.enabled": "true", "jetstream.fileStore.pvc.enabled": "true",
	} {
		p := []any{"config"}
		for _, k := range strings.Split(path, ".") {
			p = append(p, k)
		}
		if got := str(v, p...); got != want {
			t.Errorf("config.%s = %q, want %s", path, got, want)
		}
	}
	maxPayload, _ := strconv.Atoi(str(v, "config", "merge", "max_payload"))
	for _, s := range schemas.Streams {
		if int(s.MaxMsgSize) > maxPayload {
			t.Errorf("stream %s accepts %d-byte messages but max_payload is %d", s.Name, s.MaxMsgSize, maxPayload)
		}
	}
	// Every server of an R3 cluster holds a replica of every stream, so each
	// must have room for all the streams' reservations: JetStream refuses a
	// stream whose MaxBytes does not fit ("insufficient storage resources").
	var reserved int64
	for _, s := range schemas.Streams {
		reserved += s.MaxBytes
	}
	maxSize := parseSize(t, str(v, "config", "jetstream", "fileStore", "maxSize"))
	pvc := parseSize(t, str(v, "config", "jetstream", "fileStore", "pvc", "size"))
	if maxSize < reserved {
		t.Errorf("jetstream.fileStore.maxSize %d bytes is less than the %d bytes Maria's streams reserve", maxSize, reserved)
	}
	if pvc <= maxSize {
		t.Errorf("jetstream.fileStore.pvc.size %d bytes leaves no headroom above maxSize %d", pvc, maxSize)
	}
	for _, conf := range []string{"nats-server.conf", "cluster.conf"} {
		m := regexp.MustCompile(`max_file_store:\s*(\S+)`).FindSubmatch(readFile(t, "infra", "nats", conf))
		if m == nil {
			t.Errorf("infra/nats/%s sets no max_file_store", conf)
			continue
		}
		if got := parseSize(t, string(m[1])); got < reserved {
			t.Errorf("infra/nats/%s: max_file_store %d bytes is less than the %d bytes Maria's streams reserve", conf, got, reserved)
		}
	}
	cm := byKind(k8sObjects(t), "ConfigMap")["maria-config"]
	if got := str(cm, "data", "MARIA_STREAM_REPLICAS"); got != str(v, "config", "cluster", "replicas") {
		t.Errorf("MARIA_STREAM_REPLICAS %q differs from the cluster's %s servers", got, str(v, "config", "cluster", "replicas"))
	}
}

// TestNATSHelmValuesAuth: the chart's configuration carries Maria's users
// with exactly the permissions of infra/nats/accounts.conf (rendered the
// way the chart renders config.merge: JSON, << X >> unquoted), their
// public keys from ConfigMap maria-nats-users, and a TLS section.
func TestNATSHelmValuesAuth(t *testing.T) {
	v := loadYAML(t, "infra", "k8s", "nats-values.yaml")[0]
	merge, ok := get(v, "config", "merge")
	if !ok {
		t.Fatal("no config.merge")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(merge); err != nil {
		t.Fatal(err)
	}
	rendered := regexp.MustCompile(`"<< *(.*?) *>>"`).ReplaceAll(buf.Bytes(), []byte("$1"))

	// Each user's key comes from the ConfigMap, named after the user.
	env, _ := get(v, "container", "env")
	byKey := map[string]string{}
	for _, m := range regexp.MustCompile(`\$([A-Z][A-Z0-9]*)_NKEY`).FindAllStringSubmatch(string(rendered), -1) {
		user := strings.ToLower(m[1])
		ref := fmt.Sprintf("%s_NKEY", m[1])
		if str(env, ref, "valueFrom", "configMapKeyRef", "name") != "maria-nats-users" || str(env, ref, "valueFrom", "configMapKeyRef", "key") != user {
			t.Errorf("container.env.%s does not read key %q of ConfigMap maria-nats-users", ref, user)
		}
		kp, err := nkeys.CreateUser()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := kp.PublicKey()
		t.Setenv(ref, pub)
		byKey[pub] = user
	}
	path := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(path, rendered, 0o600); err != nil {
		t.Fatal(err)
	}
	helm, err := natsconf.Users(path)
	if err != nil {
		t.Fatalf("config.merge does not parse as a NATS configuration: %v", err)
	}

	for _, pw := range passwordVars("SYS") {
		t.Setenv(pw+"_PASSWORD", "x")
	}
	conf, err := natsconf.Users(filepath.Join(repoRoot(t), "infra", "nats", "nats-server.conf"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for pub, perms := range helm {
		user := byKey[pub]
		seen[user] = true
		want, ok := conf[user]
		if !ok {
			t.Errorf("helm user %q is not in accounts.conf", user)
			continue
		}
		for _, d := range natsconf.Diff("accounts.conf", want, "nats-values.yaml", perms) {
			t.Errorf("%s: %s", user, d)
		}
	}
	for user := range conf {
		if !seen[user] {
			t.Errorf("accounts.conf user %q is missing from the helm values", user)
		}
	}
	if !strings.Contains(string(rendered), `"jetstream":"enabled"`) {
		t.Error("account MARIA has no JetStream")
	}

	for _, p := range [][]any{{"config", "nats", "tls"}, {"config", "cluster", "tls"}} {
		if str(v, append(p, "secretName")...) == "" {
			t.Errorf("%v: no TLS section with a secretName", p)
		}
	}
}

// parseSize reads a Kubernetes quantity (18Gi) or a nats-server size (50GB):
// binary suffixes Ki/Mi/Gi/Ti, and nats-server's K/M/G/T (with or without a
// trailing B), which it also counts in powers of 1024.
func parseSize(t *testing.T, s string) int64 {
	t.Helper()
	m := regexp.MustCompile(`^(\d+)\s*([KMGT]?)(i|B)?$`).FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		t.Fatalf("size %q: want a number with an optional K/M/G/T suffix", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	shift := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m[2]]
	return n << shift
}

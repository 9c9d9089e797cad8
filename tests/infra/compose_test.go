package infra

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestComposeStack: a 3-node JetStream cluster and one container per
// registered service (scaled ai), each healthy-gated on every NATS node.
func TestComposeStack(t *testing.T) {
	docs := loadYAML(t, "infra", "docker", "compose.yaml")
	if len(docs) != 1 {
		t.Fatalf("compose.yaml: %d documents, want 1", len(docs))
	}
	services, ok := docs[0]["services"].(map[string]any)
	if !ok {
		t.Fatal("compose.yaml: no services")
	}
	var natsNodes, maria []string
	for name, svc := range services {
		if strings.HasPrefix(str(svc, "image"), "nats:") {
			natsNodes = append(natsNodes, name)
		} else {
			maria = append(maria, name)
		}
	}
	sort.Strings(natsNodes)
	sort.Strings(maria)

	if len(natsNodes) != 3 {
		t.Fatalf("NATS nodes %v: want a 3-node cluster", natsNodes)
	}
	for _, n := range natsNodes {
		cmd := strings.Join(strs(services[n], "command"), " ")
		for _, want := range []string{"--jetstream", "--cluster_name=", "--cluster=nats://", "--name=" + n} {
			if !strings.Contains(cmd, want) {
				t.Errorf("%s: command %q lacks %s", n, cmd, want)
			}
		}
		for _, peer := range natsNodes {
			if !strings.Contains(cmd, "nats://"+peer+":6222") {
				t.Errorf("%s: routes do not include %s", n, peer)
			}
		}
		if len(list(services[n], "healthcheck", "test")) == 0 {
			t.Errorf("%s: no healthcheck", n)
		}
	}

	missing, extra := diffSets(deployedServices(t), maria)
	if len(missing) > 0 {
		t.Errorf("registered services without a compose container: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("compose containers that are not registered services (maria run would refuse them): %v", extra)
	}

	for _, name := range maria {
		svc := services[name]
		if got := strs(svc, "command"); strings.Join(got, " ") != "run "+name {
			t.Errorf("%s: command %q, want [run %s]", name, got, name)
		}
		if str(svc, "build", "dockerfile") != "infra/docker/Dockerfile" {
			t.Errorf("%s: not built from infra/docker/Dockerfile", name)
		}
		if hc := strs(svc, "healthcheck", "test"); len(hc) == 0 {
			t.Errorf("%s: no healthcheck", name)
		}
		for _, n := range natsNodes {
			if str(svc, "depends_on", n, "condition") != "service_healthy" {
				t.Errorf("%s: does not wait for %s to be healthy", name, n)
			}
		}
		env, _ := get(svc, "environment")
		url := str(env, "NATS_URL")
		for _, n := range natsNodes {
			if !strings.Contains(url, "nats://"+n+":4222") {
				t.Errorf("%s: NATS_URL %q lacks %s", name, url, n)
			}
		}
		if str(env, "MARIA_STREAM_REPLICAS") != fmt.Sprint(len(natsNodes)) {
			t.Errorf("%s: MARIA_STREAM_REPLICAS=%q, want %d (R3 on the cluster)", name, str(env, "MARIA_STREAM_REPLICAS"), len(natsNodes))
		}
		if str(env, "MARIA_SERVICE_NAME") != name {
			t.Errorf("%s: MARIA_SERVICE_NAME=%q", name, str(env, "MARIA_SERVICE_NAME"))
		}
		uid, _, _ := strings.Cut(str(svc, "user"), ":")
		if uid == "" || uid == "0" || uid == "root" {
			t.Errorf("%s: user %q, want non-root", name, str(svc, "user"))
		}
		if str(svc, "read_only") != "true" || !contains(strs(svc, "cap_drop"), "ALL") {
			t.Errorf("%s: want read_only and cap_drop [ALL]", name)
		}
	}
	if r, _ := strconv.Atoi(str(services["ai"], "deploy", "replicas")); r < 2 {
		t.Errorf("ai: deploy.replicas %d, want ≥ 2 (scaled processor)", r)
	}
}

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
		switch {
		case strings.HasPrefix(str(svc, "image"), "nats:"):
			natsNodes = append(natsNodes, name)
		case name != "declare-streams":
			maria = append(maria, name)
		}
	}
	sort.Strings(natsNodes)
	sort.Strings(maria)

	if len(natsNodes) != 3 {
		t.Fatalf("NATS nodes %v: want a 3-node cluster", natsNodes)
	}
	for _, n := range natsNodes {
		// The cluster runs infra/nats (its users and permissions), mounted read-only.
		if cmd := strings.Join(strs(services[n], "command"), " "); cmd != "-c /etc/nats/cluster.conf" {
			t.Errorf("%s: command %q, want -c /etc/nats/cluster.conf (infra/nats, no anonymous access)", n, cmd)
		}
		if !contains(strs(services[n], "volumes"), "../nats:/etc/nats:ro") {
			t.Errorf("%s: infra/nats is not mounted read-only on /etc/nats", n)
		}
		env, _ := get(services[n], "environment")
		if str(env, "NATS_SERVER_NAME") != n {
			t.Errorf("%s: NATS_SERVER_NAME=%q", n, str(env, "NATS_SERVER_NAME"))
		}
		var routes []string
		for i := range natsNodes {
			routes = append(routes, str(env, fmt.Sprintf("NATS_ROUTE_%d", i)))
		}
		for _, peer := range natsNodes {
			want := "nats-route://route:${ROUTE_PASSWORD}@" + peer + ":6222"
			if !contains(routes, want) {
				t.Errorf("%s: routes %v lack %s", n, routes, want)
			}
		}
		for _, v := range passwordVars("SYS", "ROUTE") {
			// ${X:?...}: compose refuses to start with the password unset.
			if got := str(env, v+"_PASSWORD"); !strings.HasPrefix(got, "${"+v+"_PASSWORD:?") {
				t.Errorf("%s: %s_PASSWORD=%q, want a required ${%s_PASSWORD:?...}", n, v, got, v)
			}
		}
		if len(list(services[n], "healthcheck", "test")) == 0 {
			t.Errorf("%s: no healthcheck", n)
		}
	}

	// Host ports: loopback only, whoever publishes them.
	for name, svc := range services {
		for _, p := range strs(svc, "ports") {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s: port %q is published on every interface, want 127.0.0.1:...", name, p)
			}
		}
	}
	if !contains(strs(services["nats-1"], "ports"), "127.0.0.1:4222:4222") {
		t.Error("nats-1: client port 4222 not published on 127.0.0.1 (operator commands on the host)")
	}

	// The operator declares the streams once; services wait for it.
	ds := services["declare-streams"]
	if got := strings.Join(strs(ds, "command"), " "); got != "streams --declare" {
		t.Errorf("declare-streams: command %q, want [streams --declare]", got)
	}
	dsEnv, _ := get(ds, "environment")
	natsUser(t, "declare-streams", str(dsEnv, "NATS_URL"), "operator", natsNodes)

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
		if str(svc, "depends_on", "declare-streams", "condition") != "service_completed_successfully" {
			t.Errorf("%s: does not wait for declare-streams", name)
		}
		env, _ := get(svc, "environment")
		natsUser(t, name, str(env, "NATS_URL"), name, natsNodes)
		if str(env, "MARIA_DECLARE_STREAMS") != "false" {
			t.Errorf("%s: MARIA_DECLARE_STREAMS=%q, want false (a least-privilege user cannot)", name, str(env, "MARIA_DECLARE_STREAMS"))
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

// natsUser checks that a NATS_URL lists every node, each time as user with
// that user's password variable (never the operator's for a service).
func natsUser(t *testing.T, svc, urls, user string, nodes []string) {
	t.Helper()
	parts := strings.Split(urls, ",")
	if len(parts) != len(nodes) {
		t.Errorf("%s: NATS_URL %q, want one URL per node %v", svc, urls, nodes)
		return
	}
	for i, n := range nodes {
		want := "nats://" + user + ":${" + strings.ToUpper(user) + "_PASSWORD}@" + n + ":4222"
		if parts[i] != want {
			t.Errorf("%s: NATS_URL entry %q, want %q", svc, parts[i], want)
		}
	}
}

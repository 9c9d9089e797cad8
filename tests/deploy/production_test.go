package deploy

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/resmap"
)

// Every overlay renders, in its own namespace, with every base object.
func TestOverlaysRender(t *testing.T) {
	base := render(t, "")
	for overlay, ns := range map[string]string{"staging": "maria-staging", "production": "maria"} {
		m := render(t, overlay)
		if !has(m, "Namespace", ns) {
			t.Errorf("%s: no Namespace %s", overlay, ns)
		}
		for _, r := range base.Resources() {
			if r.GetKind() != "Namespace" && !has(m, r.GetKind(), r.GetName()) {
				t.Errorf("%s: %s %s of the base is missing", overlay, r.GetKind(), r.GetName())
			}
		}
		for _, r := range m.Resources() {
			if r.GetKind() != "Namespace" && r.GetNamespace() != ns {
				t.Errorf("%s: %s %s in namespace %q, want %s", overlay, r.GetKind(), r.GetName(), r.GetNamespace(), ns)
			}
		}
	}
}

// What production has and staging does not: more replicas and headroom,
// disruption budgets that hold, backups, CloudWatch in both, its own NATS
// cluster and log level.
func TestProductionDiffersFromStaging(t *testing.T) {
	prod, stag := render(t, "production"), render(t, "staging")
	for _, svc := range []string{"maria-ingress", "maria-ai", "maria-erp", "maria-storage"} {
		p := num(at(find(t, prod, "Deployment", svc), "spec", "replicas"))
		s := num(at(find(t, stag, "Deployment", svc), "spec", "replicas"))
		if s != 1 || p < 2 {
			t.Errorf("%s replicas: production %d (want ≥ 2), staging %d (want 1)", svc, p, s)
		}
		ph := find(t, prod, "HorizontalPodAutoscaler", svc)
		sh := find(t, stag, "HorizontalPodAutoscaler", svc)
		if num(at(ph, "spec", "maxReplicas")) <= num(at(sh, "spec", "maxReplicas")) || num(at(ph, "spec", "minReplicas")) < 2 {
			t.Errorf("%s HPA: production %v-%v, staging %v-%v", svc, at(ph, "spec", "minReplicas"), at(ph, "spec", "maxReplicas"),
				at(sh, "spec", "minReplicas"), at(sh, "spec", "maxReplicas"))
		}
	}
	if got := num(at(find(t, prod, "Deployment", "maria-ai"), "spec", "replicas")); got != 3 {
		t.Errorf("production ai replicas %d, want 3", got)
	}
	if got := at(find(t, prod, "Deployment", "maria-ai"), "spec", "template", "spec", "containers", 0, "resources", "limits", "memory"); got != "1Gi" {
		t.Errorf("production ai memory limit %v, want 1Gi", got)
	}
	if got := num(at(find(t, prod, "PodDisruptionBudget", "maria-ingress"), "spec", "minAvailable")); got != 1 {
		t.Errorf("production ingress PDB minAvailable %d, want 1", got)
	}
	if got := at(find(t, stag, "PodDisruptionBudget", "maria-ingress"), "spec", "minAvailable"); got != nil {
		t.Errorf("staging ingress PDB minAvailable %v: one replica, drains would block", got)
	}
	pc, sc := find(t, prod, "ConfigMap", "maria-config"), find(t, stag, "ConfigMap", "maria-config")
	if at(pc, "data", "MARIA_LOG_LEVEL") != "info" || at(sc, "data", "MARIA_LOG_LEVEL") != "debug" {
		t.Errorf("log levels: production %v, staging %v", at(pc, "data", "MARIA_LOG_LEVEL"), at(sc, "data", "MARIA_LOG_LEVEL"))
	}
	pn, sn := at(pc, "data", "NATS_URL").(string), at(sc, "data", "NATS_URL").(string)
	if pn == sn || !strings.Contains(sn, "staging") {
		t.Errorf("NATS_URL: production %q, staging %q: staging must use its own cluster", pn, sn)
	}
	if !has(prod, "CronJob", "maria-backup") || has(stag, "CronJob", "maria-backup") {
		t.Error("the backup CronJob belongs to production only")
	}
	for name, m := range map[string]resmap.ResMap{"production": prod, "staging": stag} {
		if !has(m, "Deployment", "maria-otel-collector") {
			t.Errorf("%s has no CloudWatch collector", name)
		}
	}
	// lag autoscaling: production's processors scale on maria_consumer_pending too
	if metrics, _ := at(find(t, prod, "HorizontalPodAutoscaler", "maria-ai"), "spec", "metrics").([]any); len(metrics) < 2 {
		t.Errorf("production ai HPA metrics %v, want CPU and consumer lag", metrics)
	}
}

// The backup CronJob runs `maria backup --s3` with the operator credentials.
func TestBackupCronJob(t *testing.T) {
	cj := find(t, render(t, "production"), "CronJob", "maria-backup")
	c := at(cj, "spec", "jobTemplate", "spec", "template", "spec", "containers", 0)
	args, _ := at(c, "args").([]any)
	if len(args) < 3 || args[0] != "backup" || args[1] != "--s3" || !strings.HasPrefix(args[2].(string), "s3://") {
		t.Errorf("CronJob args %v, want backup --s3 s3://...", args)
	}
	if at(cj, "spec", "concurrencyPolicy") != "Forbid" {
		t.Error("two backups may overlap")
	}
	creds := ""
	for _, v := range at(cj, "spec", "jobTemplate", "spec", "template", "spec", "volumes").([]any) {
		if s := at(v, "secret", "secretName"); s != nil {
			creds = s.(string)
		}
	}
	if creds != "maria-nats-operator" {
		t.Errorf("backup reads NATS credentials from %q, want the operator's", creds)
	}
}

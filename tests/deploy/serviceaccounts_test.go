package deploy

import (
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/resmap"
)

const roleAnnotation = "eks.amazonaws.com/role-arn"

// irsaRoles: the ServiceAccounts infra/aws gives an IAM role (IRSA), and
// the role's name suffix there (<name_prefix>-<environment>-<suffix>).
// ai and erp have no AWS identity; the backup runs in production only.
var irsaRoles = map[string]string{
	"maria-ingress":          "ingress",
	"maria-egress":           "egress",
	"maria-storage":          "storage",
	"maria-external-secrets": "external-secrets",
	"maria-otel-collector":   "collector",
	"maria-backup":           "backup",
}

// overlayEnvironments: each overlay's Terraform environment (the middle of
// its role names).
var overlayEnvironments = map[string]string{"production": "prod", "staging": "staging"}

// roleProblems lists what is wrong with the role annotations of an
// overlay's ServiceAccounts: every ServiceAccount infra/aws gives a role
// carries its own environment's role, no other carries one.
func roleProblems(m resmap.ResMap, env string) []string {
	var probs []string
	for _, r := range m.Resources() {
		if r.GetKind() != "ServiceAccount" {
			continue
		}
		name, arn := r.GetName(), r.GetAnnotations()[roleAnnotation]
		suffix, hasRole := irsaRoles[name]
		switch {
		case !hasRole && arn != "":
			probs = append(probs, name+" has role "+arn+": infra/aws gives it no AWS identity")
		case hasRole && arn == "":
			probs = append(probs, name+" has no "+roleAnnotation+": its IRSA role never takes effect")
		case hasRole:
			want := regexp.MustCompile(`^arn:aws:iam::(ACCOUNT_ID|[0-9]{12}):role/[a-z0-9-]+-` + regexp.QuoteMeta(env+"-"+suffix) + `$`)
			if !want.MatchString(arn) || strings.Contains(arn, "000000000000") {
				probs = append(probs, name+" has role "+arn+", want "+want.String())
			}
		}
	}
	return probs
}

// Each overlay's ServiceAccounts carry the roles of its own environment's
// Terraform apply: the base's placeholders (and production's roles in
// staging) would leave the services without AWS access.
func TestServiceAccountRoles(t *testing.T) {
	arns := map[string]map[string]string{}
	for overlay, env := range overlayEnvironments {
		m := render(t, overlay)
		for _, p := range roleProblems(m, env) {
			t.Errorf("%s: %s", overlay, p)
		}
		arns[overlay] = map[string]string{}
		for sa := range irsaRoles {
			if has(m, "ServiceAccount", sa) {
				arns[overlay][sa], _ = at(find(t, m, "ServiceAccount", sa), "metadata", "annotations", roleAnnotation).(string)
			}
		}
	}
	for _, sa := range []string{"maria-ingress", "maria-egress", "maria-storage", "maria-external-secrets", "maria-otel-collector"} {
		if arns["staging"][sa] == "" || arns["staging"][sa] == arns["production"][sa] {
			t.Errorf("%s: staging role %q, production %q: each environment has its own", sa, arns["staging"][sa], arns["production"][sa])
		}
	}
	if arns["production"]["maria-backup"] == "" {
		t.Error("production's backup CronJob has no ServiceAccount role")
	}
}

// The check fails the overlays it must: the base's placeholders, another
// environment's roles, a role on a service with no AWS identity.
func TestRoleProblemsCatches(t *testing.T) {
	base := render(t, "")
	if probs := roleProblems(base, "prod"); len(probs) == 0 {
		t.Error("the base's placeholder roles (000000000000, no environment) were accepted")
	}
	if probs := roleProblems(render(t, "production"), "staging"); len(probs) == 0 {
		t.Error("production's roles were accepted for staging")
	}
	stag := render(t, "staging")
	for _, r := range stag.Resources() {
		if r.GetKind() == "ServiceAccount" && r.GetName() == "maria-ai" {
			if err := r.SetAnnotations(map[string]string{roleAnnotation: "arn:aws:iam::ACCOUNT_ID:role/maria-staging-ai"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if probs := roleProblems(stag, "staging"); len(probs) != 1 || !strings.HasPrefix(probs[0], "maria-ai ") {
		t.Errorf("a role on maria-ai: problems %v, want exactly that one", probs)
	}
}

// deployable: the API groups the deploy workflow's role may write in its
// namespace (infra/aws/deploy.tf): what AmazonEKSAdminPolicy covers, plus
// the External Secrets Operator's resources through the maria-deployers
// group's RoleBinding. Nothing cluster-scoped but the Namespace, which it
// only reads (created once by an administrator).
var deployable = map[string]bool{
	"": true, "apps": true, "batch": true, "autoscaling": true, "policy": true,
	"networking.k8s.io": true, "rbac.authorization.k8s.io": true, "external-secrets.io": true,
}

// Every object an overlay renders is one the deploy role can apply: a new
// kind (a CRD, a ClusterRole) would fail the deploy on its first apply.
func TestOverlaysFitTheDeployRole(t *testing.T) {
	for overlay := range overlayEnvironments {
		for _, r := range render(t, overlay).Resources() {
			gvk := r.GetGvk()
			if !deployable[gvk.Group] {
				t.Errorf("%s: %s %s (group %q) is beyond the deploy role's access (infra/aws/deploy.tf)", overlay, gvk.Kind, r.GetName(), gvk.Group)
			}
			if gvk.IsClusterScoped() && gvk.Kind != "Namespace" {
				t.Errorf("%s: %s %s is cluster-scoped; the deploy role's access is the namespace's", overlay, gvk.Kind, r.GetName())
			}
		}
	}
}

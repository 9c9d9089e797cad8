package infra

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// The deploy workflow's role (infra/aws/deploy.tf): trusted through
// GitHub's OIDC provider by one repository's deploy jobs in the staging or
// production environment only.

const githubOIDCHost = "token.actions.githubusercontent.com"

// tfEval evaluates an expression against the given variables and the
// module's literal locals, with the functions the checked expressions use.
func tfEval(m *tfModule, e hclsyntax.Expression, vars map[string]cty.Value) (cty.Value, error) {
	locals := map[string]cty.Value{}
	for name, a := range m.locals {
		if v, ok := literal(a.Expr); ok {
			locals[name] = v
		}
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vars), "local": cty.ObjectVal(locals)},
		Functions: map[string]function.Function{
			"length": stdlib.LengthFunc, "setsubtract": stdlib.SetSubtractFunc,
			"regex": stdlib.RegexFunc, "can": tryfunc.CanFunc,
		},
	}
	v, diags := e.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s", diags.Error())
	}
	return v, nil
}

func stringSet(vals ...string) cty.Value {
	if len(vals) == 0 {
		return cty.SetValEmpty(cty.String)
	}
	var out []cty.Value
	for _, v := range vals {
		out = append(out, cty.StringVal(v))
	}
	return cty.SetVal(out)
}

// strings of a list, tuple or set value, sorted.
func valueStrings(v cty.Value) []string {
	var out []string
	if v.IsNull() || !v.CanIterateElements() {
		return nil
	}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.Type().Equals(cty.String) && e.IsKnown() && !e.IsNull() {
			out = append(out, e.AsString())
		}
	}
	slices.Sort(out)
	return out
}

// validationAccepts evaluates a variable's validation conditions for a value.
func validationAccepts(m *tfModule, variable string, value cty.Value) (bool, error) {
	vb := m.variables[variable]
	if vb == nil {
		return false, fmt.Errorf("variable %s is missing", variable)
	}
	validations := blocks(vb, "validation")
	if len(validations) == 0 {
		return true, nil
	}
	for _, val := range validations {
		v, err := tfEval(m, attr(val, "condition"), map[string]cty.Value{variable: value})
		if err != nil {
			return false, err
		}
		if !v.True() {
			return false, nil
		}
	}
	return true, nil
}

// deployTrustProblems lists what opens the deploy role beyond the deploy
// jobs of one repository in the staging and production environments.
func deployTrustProblems(m *tfModule) []string {
	var probs []string
	if got := literalString(attr(m.variables["github_repository"], "default")); got != "" {
		probs = append(probs, fmt.Sprintf("github_repository default %q: the role must exist only when a repository is named", got))
	}
	if got := literalString(m.locals["github_oidc_host"].Expr); got != githubOIDCHost {
		probs = append(probs, fmt.Sprintf("local.github_oidc_host %q, want %s", got, githubOIDCHost))
	}
	// The repository and the environments the variables can ever hold.
	for _, c := range []struct {
		variable string
		value    cty.Value
		want     bool
	}{
		{"github_repository", cty.StringVal("acme/maria"), true},
		{"github_repository", cty.StringVal(""), true},
		{"github_repository", cty.StringVal("acme/*"), false},
		{"github_repository", cty.StringVal("*"), false},
		{"github_repository", cty.StringVal("acme/maria:environment:dev"), false},
		{"github_environments", stringSet("staging"), true},
		{"github_environments", stringSet("production", "staging"), true},
		{"github_environments", stringSet("dev"), false},
		{"github_environments", stringSet("staging", "*"), false},
		{"github_environments", stringSet("production", "ref:refs/heads/main"), false},
	} {
		ok, err := validationAccepts(m, c.variable, c.value)
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s validation: %v", c.variable, err))
		} else if ok != c.want {
			probs = append(probs, fmt.Sprintf("%s = %s: accepted %v, want %v", c.variable, c.value.GoString(), ok, c.want))
		}
	}

	doc := m.data["aws_iam_policy_document"]["deploy_trust"]
	stmts := blocks(doc, "statement")
	if len(stmts) != 1 {
		return append(probs, fmt.Sprintf("deploy_trust: %d statements, want 1", len(stmts)))
	}
	s := stmts[0]
	var actions []string
	for _, a := range elems(attr(s, "actions")) {
		actions = append(actions, literalString(a))
	}
	if strings.Join(actions, ",") != "sts:AssumeRoleWithWebIdentity" {
		probs = append(probs, fmt.Sprintf("deploy_trust actions %v, want only sts:AssumeRoleWithWebIdentity", actions))
	}
	p := block(s, "principals")
	if literalString(attr(p, "type")) != "Federated" || strings.Join(refs(attr(p, "identifiers")), ",") != "local.github_oidc_provider_arn" {
		probs = append(probs, "deploy_trust principal is not the GitHub OIDC provider (local.github_oidc_provider_arn)")
	}
	providerRefs := refs(m.locals["github_oidc_provider_arn"].Expr)
	if !slices.Contains(providerRefs, "aws_iam_openid_connect_provider.github") || !slices.Contains(providerRefs, "var.github_oidc_provider_arn") {
		probs = append(probs, fmt.Sprintf("local.github_oidc_provider_arn = %v, want the created provider or var.github_oidc_provider_arn", providerRefs))
	}

	// Every condition, evaluated for a repository and both environments.
	vars := map[string]cty.Value{
		"github_repository":   cty.StringVal("acme/maria"),
		"github_environments": stringSet("production", "staging"),
	}
	conditions := map[string][]string{}
	for _, c := range blocks(s, "condition") {
		variable, err := tfEval(m, attr(c, "variable"), vars)
		if err != nil {
			probs = append(probs, fmt.Sprintf("deploy_trust condition variable: %v", err))
			continue
		}
		values, err := tfEval(m, attr(c, "values"), vars)
		if err != nil {
			probs = append(probs, fmt.Sprintf("deploy_trust condition values: %v", err))
			continue
		}
		// StringLike would let a wildcard in; ForAnyValue would let any one
		// of several claims match.
		if test := literalString(attr(c, "test")); test != "StringEquals" {
			probs = append(probs, fmt.Sprintf("deploy_trust condition on %s is %q, want StringEquals", variable.AsString(), test))
		}
		conditions[variable.AsString()] = valueStrings(values)
	}
	want := map[string][]string{
		githubOIDCHost + ":aud": {"sts.amazonaws.com"},
		githubOIDCHost + ":sub": {"repo:acme/maria:environment:production", "repo:acme/maria:environment:staging"},
	}
	if fmt.Sprint(conditions) != fmt.Sprint(want) {
		probs = append(probs, fmt.Sprintf("deploy_trust conditions %v, want %v", conditions, want))
	}
	return probs
}

func TestTerraformDeployTrust(t *testing.T) {
	m := loadTerraform(t)
	for _, p := range deployTrustProblems(m) {
		t.Error(p)
	}
	gh := m.resource(t, "aws_iam_openid_connect_provider", "github")
	if v, err := tfEval(m, attr(gh, "url"), nil); err != nil || v.AsString() != "https://"+githubOIDCHost {
		t.Errorf("OIDC provider url %v (%v), want https://%s", v, err, githubOIDCHost)
	}
	if v, _ := literal(attr(gh, "client_id_list")); strings.Join(valueStrings(v), ",") != "sts.amazonaws.com" {
		t.Errorf("OIDC provider client_id_list %v, want sts.amazonaws.com", v)
	}
	if got := refs(attr(gh, "count")); !slices.Contains(got, "var.github_oidc_provider_arn") {
		t.Errorf("OIDC provider count %v: an existing provider's ARN must stop its creation (one per account)", got)
	}
	// Created only when a repository is named.
	for repo, want := range map[string]bool{"": false, "acme/maria": true} {
		v, err := tfEval(m, m.locals["deploy"].Expr, map[string]cty.Value{"github_repository": cty.StringVal(repo)})
		if err != nil || v.True() != want {
			t.Errorf("local.deploy with github_repository %q = %v (%v), want %v", repo, v, err, want)
		}
	}
}

// The check fails trusts it must: wildcards, another environment, no
// audience, a repository pattern.
func TestDeployTrustCheckCatches(t *testing.T) {
	files := terraformFiles(t)
	for name, c := range map[string]struct{ file, from, to string }{
		"any ref of the repository": {"deploy.tf",
			`test     = "StringEquals"
      variable = "${local.github_oidc_host}:sub"
      values   = [for env in var.github_environments : "repo:${var.github_repository}:environment:${env}"]`,
			`test     = "StringLike"
      variable = "${local.github_oidc_host}:sub"
      values   = ["repo:${var.github_repository}:*"]`},
		"a branch instead of an environment": {"deploy.tf", `:environment:${env}"]`, `:ref:refs/heads/main"]`},
		"any environment":                    {"variables.tf", `setsubtract(var.github_environments, ["staging", "production"])`, `setsubtract(var.github_environments, ["staging", "production", "dev", "*"])`},
		"repository pattern":                 {"variables.tf", `can(regex("^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$", var.github_repository))`, `can(regex("^.+$", var.github_repository))`},
		"no audience": {"deploy.tf", `    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }`, ""},
		"another OIDC provider": {"deploy.tf", `identifiers = [local.github_oidc_provider_arn]`, `identifiers = [var.eks_oidc_provider_arn]`},
	} {
		src := string(files[c.file])
		if !strings.Contains(src, c.from) {
			t.Fatalf("%s: %s no longer contains %q; update this test", name, c.file, c.from)
		}
		mutated := map[string][]byte{}
		for k, v := range files {
			mutated[k] = v
		}
		mutated[c.file] = []byte(strings.Replace(src, c.from, c.to, 1))
		m, err := parseTerraform(mutated)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		probs := deployTrustProblems(m)
		if len(probs) == 0 {
			t.Errorf("%s: accepted", name)
		}
		t.Logf("%s: %v", name, probs)
	}
}

// deployRules: what the deploy role may do in AWS — describe its cluster
// for kubectl; the rest is Kubernetes access through the access entry.
var deployRules = map[string]policyRule{
	"eks": {actions: []string{"eks:DescribeCluster"}, resources: []string{"data.aws_eks_cluster.maria"}},
}

func TestTerraformDeployRole(t *testing.T) {
	m := loadTerraform(t)
	role := m.resource(t, "aws_iam_role", "deploy")
	if got := refs(attr(role, "assume_role_policy")); len(got) != 1 || !strings.HasPrefix(got[0], "data.aws_iam_policy_document.deploy_trust") {
		t.Errorf("deploy role trust policy = %v, want deploy_trust", got)
	}
	// Exactly eks:DescribeCluster on the cluster: no wildcard, no ECR (the
	// image is in GHCR), nothing else.
	granted := grants(checkedPolicy(t, m, "deploy", deployRules))
	if len(granted) != 1 || !granted["eks:DescribeCluster ${data.aws_eks_cluster.maria[?].arn}"] {
		t.Errorf("deploy policy grants %v, want only eks:DescribeCluster on the cluster", granted)
	}
	image, err := os.ReadFile(filepath.Join(repoRoot(t), ".github", "workflows", "image.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(image), "registry: ghcr.io") {
		t.Error("image.yml no longer pushes to GHCR: give the deploy role the registry's push permissions")
	}
	if m.resources["aws_iam_role_policy"] != nil {
		t.Error("aws_iam_role_policy: inline policies escape the checked documents")
	}
	attached := 0
	for name, a := range m.resources["aws_iam_role_policy_attachment"] {
		if !slices.ContainsFunc(refs(attr(a, "role")), func(r string) bool { return strings.HasPrefix(r, "aws_iam_role.deploy") }) {
			continue
		}
		attached++
		if got := refs(attr(a, "policy_arn")); len(got) != 1 || !strings.HasPrefix(got[0], "aws_iam_policy.deploy") {
			t.Errorf("aws_iam_role_policy_attachment.%s attaches %s to the deploy role, want only its own policy", name, render(attr(a, "policy_arn")))
		}
	}
	if attached != 1 {
		t.Errorf("%d policy attachments on the deploy role, want 1", attached)
	}

	// In the cluster: a standard access entry, admin of Maria's namespace only.
	entry := m.resource(t, "aws_eks_access_entry", "deploy")
	if literalString(attr(entry, "type")) != "STANDARD" || render(attr(entry, "cluster_name")) != "${var.eks_cluster_name}" {
		t.Errorf("access entry type %s on %s, want STANDARD on var.eks_cluster_name", render(attr(entry, "type")), render(attr(entry, "cluster_name")))
	}
	assoc := m.resource(t, "aws_eks_access_policy_association", "deploy")
	if got := refs(attr(assoc, "policy_arn")); strings.Join(got, ",") != "local.deploy_access_policy" {
		t.Errorf("access policy = %v, want local.deploy_access_policy", got)
	} else if p := literalString(m.locals["deploy_access_policy"].Expr); p != "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy" {
		t.Errorf("access policy %q, want AmazonEKSAdminPolicy (namespace admin; never ClusterAdmin)", p)
	}
	scope := block(assoc, "access_scope")
	if literalString(attr(scope, "type")) != "namespace" || strings.Join(refs(attr(scope, "namespaces")), ",") != "var.kubernetes_namespace" {
		t.Errorf("access scope %s %s, want namespace [var.kubernetes_namespace]", render(attr(scope, "type")), render(attr(scope, "namespaces")))
	}

	out := m.outputs["deploy_role_arn"]
	if out == nil {
		t.Fatal("output deploy_role_arn is missing (the AWS_DEPLOY_ROLE_ARN secret)")
	}
	if got := refs(attr(out, "value")); len(got) != 1 || !strings.HasPrefix(got[0], "aws_iam_role.deploy") {
		t.Errorf("output deploy_role_arn = %v, want the deploy role's ARN", got)
	}
}

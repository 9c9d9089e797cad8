package infra

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// tfModule is a parsed Terraform configuration: blocks by kind and labels.
type tfModule struct {
	resources map[string]map[string]*hclsyntax.Block // type → name → block
	data      map[string]map[string]*hclsyntax.Block
	variables map[string]*hclsyntax.Block
	locals    map[string]*hclsyntax.Attribute
	terraform []*hclsyntax.Block
	providers map[string]*hclsyntax.Block
	outputs   map[string]*hclsyntax.Block
}

func parseTerraform(files map[string][]byte) (*tfModule, error) {
	m := &tfModule{
		resources: map[string]map[string]*hclsyntax.Block{},
		data:      map[string]map[string]*hclsyntax.Block{},
		variables: map[string]*hclsyntax.Block{},
		locals:    map[string]*hclsyntax.Attribute{},
		providers: map[string]*hclsyntax.Block{},
		outputs:   map[string]*hclsyntax.Block{},
	}
	p := hclparse.NewParser()
	names := sortedKeys(files)
	for _, name := range names {
		f, diags := p.ParseHCL(files[name], name)
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s: %s", name, diags.Error())
		}
		body := f.Body.(*hclsyntax.Body)
		for _, b := range body.Blocks {
			switch b.Type {
			case "resource", "data":
				if len(b.Labels) != 2 {
					return nil, fmt.Errorf("%s: %s block with labels %v", name, b.Type, b.Labels)
				}
				into := m.resources
				if b.Type == "data" {
					into = m.data
				}
				if into[b.Labels[0]] == nil {
					into[b.Labels[0]] = map[string]*hclsyntax.Block{}
				}
				if into[b.Labels[0]][b.Labels[1]] != nil {
					return nil, fmt.Errorf("%s: duplicate %s %s.%s", name, b.Type, b.Labels[0], b.Labels[1])
				}
				into[b.Labels[0]][b.Labels[1]] = b
			case "variable":
				m.variables[b.Labels[0]] = b
			case "locals":
				for k, a := range b.Body.Attributes {
					m.locals[k] = a
				}
			case "terraform":
				m.terraform = append(m.terraform, b)
			case "provider":
				m.providers[b.Labels[0]] = b
			case "output":
				m.outputs[b.Labels[0]] = b
			}
		}
	}
	return m, nil
}

func loadTerraform(t *testing.T) *tfModule {
	t.Helper()
	m, err := parseTerraform(terraformFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// terraformFiles reads infra/aws/*.tf by file name.
func terraformFiles(t *testing.T) map[string][]byte {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "infra", "aws")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tf") {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[e.Name()] = b
		}
	}
	if len(files) == 0 {
		t.Fatal("no .tf files in infra/aws")
	}
	return files
}

func (m *tfModule) resource(t *testing.T, typ, name string) *hclsyntax.Block {
	t.Helper()
	b := m.resources[typ][name]
	if b == nil {
		t.Fatalf("resource %s.%s is missing", typ, name)
	}
	return b
}

// blocks returns the nested blocks of a type.
func blocks(b *hclsyntax.Block, typ string) []*hclsyntax.Block {
	if b == nil {
		return nil
	}
	var out []*hclsyntax.Block
	for _, c := range b.Body.Blocks {
		if c.Type == typ {
			out = append(out, c)
		}
	}
	return out
}

func block(b *hclsyntax.Block, path ...string) *hclsyntax.Block {
	for _, p := range path {
		bs := blocks(b, p)
		if len(bs) == 0 {
			return nil
		}
		b = bs[0]
	}
	return b
}

func attr(b *hclsyntax.Block, name string) hclsyntax.Expression {
	if b == nil {
		return nil
	}
	if a := b.Body.Attributes[name]; a != nil {
		return a.Expr
	}
	return nil
}

// literal evaluates an expression that references nothing.
func literal(e hclsyntax.Expression) (cty.Value, bool) {
	if e == nil || len(e.Variables()) > 0 {
		return cty.NilVal, false
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	return v, true
}

func literalString(e hclsyntax.Expression) string {
	v, ok := literal(e)
	if !ok || !v.Type().Equals(cty.String) || v.IsNull() {
		return ""
	}
	return v.AsString()
}

func literalBool(e hclsyntax.Expression) (bool, bool) {
	v, ok := literal(e)
	if !ok || !v.Type().Equals(cty.Bool) || v.IsNull() {
		return false, false
	}
	return v.True(), true
}

func literalNumber(e hclsyntax.Expression) (int64, bool) {
	v, ok := literal(e)
	if !ok || !v.Type().Equals(cty.Number) || v.IsNull() {
		return 0, false
	}
	n, _ := v.AsBigFloat().Int64()
	return n, true
}

// render prints an expression with references as ${a.b[key].c}, so a policy
// resource reads like "${aws_s3_bucket.files[images].arn}/*".
func render(e hclsyntax.Expression) string {
	switch x := e.(type) {
	case *hclsyntax.TemplateExpr:
		var sb strings.Builder
		for _, p := range x.Parts {
			if s := literalString(p); s != "" || len(p.Variables()) == 0 {
				sb.WriteString(s)
				continue
			}
			sb.WriteString(render(p))
		}
		return sb.String()
	case *hclsyntax.TemplateWrapExpr:
		return render(x.Wrapped)
	case *hclsyntax.ScopeTraversalExpr:
		return "${" + traversalString(x.Traversal) + "}"
	case *hclsyntax.RelativeTraversalExpr:
		return strings.TrimSuffix(render(x.Source), "}") + traversalString(x.Traversal) + "}"
	case *hclsyntax.IndexExpr:
		return strings.TrimSuffix(render(x.Collection), "}") + "[" + literalString(x.Key) + "]}"
	}
	if s := literalString(e); s != "" {
		return s
	}
	return fmt.Sprintf("<%T>", e)
}

func traversalString(tr hcl.Traversal) string {
	var sb strings.Builder
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			sb.WriteString(s.Name)
		case hcl.TraverseAttr:
			sb.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type().Equals(cty.String) {
				sb.WriteString("[" + s.Key.AsString() + "]")
			} else {
				sb.WriteString("[?]")
			}
		}
	}
	return sb.String()
}

// elems renders a list expression's elements (a tuple, or concat of for
// expressions, which render as <...> and are checked by their references).
func elems(e hclsyntax.Expression) []hclsyntax.Expression {
	if tup, ok := e.(*hclsyntax.TupleConsExpr); ok {
		return tup.Exprs
	}
	if e == nil {
		return nil
	}
	return []hclsyntax.Expression{e}
}

func refs(e hclsyntax.Expression) []string {
	var out []string
	for _, v := range e.Variables() {
		out = append(out, traversalString(v))
	}
	return out
}

func objectKeys(t *testing.T, e hclsyntax.Expression) []string {
	t.Helper()
	obj, ok := e.(*hclsyntax.ObjectConsExpr)
	if !ok {
		t.Fatalf("want an object, got %T", e)
	}
	var keys []string
	for _, it := range obj.Items {
		v, diags := it.KeyExpr.Value(nil)
		if diags.HasErrors() || !v.Type().Equals(cty.String) {
			t.Fatalf("object key is not a literal string")
		}
		keys = append(keys, v.AsString())
	}
	sort.Strings(keys)
	return keys
}

// --- tests ----------------------------------------------------------------

func TestTerraformProviderPinned(t *testing.T) {
	m := loadTerraform(t)
	if len(m.terraform) != 1 {
		t.Fatalf("%d terraform blocks, want 1", len(m.terraform))
	}
	tb := m.terraform[0]
	if literalString(attr(tb, "required_version")) == "" {
		t.Error("terraform.required_version is not set")
	}
	rp := block(tb, "required_providers")
	if rp == nil || rp.Body.Attributes["aws"] == nil {
		t.Fatal("required_providers.aws is missing")
	}
	v, ok := literal(rp.Body.Attributes["aws"].Expr)
	if !ok || !v.Type().IsObjectType() {
		t.Fatal("required_providers.aws is not a literal object")
	}
	if v.GetAttr("source").AsString() != "hashicorp/aws" || !strings.ContainsAny(v.GetAttr("version").AsString(), "~=<>") {
		t.Errorf("aws provider %s %s: want hashicorp/aws with a version constraint", v.GetAttr("source").AsString(), v.GetAttr("version").AsString())
	}
	if m.providers["aws"] == nil {
		t.Error("no provider \"aws\" block")
	}
}

func TestTerraformBuckets(t *testing.T) {
	m := loadTerraform(t)
	bucket := m.resource(t, "aws_s3_bucket", "files")
	if got := refs(attr(bucket, "for_each")); strings.Join(got, ",") != "local.buckets" {
		t.Fatalf("aws_s3_bucket.files for_each = %v, want local.buckets", got)
	}
	if keys := objectKeys(t, m.locals["buckets"].Expr); strings.Join(keys, ",") != "backups,docs,images" {
		t.Errorf("buckets %v, want backups, docs and images", keys)
	}
	// Every per-bucket setting covers every bucket.
	perBucket := func(typ string) *hclsyntax.Block {
		b := m.resource(t, typ, "files")
		if got := refs(attr(b, "for_each")); strings.Join(got, ",") != "aws_s3_bucket.files" {
			t.Errorf("%s.files for_each = %v, want aws_s3_bucket.files (every bucket)", typ, got)
		}
		if got := render(attr(b, "bucket")); got != "${each.value.id}" {
			t.Errorf("%s.files bucket = %s, want each.value.id", typ, got)
		}
		return b
	}

	pab := perBucket("aws_s3_bucket_public_access_block")
	for _, a := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
		if v, ok := literalBool(attr(pab, a)); !ok || !v {
			t.Errorf("public access block: %s is not true", a)
		}
	}

	sse := perBucket("aws_s3_bucket_server_side_encryption_configuration")
	def := block(sse, "rule", "apply_server_side_encryption_by_default")
	if literalString(attr(def, "sse_algorithm")) != "aws:kms" {
		t.Errorf("sse_algorithm = %s, want aws:kms", render(attr(def, "sse_algorithm")))
	}
	if got := refs(attr(def, "kms_master_key_id")); len(got) != 1 || !strings.HasPrefix(got[0], "aws_kms_key.") {
		t.Errorf("kms_master_key_id = %v, want the module's KMS key", got)
	}

	ver := perBucket("aws_s3_bucket_versioning")
	if literalString(attr(block(ver, "versioning_configuration"), "status")) != "Enabled" {
		t.Error("versioning is not Enabled")
	}

	own := perBucket("aws_s3_bucket_ownership_controls")
	if literalString(attr(block(own, "rule"), "object_ownership")) != "BucketOwnerEnforced" {
		t.Error("object ownership is not BucketOwnerEnforced (ACLs disabled)")
	}

	lc := perBucket("aws_s3_bucket_lifecycle_configuration")
	var expiration, noncurrent, multipart bool
	for _, r := range blocks(lc, "rule") {
		if literalString(attr(r, "status")) != "Enabled" {
			continue
		}
		if e := block(r, "expiration"); e != nil && attr(e, "days") != nil {
			if got := refs(attr(e, "days")); strings.Join(got, ",") == "var.retention_days" {
				expiration = true
			} else {
				t.Errorf("expiration days = %s, want var.retention_days", render(attr(e, "days")))
			}
		}
		if n := block(r, "noncurrent_version_expiration"); n != nil && attr(n, "noncurrent_days") != nil {
			noncurrent = true
		}
		if a := block(r, "abort_incomplete_multipart_upload"); a != nil {
			multipart = true
		}
	}
	if !expiration || !noncurrent || !multipart {
		t.Errorf("lifecycle: expiration by retention %v, noncurrent versions %v, incomplete uploads %v; want all", expiration, noncurrent, multipart)
	}
	if d, ok := literalNumber(attr(m.variables["retention_days"], "default")); !ok || d != 90 {
		t.Errorf("retention_days default %d, want 90 (MARIA_STORAGE_RETENTION's default)", d)
	}

	// The storage processor's record TTL (k8s ConfigMap) matches the objects' expiry.
	cm := byKind(k8sObjects(t), "ConfigMap")["maria-config"]
	if ret, err := time.ParseDuration(str(cm, "data", "MARIA_STORAGE_RETENTION")); err != nil {
		t.Errorf("ConfigMap MARIA_STORAGE_RETENTION: %v", err)
	} else if d, _ := literalNumber(attr(m.variables["retention_days"], "default")); ret != time.Duration(d)*24*time.Hour {
		t.Errorf("ConfigMap MARIA_STORAGE_RETENTION %s differs from Terraform's retention_days %d", ret, d)
	}

	pol := perBucket("aws_s3_bucket_policy")
	if got := refs(attr(pol, "policy")); len(got) == 0 || !strings.HasPrefix(got[0], "data.aws_iam_policy_document.files_tls_only") {
		t.Errorf("bucket policy = %v, want the TLS-only document", got)
	}
}

func TestTerraformTable(t *testing.T) {
	m := loadTerraform(t)
	tbl := m.resource(t, "aws_dynamodb_table", "maria")
	for a, want := range map[string]string{"billing_mode": "PAY_PER_REQUEST", "hash_key": "pk", "range_key": "sk"} {
		if got := literalString(attr(tbl, a)); got != want {
			t.Errorf("%s = %q, want %s", a, got, want)
		}
	}
	types := map[string]string{}
	for _, a := range blocks(tbl, "attribute") {
		types[literalString(attr(a, "name"))] = literalString(attr(a, "type"))
	}
	if types["pk"] != "S" || types["sk"] != "S" {
		t.Errorf("attributes %v, want pk and sk strings", types)
	}
	ttl := block(tbl, "ttl")
	if literalString(attr(ttl, "attribute_name")) != "ttl" {
		t.Error(`ttl attribute_name is not "ttl"`)
	}
	for _, b := range []string{"ttl", "point_in_time_recovery", "server_side_encryption"} {
		if v, ok := literalBool(attr(block(tbl, b), "enabled")); !ok || !v {
			t.Errorf("%s is not enabled", b)
		}
	}
	if got := refs(attr(block(tbl, "server_side_encryption"), "kms_key_arn")); len(got) != 1 || !strings.HasPrefix(got[0], "aws_kms_key.") {
		t.Errorf("table encryption key = %v, want the module's KMS key", got)
	}
}

// policyProblems checks an aws_iam_policy_document: no wildcard action or
// resource in an Allow statement; allowOnly, when set, restricts the
// actions and the resources each service prefix may name.
func policyProblems(doc *hclsyntax.Block, allowOnly map[string]policyRule) []string {
	var probs []string
	stmts := blocks(doc, "statement")
	if len(stmts) == 0 {
		return []string{"no statements"}
	}
	for i, s := range stmts {
		effect := literalString(attr(s, "effect"))
		if effect == "" {
			effect = "Allow"
		}
		if attr(s, "not_actions") != nil || attr(s, "not_resources") != nil {
			probs = append(probs, fmt.Sprintf("statement %d: not_actions/not_resources grant by exclusion", i))
		}
		if effect != "Allow" {
			if allowOnly != nil {
				probs = append(probs, fmt.Sprintf("statement %d: %s in a service policy", i, effect))
			}
			continue
		}
		actions := elems(attr(s, "actions"))
		if len(actions) == 0 {
			probs = append(probs, fmt.Sprintf("statement %d: no actions", i))
		}
		var services []string
		for _, a := range actions {
			name := literalString(a)
			if name == "" {
				probs = append(probs, fmt.Sprintf("statement %d: action %s is not a literal", i, render(a)))
				continue
			}
			if strings.Contains(name, "*") {
				probs = append(probs, fmt.Sprintf("statement %d: wildcard action %q", i, name))
			}
			svc, _, _ := strings.Cut(name, ":")
			services = append(services, svc)
			if allowOnly != nil {
				rule, ok := allowOnly[svc]
				if !ok || !contains(rule.actions, name) {
					probs = append(probs, fmt.Sprintf("statement %d: action %q is not allowed for this service", i, name))
				}
			}
		}
		resources := elems(attr(s, "resources"))
		// Trust and bucket policies name principals, not resources.
		if len(resources) == 0 && block(s, "principals") == nil {
			probs = append(probs, fmt.Sprintf("statement %d: no resources", i))
		}
		for _, r := range resources {
			rs := render(r)
			if len(r.Variables()) == 0 {
				// A literal resource: only exact ARNs without wildcards.
				if strings.Contains(literalString(r), "*") || literalString(r) == "" {
					probs = append(probs, fmt.Sprintf("statement %d: resource %q is a wildcard", i, rs))
				}
				if allowOnly != nil {
					probs = append(probs, fmt.Sprintf("statement %d: resource %q is not one of the module's resources", i, rs))
				}
				continue
			}
			if allowOnly == nil {
				continue
			}
			for _, svc := range services {
				rule := allowOnly[svc]
				okRef := false
				for _, ref := range refs(r) {
					for _, allowed := range rule.resources {
						if strings.HasPrefix(ref, allowed) {
							okRef = true
						}
					}
				}
				if !okRef {
					probs = append(probs, fmt.Sprintf("statement %d: %s actions on %s, want one of %v", i, svc, rs, rule.resources))
				}
			}
		}
	}
	return probs
}

type policyRule struct {
	actions   []string
	resources []string // reference prefixes
}

// storageRules: what the storage service may do, and on what.
var storageRules = map[string]policyRule{
	"s3": {actions: []string{"s3:PutObject", "s3:GetObject", "s3:ListBucket"},
		resources: []string{"aws_s3_bucket.files"}},
	"dynamodb": {actions: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
		"dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"},
		resources: []string{"aws_dynamodb_table.maria"}},
	"kms": {actions: []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"}, resources: []string{"aws_kms_key.maria"}},
}

// installationRules: what ingress and egress may do in multi-workspace
// mode — the installation items and the key, nothing else.
var installationRules = map[string]policyRule{
	"dynamodb": {actions: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
		resources: []string{"aws_dynamodb_table.maria"}},
	"kms": {actions: []string{"kms:Encrypt", "kms:Decrypt"}, resources: []string{"aws_kms_key.maria"}},
}

// checkedPolicy is the policy document name, held to rules.
func checkedPolicy(t *testing.T, m *tfModule, name string, rules map[string]policyRule) *hclsyntax.Block {
	t.Helper()
	doc := m.data["aws_iam_policy_document"][name]
	if doc == nil {
		t.Fatalf("data.aws_iam_policy_document.%s is missing", name)
	}
	for _, p := range policyProblems(doc, rules) {
		t.Errorf("%s policy: %s", name, p)
	}
	return doc
}

// grants lists "action resource" pairs of a policy document's statements.
func grants(doc *hclsyntax.Block) map[string]bool {
	granted := map[string]bool{}
	for _, s := range blocks(doc, "statement") {
		for _, a := range elems(attr(s, "actions")) {
			for _, r := range elems(attr(s, "resources")) {
				granted[literalString(a)+" "+render(r)] = true
			}
		}
	}
	return granted
}

// trustedSubject is the service account a role's trust policy admits.
func trustedSubject(trust *hclsyntax.Block) string {
	sub := ""
	for _, c := range blocks(block(trust, "statement"), "condition") {
		if strings.HasSuffix(render(attr(c, "variable")), ":sub") {
			for _, v := range elems(attr(c, "values")) {
				sub += render(v)
			}
		}
	}
	return sub
}

func TestTerraformIAM(t *testing.T) {
	m := loadTerraform(t)
	// Only storage (and the secrets operator) get an AWS identity.
	for typ := range m.resources {
		if !strings.HasPrefix(typ, "aws_iam_") {
			continue
		}
		for name := range m.resources[typ] {
			if name != "storage" && name != "external_secrets" && name != "workload" && name != "cloudwatch_agent" && name != "deploy" && name != "github" {
				t.Errorf("%s.%s: only storage, external_secrets, the workloads (operations, ingress/egress installations) and the deploy workflow (GitHub OIDC) get IAM resources", typ, name)
			}
		}
	}
	if m.resources["aws_iam_user"] != nil || m.resources["aws_iam_access_key"] != nil {
		t.Error("IAM users/access keys: services must use roles (IRSA), not long-lived keys")
	}

	// It must actually grant object read/write on both buckets and items on
	// the table, and seal rotated Slack tokens (kms:Encrypt).
	granted := grants(checkedPolicy(t, m, "storage", storageRules))
	for _, want := range []string{
		"s3:PutObject ${aws_s3_bucket.files[images].arn}/*", "s3:GetObject ${aws_s3_bucket.files[images].arn}/*",
		"s3:PutObject ${aws_s3_bucket.files[docs].arn}/*", "s3:GetObject ${aws_s3_bucket.files[docs].arn}/*",
		"dynamodb:PutItem ${aws_dynamodb_table.maria.arn}", "dynamodb:Query ${aws_dynamodb_table.maria.arn}",
		"kms:GenerateDataKey ${aws_kms_key.maria.arn}", "kms:Encrypt ${aws_kms_key.maria.arn}",
	} {
		if !granted[want] {
			t.Errorf("storage policy does not grant %s", want)
		}
	}
	// Every Allow anywhere: no wildcard actions or resources.
	for name, doc := range m.data["aws_iam_policy_document"] {
		for _, p := range policyProblems(doc, nil) {
			t.Errorf("policy document %s: %s", name, p)
		}
	}
	// The storage role trusts only the maria-storage service account.
	if sub := trustedSubject(m.data["aws_iam_policy_document"]["storage_trust"]); sub != "system:serviceaccount:${var.kubernetes_namespace}:maria-storage" {
		t.Errorf("storage role trusts %q, want only the maria-storage service account", sub)
	}
	if got := refs(attr(m.resource(t, "aws_iam_role", "storage"), "assume_role_policy")); len(got) != 1 || !strings.HasPrefix(got[0], "data.aws_iam_policy_document.storage_trust") {
		t.Errorf("storage role trust policy = %v", got)
	}
}

// In multi-workspace mode ingress and egress read and write Slack
// installations: each has its own role, trusted by its own service account
// only (a workload), reaching only the INSTALL#/INSTALLLINK# items of the table and the
// key that seals their tokens.
func TestTerraformInstallationsIAM(t *testing.T) {
	m := loadTerraform(t)
	doc := checkedPolicy(t, m, "installations", installationRules)
	granted := grants(doc)
	for _, want := range []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} {
		if !granted[want+" ${aws_dynamodb_table.maria.arn}"] {
			t.Errorf("installations policy does not grant %s on the table", want)
		}
	}
	for _, want := range []string{"kms:Encrypt", "kms:Decrypt"} {
		if !granted[want+" ${aws_kms_key.maria.arn}"] {
			t.Errorf("installations policy does not grant %s on the key", want)
		}
	}
	// Every statement on the table is held to the installation items by
	// their partition key.
	onTable := 0
	for i, s := range blocks(doc, "statement") {
		if !slices.ContainsFunc(refs(attr(s, "resources")), func(r string) bool { return strings.HasPrefix(r, "aws_dynamodb_table.") }) {
			continue
		}
		onTable++
		var keys []string
		for _, c := range blocks(s, "condition") {
			if literalString(attr(c, "variable")) == "dynamodb:LeadingKeys" && literalString(attr(c, "test")) == "ForAllValues:StringLike" {
				for _, v := range elems(attr(c, "values")) {
					keys = append(keys, literalString(v))
				}
			}
		}
		if strings.Join(keys, ",") != "INSTALL#*,INSTALLLINK#*" {
			t.Errorf("statement %d on the table: leading keys %v, want only INSTALL#* and INSTALLLINK#* (ForAllValues:StringLike)", i, keys)
		}
	}
	if onTable == 0 {
		t.Error("no statement on the table")
	}
	// ingress and egress are workloads: one role each, trusted by its own
	// service account, whose policy is this one.
	if sub := trustedSubject(m.data["aws_iam_policy_document"]["workload_trust"]); sub != "system:serviceaccount:${each.value.namespace}:${each.value.service_account}" {
		t.Errorf("workload roles trust %q, want each workload's own service account", sub)
	}
	local := m.locals["workloads"]
	if local == nil {
		t.Fatal("local.workloads is missing")
	}
	accounts := map[string]string{}
	for _, it := range local.Expr.(*hclsyntax.ObjectConsExpr).Items {
		k, _ := it.KeyExpr.Value(nil)
		for _, f := range it.ValueExpr.(*hclsyntax.ObjectConsExpr).Items {
			if fk, _ := f.KeyExpr.Value(nil); fk.AsString() == "service_account" {
				accounts[k.AsString()] = literalString(f.ValueExpr)
			}
		}
	}
	policies := attr(m.resource(t, "aws_iam_policy", "workload"), "for_each").(*hclsyntax.ObjectConsExpr)
	for svc, account := range map[string]string{"ingress": "maria-ingress", "egress": "maria-egress"} {
		if accounts[svc] != account {
			t.Errorf("workload %s trusted by %q, want %s", svc, accounts[svc], account)
		}
		var got []string
		for _, it := range policies.Items {
			if k, _ := it.KeyExpr.Value(nil); k.AsString() == svc {
				got = refs(it.ValueExpr)
			}
		}
		if len(got) != 1 || !strings.HasPrefix(got[0], "data.aws_iam_policy_document.installations") {
			t.Errorf("workload %s gets policy %v, want the installations document", svc, got)
		}
	}
}

// TestPolicyCheckCatchesWildcards proves policyProblems fails bad policies.
func TestPolicyCheckCatchesWildcards(t *testing.T) {
	for name, src := range map[string]string{
		"wildcard action":   `actions = ["s3:*"]` + "\n" + `resources = [aws_s3_bucket.files["images"].arn]`,
		"star resource":     `actions = ["s3:GetObject"]` + "\n" + `resources = ["*"]`,
		"literal arn":       `actions = ["s3:GetObject"]` + "\n" + `resources = ["arn:aws:s3:::other-bucket/*"]`,
		"foreign action":    `actions = ["s3:DeleteBucket"]` + "\n" + `resources = [aws_s3_bucket.files["images"].arn]`,
		"other service":     `actions = ["sqs:SendMessage"]` + "\n" + `resources = [aws_s3_bucket.files["images"].arn]`,
		"s3 on the table":   `actions = ["s3:GetObject"]` + "\n" + `resources = [aws_dynamodb_table.maria.arn]`,
		"variable action":   `actions = [var.action]` + "\n" + `resources = [aws_dynamodb_table.maria.arn]`,
		"exclusion":         `not_actions = ["s3:GetObject"]` + "\n" + `resources = [aws_s3_bucket.files["images"].arn]`,
		"dynamodb wildcard": `actions = ["dynamodb:*Item"]` + "\n" + `resources = [aws_dynamodb_table.maria.arn]`,
	} {
		src := "data \"aws_iam_policy_document\" \"storage\" {\n statement {\n" + src + "\n }\n}\n"
		m, err := parseTerraform(map[string][]byte{"p.tf": []byte(src)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if probs := policyProblems(m.data["aws_iam_policy_document"]["storage"], storageRules); len(probs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
	good := "data \"aws_iam_policy_document\" \"storage\" {\n statement {\n" +
		`actions = ["s3:GetObject"]` + "\n" + `resources = ["${aws_s3_bucket.files["images"].arn}/*"]` + "\n }\n}\n"
	m, err := parseTerraform(map[string][]byte{"p.tf": []byte(good)})
	if err != nil {
		t.Fatal(err)
	}
	if probs := policyProblems(m.data["aws_iam_policy_document"]["storage"], storageRules); len(probs) > 0 {
		t.Errorf("a scoped policy was rejected: %v", probs)
	}
}

// TestTerraformSecrets: containers for every credential (values never in
// Terraform), encrypted with the key, named as infra/k8s reads them.
func TestTerraformSecrets(t *testing.T) {
	m := loadTerraform(t)
	if m.resources["aws_secretsmanager_secret_version"] != nil {
		t.Error("aws_secretsmanager_secret_version: secret values must not be in Terraform (they would be in its state)")
	}
	app := m.resource(t, "aws_secretsmanager_secret", "app")
	nats := m.resource(t, "aws_secretsmanager_secret", "nats")
	operator := m.resource(t, "aws_secretsmanager_secret", "nats_operator")
	for _, s := range []*hclsyntax.Block{app, nats, operator} {
		if got := refs(attr(s, "kms_key_id")); len(got) != 1 || !strings.HasPrefix(got[0], "aws_kms_key.") {
			t.Errorf("secret %s: kms_key_id = %v", s.Labels[1], got)
		}
	}
	if keys := objectKeys(t, m.locals["app_secrets"].Expr); strings.Join(keys, ",") != "odoo,openai,slack" {
		t.Errorf("app secrets %v, want odoo, openai, slack", keys)
	}
	if got := refs(attr(nats, "for_each")); strings.Join(got, ",") != "var.services" {
		t.Errorf("nats secrets for_each %v, want var.services", got)
	}
	// One NATS credentials secret per deployed service.
	v, ok := literal(attr(m.variables["services"], "default"))
	if !ok {
		t.Fatal("variable services has no literal default")
	}
	var svcs []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		svcs = append(svcs, e.AsString())
	}
	if missing, extra := diffSets(deployedServices(t), svcs); len(missing)+len(extra) > 0 {
		t.Errorf("var.services default: missing %v, extra %v (want the deployed services)", missing, extra)
	}
	// The names infra/k8s reads exist here: <name_prefix>/<key>, <name_prefix>/nats/<service>.
	prefix := literalString(attr(m.variables["name_prefix"], "default"))
	if render(attr(app, "name")) != "${var.name_prefix}/${each.key}" || render(attr(nats, "name")) != "${var.name_prefix}/nats/${each.key}" {
		t.Fatalf("secret names %s, %s changed; update this test", render(attr(app, "name")), render(attr(nats, "name")))
	}
	names := map[string]bool{}
	for _, k := range objectKeys(t, m.locals["app_secrets"].Expr) {
		names[prefix+"/"+k] = true
	}
	for _, s := range svcs {
		names[prefix+"/nats/"+s] = true
	}
	if render(attr(operator, "name")) != "${var.name_prefix}/nats/operator" {
		t.Errorf("operator secret name %s, want ${var.name_prefix}/nats/operator", render(attr(operator, "name")))
	}
	names[prefix+"/nats/operator"] = true
	for _, es := range byKind(k8sObjects(t), "ExternalSecret") {
		for _, d := range list(es, "spec", "dataFrom") {
			if k := str(d, "extract", "key"); !names[k] {
				t.Errorf("ExternalSecret %s reads %q, which Terraform does not create", str(es, "metadata", "name"), k)
			}
		}
		for _, d := range list(es, "spec", "data") {
			if k := str(d, "remoteRef", "key"); !names[k] {
				t.Errorf("ExternalSecret %s reads %q, which Terraform does not create", str(es, "metadata", "name"), k)
			}
		}
	}
}

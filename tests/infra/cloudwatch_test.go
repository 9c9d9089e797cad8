package infra

import (
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// promAlert is what an alert of infra/prometheus/alerts.yaml means for its
// CloudWatch twin.
type promAlert struct {
	name, expr, severity string
	op                   string  // first comparison: >, ==, <, ...
	threshold            float64 // its right-hand number
	duration             time.Duration
}

var (
	comparison = regexp.MustCompile(`(==|>=|<=|>|<)\s*(-?[0-9.]+)`)
	rangeSel   = regexp.MustCompile(`\[([0-9]+[smh])\]`)
)

func promAlerts(t *testing.T) []promAlert {
	t.Helper()
	var out []promAlert
	for _, doc := range loadYAML(t, "infra", "prometheus", "alerts.yaml") {
		for _, g := range list(doc, "groups") {
			for _, r := range list(g, "rules") {
				a := promAlert{name: str(r, "alert"), expr: str(r, "expr"), severity: str(r, "labels", "severity")}
				m := comparison.FindStringSubmatch(a.expr)
				if m == nil {
					t.Fatalf("%s: no comparison in %q", a.name, a.expr)
				}
				a.op = m[1]
				fmt.Sscan(m[2], &a.threshold)
				d, err := time.ParseDuration(str(r, "for"))
				if err != nil {
					t.Fatalf("%s: for %q: %v", a.name, str(r, "for"), err)
				}
				if d == 0 { // fires at once: the range of its increase() is the window
					if w := rangeSel.FindStringSubmatch(a.expr); w != nil {
						d, _ = time.ParseDuration(w[1])
					}
				}
				a.duration = d
				out = append(out, a)
			}
		}
	}
	return out
}

// cwAlarm is one entry of local.alarms in infra/aws/alarms.tf.
type cwAlarm struct {
	severity, comparison, expression string
	threshold                        float64
	period, datapoints               int64
	metrics                          map[string]cwMetric
}

type cwMetric struct {
	name, stat, namespace string
	dimensions            map[string]string
}

func cwAlarms(t *testing.T) map[string]cwAlarm {
	t.Helper()
	m := loadTerraform(t)
	a := m.locals["alarms"]
	if a == nil {
		t.Fatal("infra/aws: local.alarms is missing")
	}
	v, ok := literal(a.Expr)
	if !ok {
		t.Fatal("local.alarms must be a literal (no references) so it can be compared")
	}
	out := map[string]cwAlarm{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		out[k.AsString()] = toAlarm(e)
	}
	return out
}

func toAlarm(e cty.Value) cwAlarm {
	num := func(v cty.Value) *big.Float { return v.AsBigFloat() }
	th, _ := num(e.GetAttr("threshold")).Float64()
	p, _ := num(e.GetAttr("period")).Int64()
	d, _ := num(e.GetAttr("datapoints")).Int64()
	al := cwAlarm{severity: e.GetAttr("severity").AsString(), comparison: e.GetAttr("comparison").AsString(),
		expression: e.GetAttr("expression").AsString(), threshold: th, period: p, datapoints: d, metrics: map[string]cwMetric{}}
	for it := e.GetAttr("metrics").ElementIterator(); it.Next(); {
		id, mv := it.Element()
		cm := cwMetric{name: mv.GetAttr("metric").AsString(), stat: mv.GetAttr("stat").AsString(), namespace: "Maria", dimensions: map[string]string{}}
		if mv.Type().HasAttribute("namespace") {
			cm.namespace = mv.GetAttr("namespace").AsString()
		}
		for dt := mv.GetAttr("dimensions").ElementIterator(); dt.Next(); {
			dk, dv := dt.Element()
			cm.dimensions[dk.AsString()] = dv.AsString()
		}
		al.metrics[id.AsString()] = cm
	}
	return al
}

// outside Maria's namespace, a CloudWatch metric stands for a Prometheus one.
var cwEquivalent = map[string]string{"pod_status_ready": "kube_pod_container_status_ready"}

// alarmProblems compares the two rule sets: same names, severity,
// threshold, direction and duration, and every metric (and outcome) an
// alarm reads is one the alert's expression reads.
func alarmProblems(alerts []promAlert, alarms map[string]cwAlarm) []string {
	var probs []string
	seen := map[string]bool{}
	for _, a := range alerts {
		seen[a.name] = true
		al, ok := alarms[a.name]
		if !ok {
			probs = append(probs, a.name+": no CloudWatch alarm")
			continue
		}
		if al.severity != a.severity {
			probs = append(probs, fmt.Sprintf("%s: severity %s, the alert's is %s", a.name, al.severity, a.severity))
		}
		if al.threshold != a.threshold {
			probs = append(probs, fmt.Sprintf("%s: threshold %v, the alert's is %v", a.name, al.threshold, a.threshold))
		}
		if !sameDirection(a.op, a.threshold, al.comparison) {
			probs = append(probs, fmt.Sprintf("%s: %s does not mean the alert's %s %v", a.name, al.comparison, a.op, a.threshold))
		}
		if got := time.Duration(al.period*al.datapoints) * time.Second; got != a.duration {
			probs = append(probs, fmt.Sprintf("%s: alarms after %s, the alert after %s", a.name, got, a.duration))
		}
		probs = append(probs, metricProblems(a, al)...)
	}
	for name := range alarms {
		if !seen[name] {
			probs = append(probs, name+": an alarm without a Prometheus alert")
		}
	}
	sort.Strings(probs)
	return probs
}

func sameDirection(op string, threshold float64, cmp string) bool {
	switch op {
	case ">":
		return cmp == "GreaterThanThreshold"
	case "<":
		return cmp == "LessThanThreshold"
	case "==": // a gauge at its extreme: 0 from above, the maximum from below
		return (threshold == 0 && cmp == "LessThanOrEqualToThreshold") || (threshold > 0 && cmp == "GreaterThanOrEqualToThreshold")
	}
	return false
}

func metricProblems(a promAlert, al cwAlarm) []string {
	var probs []string
	for id, m := range al.metrics {
		if !strings.Contains(al.expression, id) {
			probs = append(probs, fmt.Sprintf("%s: metric %s (%s) is not used by %q", a.name, id, m.name, al.expression))
		}
		name := m.name
		if eq, ok := cwEquivalent[name]; ok {
			name = eq
		} else if m.namespace != "Maria" {
			probs = append(probs, fmt.Sprintf("%s: %s in namespace %s has no Prometheus equivalent", a.name, m.name, m.namespace))
		}
		if strings.HasPrefix(m.stat, "p") {
			name += "_bucket" // a percentile is histogram_quantile over the buckets
		}
		if !strings.Contains(a.expr, name) {
			probs = append(probs, fmt.Sprintf("%s: reads %s, the alert does not", a.name, name))
		}
		if o, ok := m.dimensions["outcome"]; ok && !strings.Contains(a.expr, o) {
			probs = append(probs, fmt.Sprintf("%s: outcome %s is not in the alert's %q", a.name, o, a.expr))
		}
	}
	return probs
}

// TestCloudWatchAlarmsMirrorPrometheusAlerts is issue 22's acceptance check:
// the CloudWatch alarms and the Prometheus alerts are the same set.
func TestCloudWatchAlarmsMirrorPrometheusAlerts(t *testing.T) {
	alerts := promAlerts(t)
	alarms := cwAlarms(t)
	if len(alerts) < 10 {
		t.Fatalf("parsed %d alerts: the parser is broken", len(alerts))
	}
	for _, p := range alarmProblems(alerts, alarms) {
		t.Error(p)
	}
	m := loadTerraform(t)
	res := m.resource(t, "aws_cloudwatch_metric_alarm", "maria")
	if got := refs(attr(res, "for_each")); strings.Join(got, ",") != "local.alarms" {
		t.Errorf("aws_cloudwatch_metric_alarm.maria for_each %v, want local.alarms", got)
	}
	if got := refs(attr(res, "alarm_actions")); len(got) != 1 || !strings.HasPrefix(got[0], "aws_sns_topic.alarms") {
		t.Errorf("alarm_actions %v, want the alarms topic", got)
	}
}

// The comparison fails when the sets drift.
func TestAlarmComparisonCatchesDrift(t *testing.T) {
	alerts := []promAlert{{name: "A", expr: "sum(increase(maria_x_total[15m])) > 3", severity: "warning", op: ">", threshold: 3, duration: 15 * time.Minute}}
	good := cwAlarm{severity: "warning", comparison: "GreaterThanThreshold", expression: "m1", threshold: 3, period: 900, datapoints: 1,
		metrics: map[string]cwMetric{"m1": {name: "maria_x_total", stat: "Sum", namespace: "Maria"}}}
	if p := alarmProblems(alerts, map[string]cwAlarm{"A": good}); len(p) > 0 {
		t.Fatalf("a faithful alarm rejected: %v", p)
	}
	for name, mutate := range map[string]func(*cwAlarm){
		"threshold": func(a *cwAlarm) { a.threshold = 4 },
		"direction": func(a *cwAlarm) { a.comparison = "LessThanThreshold" },
		"duration":  func(a *cwAlarm) { a.period = 60 },
		"severity":  func(a *cwAlarm) { a.severity = "critical" },
		"metric": func(a *cwAlarm) {
			a.metrics = map[string]cwMetric{"m1": {name: "maria_y_total", stat: "Sum", namespace: "Maria"}}
		},
		"unused": func(a *cwAlarm) { a.expression = "m2" },
	} {
		bad := good
		mutate(&bad)
		if p := alarmProblems(alerts, map[string]cwAlarm{"A": bad}); len(p) == 0 {
			t.Errorf("%s drift accepted", name)
		}
	}
	if p := alarmProblems(alerts, map[string]cwAlarm{}); len(p) == 0 {
		t.Error("a missing alarm accepted")
	}
	if p := alarmProblems(nil, map[string]cwAlarm{"A": good}); len(p) == 0 {
		t.Error("an extra alarm accepted")
	}
}

// Logs and metrics have retention; the collector may write only the
// metrics log group; the dashboard shows every alarm.
func TestTerraformCloudWatch(t *testing.T) {
	m := loadTerraform(t)
	for _, name := range []string{"containers", "metrics"} {
		lg := m.resource(t, "aws_cloudwatch_log_group", name)
		if refs(attr(lg, "retention_in_days")) == nil {
			t.Errorf("log group %s has no retention", name)
		}
	}
	if literalString(attr(m.resource(t, "aws_eks_addon", "cloudwatch"), "addon_name")) != "amazon-cloudwatch-observability" {
		t.Error("the Container Insights add-on is missing")
	}
	collector := m.data["aws_iam_policy_document"]["collector"]
	for _, s := range blocks(collector, "statement") {
		for _, r := range elems(attr(s, "resources")) {
			if got := refs(r); len(got) != 1 || !strings.HasPrefix(got[0], "aws_cloudwatch_log_group.metrics") {
				t.Errorf("collector policy resource %s, want only the metrics log group", render(r))
			}
		}
	}
	backup := m.data["aws_iam_policy_document"]["backup"]
	for _, s := range blocks(backup, "statement") {
		for _, a := range elems(attr(s, "actions")) {
			if strings.Contains(literalString(a), "Delete") {
				t.Errorf("backup policy grants %s: a compromised CronJob could destroy backups", literalString(a))
			}
		}
	}
	shows := false
	for _, r := range refs(attr(m.resource(t, "aws_cloudwatch_dashboard", "maria"), "dashboard_body")) {
		shows = shows || strings.HasPrefix(r, "aws_cloudwatch_metric_alarm.maria")
	}
	if !shows {
		t.Error("the dashboard does not show the alarms")
	}
}

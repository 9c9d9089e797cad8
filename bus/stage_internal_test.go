package bus

import "testing"

// Metric labels and span names must never carry team, channel or record ids.
func TestSubjectStageIsLowCardinality(t *testing.T) {
	for in, want := range map[string]string{
		"maria.in.mention.T1.C1":       "maria.in.mention",
		"maria.in.message.T9.C9":       "maria.in.message",
		"maria.out.T1.C1":              "maria.out",
		"maria.delivered.T1.C1":        "maria.delivered",
		"maria.stored.file.T1.C1":      "maria.stored.file",
		"maria.erp.command.sale.order": "maria.erp.command",
		"maria.erp.result.res.partner": "maria.erp.result",
		"maria.erp.query":              "maria.erp.query",
		"maria.dlq.MARIA_IN.ai":        "maria.dlq.MARIA_IN",
		"maria.audit.confirm":          "maria.audit.confirm",
		"$JS.API.STREAM.INFO.MARIA_IN": "$JS.API",
		"other":                        "other",
		"maria.out":                    "maria.out",
		"two.tokens":                   "two.tokens",
		"not.maria.at.all":             "not.maria",
		"maria.audit":                  "maria.audit",
	} {
		if got := subjectStage(in); got != want {
			t.Errorf("subjectStage(%q) = %q, want %q", in, got, want)
		}
	}
}

// subjectStage runs for every message handled and published: it slices
// the subject instead of allocating.
func TestSubjectStageDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = subjectStage("maria.in.mention.T1.C1") }); n != 0 {
		t.Errorf("%v allocations per call", n)
	}
}

package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// A sandbox trial counts only when the sandbox proved what it is for:
// every event published, every service ran, settled, and every
// correlation reproduced.
func TestSandboxReportCheck(t *testing.T) {
	const good = `{"replay":{"published":3},"services":["ai","erp"],"correlations":[{},{},{}],"differences":0}`
	for _, c := range []struct {
		name, patch, want string
	}{
		{"reproduced", ``, ""},
		{"events lost", `{"replay":{"published":2}}`, "published 2 of 3"},
		{"service skipped", `{"skipped_services":{"erp":"no ODOO_URL"}}`, "skipped services"},
		{"not settled", `{"quiet_error":"consumer ai has 1 pending"}`, "did not settle"},
		{"differences", `{"differences":2}`, "2 difference(s)"},
		{"correlations missing", `{"correlations":[{}]}`, "compared 1 correlations"},
	} {
		var rep sandboxReport
		if err := json.Unmarshal([]byte(good), &rep); err != nil {
			t.Fatal(err)
		}
		if c.patch != "" {
			if err := json.Unmarshal([]byte(c.patch), &rep); err != nil {
				t.Fatal(err)
			}
		}
		err := rep.check(3)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: check = %v, want %q", c.name, err, c.want)
		}
	}
}

package infra

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mariahq/maria/schemas"
)

// TestSchemasReadmeCoversTheContract holds schemas/README.md, the contract
// processors in other languages are written from, to schemas/: every event
// type (PayloadTypes), request/reply subject and stream has a row — its name
// in backticks in the first cell of a table row.
func TestSchemasReadmeCoversTheContract(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "schemas", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{schemas.SubjectERPQuery, schemas.SubjectERPIdentity, schemas.SubjectHistoryQuery, schemas.SubjectFileRead}
	for typ := range schemas.PayloadTypes() {
		want = append(want, typ)
	}
	for _, s := range schemas.Streams {
		want = append(want, s.Name)
	}
	for _, p := range missingRows(strings.Split(string(data), "\n"), want) {
		t.Errorf("schemas/README.md has no table row for %s", p)
	}
}

// missingRows returns the names of want no table row names in its first
// cell, in backticks or (stream names) bare.
func missingRows(lines, want []string) []string {
	named := map[string]bool{}
	for _, line := range lines {
		cells := tableCells(line)
		if len(cells) == 0 {
			continue
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[0], -1) {
			named[m[1]] = true
		}
		named[cells[0]] = true
	}
	var missing []string
	for _, w := range want {
		if !named[w] {
			missing = append(missing, w)
		}
	}
	sort.Strings(missing)
	return missing
}

func TestMissingRows(t *testing.T) {
	lines := []string{
		"| type | payload |",
		"|---|---|",
		"| `a.v1`, `b.v1` | A |",
		"| MARIA_X | stream |",
		"prose naming `c.v1` is not a row",
		"| payload | `d.v1` only in a later cell |",
	}
	got := missingRows(lines, []string{"a.v1", "b.v1", "c.v1", "d.v1", "MARIA_X"})
	if strings.Join(got, ",") != "c.v1,d.v1" {
		t.Fatalf("missing = %v, want [c.v1 d.v1]", got)
	}
}

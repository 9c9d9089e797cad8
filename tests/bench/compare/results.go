package main

import (
	"fmt"
	"os"
	"strings"
)

// The markers delimiting bench-compare's section of RESULTS.md: the
// section is replaced on every run, the rest of the file kept.
const (
	sectionBegin = "<!-- bench-compare:begin (written by make bench-compare) -->"
	sectionEnd   = "<!-- bench-compare:end -->"
)

// writeSection puts table between the markers of path, appending the
// section (under a heading) when the file has none yet.
func writeSection(path, table string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc := string(old)
	section := sectionBegin + "\n" + table + sectionEnd
	b, rest, found := strings.Cut(doc, sectionBegin)
	if found {
		_, after, ok := strings.Cut(rest, sectionEnd)
		if !ok {
			return fmt.Errorf("%s: %q without %q", path, sectionBegin, sectionEnd)
		}
		doc = b + section + after
	} else {
		doc = strings.TrimRight(doc, "\n") + "\n\n## Side by side: `make bench-compare`\n\n" + section + "\n"
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}

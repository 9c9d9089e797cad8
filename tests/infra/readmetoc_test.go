package infra

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	tocLink = regexp.MustCompile(`\]\(#([a-z0-9-]+)\)`)
	// anchorDrop is what GitHub removes from a heading to make its anchor.
	anchorDrop = regexp.MustCompile(`[^a-z0-9 -]`)
)

// TestReadmeContentsMatchSections: README's Contents lists every top-level
// section, and every link in it (and anywhere in README) to a #anchor leads
// to a heading.
func TestReadmeContentsMatchSections(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tocProblems(string(data)) {
		t.Error(p)
	}
}

func tocProblems(readme string) []string {
	anchors := map[string]bool{}
	var sections []string
	inCode := false
	var toc strings.Builder
	inTOC := false
	for _, line := range strings.Split(readme, "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if inCode || !strings.HasPrefix(line, "#") {
			if inTOC {
				toc.WriteString(line + "\n")
			}
			continue
		}
		level := len(line) - len(strings.TrimLeft(line, "#"))
		title := strings.TrimSpace(line[level:])
		anchor := strings.ReplaceAll(anchorDrop.ReplaceAllString(strings.ToLower(title), ""), " ", "-")
		anchors[anchor] = true
		inTOC = title == "Contents"
		if level == 2 && title != "Contents" && title != "Two commands" {
			sections = append(sections, anchor)
		}
	}
	var problems []string
	for _, a := range sections {
		if !strings.Contains(toc.String(), "](#"+a+")") {
			problems = append(problems, "section #"+a+" is not in the Contents")
		}
	}
	for _, m := range tocLink.FindAllStringSubmatch(readme, -1) {
		if !anchors[m[1]] {
			problems = append(problems, "link to #"+m[1]+" leads to no heading")
		}
	}
	return problems
}

func TestTOCProblems(t *testing.T) {
	readme := "# T\n## Contents\n- [A b](#a-b)\n- [Gone](#gone)\n\n## A b\n```\n## not a heading\n```\n## C: d, e\ntext [x](#c-d-e)\n"
	got := strings.Join(tocProblems(readme), "\n")
	want := "section #c-d-e is not in the Contents\nlink to #gone leads to no heading"
	if got != want {
		t.Fatalf("problems:\n%s\nwant:\n%s", got, want)
	}
}

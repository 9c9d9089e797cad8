package ops

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func out(typ, subject, data string) Output {
	return Output{Type: typ, Subject: subject, Data: data, Context: IsContext(subject, typ)}
}

func marks(lines []DiffLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Mark)
	}
	return b.String()
}

func TestDiffAlignsAndMarks(t *testing.T) {
	status := out("out.status.v1", "maria.out.T.C", `{"status":"thinking…"}`)
	post := out("out.post.v1", "maria.out.T.C", `{"text":"on it"}`)
	start := out("out.stream.start.v1", "maria.out.T.C", `{}`)
	appendA := out("out.stream.append.v1", "maria.out.T.C", `{"text":"S00042 is confirmed"}`)
	appendB := out("out.stream.append.v1", "maria.out.T.C", `{"text":"S00042 is cancelled"}`)
	stop := out("out.stream.stop.v1", "maria.out.T.C", `{}`)
	cmd := out("erp.command.v1", "maria.erp.command.crm.lead", `{"op":"create"}`)
	delivered := out("delivered.v1", "maria.delivered.T.C", `{"ts":"1.2"}`)
	result := out("erp.result.v1", "maria.erp.result.crm.lead", `{"ok":false}`)

	cases := []struct {
		name          string
		orig, sandbox []Output
		want          string
	}{
		{"identical", []Output{post, start, appendA, stop}, []Output{post, start, appendA, stop}, "===="},
		{"changed answer", []Output{post, start, appendA, stop}, []Output{post, start, appendB, stop}, "==~="},
		{"sandbox adds an ERP command", []Output{post, appendA}, []Output{post, cmd, appendA}, "=+="},
		{"sandbox lost the answer", []Output{post, start, appendA, stop}, []Output{post}, "=---"},
		{"nothing in the sandbox", []Output{post}, nil, "-"},
		{"nothing originally", nil, []Output{post}, "+"},
		{"context is listed, not compared", []Output{post, delivered}, []Output{post, result}, "=··"},
		{"a slow turn's status is listed, not compared", []Output{start, stop}, []Output{status, start, stop}, "==·"},
		{"both empty", nil, nil, ""},
	}
	for _, c := range cases {
		lines := Diff(c.orig, c.sandbox)
		if got := marks(lines); got != c.want {
			t.Errorf("%s: marks %q, want %q", c.name, got, c.want)
		}
		for _, l := range lines {
			switch l.Mark {
			case MarkSame, MarkChanged:
				if l.Original == nil || l.Sandbox == nil || l.Original.Key() != l.Sandbox.Key() {
					t.Errorf("%s: bad pair %+v", c.name, l)
				}
			case MarkOnlyOld:
				if l.Original == nil || l.Sandbox != nil {
					t.Errorf("%s: bad - line %+v", c.name, l)
				}
			case MarkOnlyNew:
				if l.Original != nil || l.Sandbox == nil {
					t.Errorf("%s: bad + line %+v", c.name, l)
				}
			}
		}
	}
}

func TestDiffRunsAndSideBySide(t *testing.T) {
	now := time.Now()
	sel := []Selected{
		{Sequence: 1, Subject: "maria.in.message.T.C", Time: now, Info: Info{ID: "a", Type: "slack.message.v1", CorrelationID: "a"}},
		{Sequence: 2, Subject: "maria.in.message.T.C", Time: now, Info: Info{ID: "b", Type: "slack.message.v1", CorrelationID: "b"}},
		{Sequence: 3, Subject: "maria.in.action.T.C", Time: now, Info: Info{ID: "c", Type: "slack.action.v1", CorrelationID: "a"}}, // same turn
	}
	react := out("out.react.v1", "maria.out.T.C", `{"name":"heart"}`)
	post := out("out.post.v1", "maria.out.T.C", `{"text":"hello"}`)
	post2 := out("out.post.v1", "maria.out.T.C", `{"text":"hello there"}`)
	diffs := DiffRuns(sel, map[string][]Output{"a": {react}, "b": {post}}, map[string][]Output{"a": {react}, "b": {post2}})
	if len(diffs) != 2 || diffs[0].CorrelationID != "a" || diffs[0].Differences != 0 || diffs[1].Differences != 1 {
		t.Fatalf("diffs %+v", diffs)
	}
	var buf bytes.Buffer
	n := PrintSideBySide(&buf, diffs, 120, false)
	s := buf.String()
	if n != 1 {
		t.Fatalf("differences %d", n)
	}
	for _, want := range []string{"correlation a  same", "correlation b  1 difference(s)", `~ out.post.v1 maria.out.T.C {"text":"hello"}`, `out.post.v1 maria.out.T.C {"text":"hello there"}`} {
		if !strings.Contains(s, want) {
			t.Fatalf("output lacks %q:\n%s", want, s)
		}
	}
	// Columns line up: the sandbox column starts at the same offset
	// (mark, space, original column, two spaces).
	col := (120-4)/2 + 4
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "= ") || strings.HasPrefix(line, "~ ") {
			if r := []rune(line); len(r) < col+4 || string(r[col:col+4]) != "out." {
				t.Fatalf("sandbox column not at %d in %q", col, line)
			}
		}
	}
	// Colour only when asked.
	buf.Reset()
	PrintSideBySide(&buf, diffs, 120, true)
	if !strings.Contains(buf.String(), "\x1b[") {
		t.Fatal("no colour")
	}
}

package ops

import (
	"fmt"
	"sort"
	"strings"
)

// SandboxMismatchError is a sandbox replay that did not reproduce the
// original run: a service could not run there, the outputs differ, or the
// sandbox never settled. `maria replay --to sandbox` exits non-zero with it,
// after the report: a script (or CI) can rely on the exit status.
type SandboxMismatchError struct {
	Skipped     []string
	Differences int
	Unsettled   bool
}

func (e *SandboxMismatchError) Error() string {
	var why []string
	if len(e.Skipped) > 0 {
		why = append(why, "skipped "+strings.Join(e.Skipped, ", "))
	}
	if e.Differences > 0 {
		why = append(why, fmt.Sprintf("%d difference(s)", e.Differences))
	}
	if e.Unsettled {
		why = append(why, "the sandbox did not settle")
	}
	return "the sandbox did not reproduce the original run: " + strings.Join(why, "; ")
}

// Verdict is nil when the sandbox reproduced the original run — every
// service ran, the outputs match, it settled — else a SandboxMismatchError.
// Dead letters are listed, not judged: the original run may have had them too.
func (rep *SandboxReport) Verdict() error {
	e := &SandboxMismatchError{Differences: rep.Differences, Unsettled: rep.QuietError != ""}
	for k := range rep.Skipped {
		e.Skipped = append(e.Skipped, k)
	}
	sort.Strings(e.Skipped)
	if len(e.Skipped) == 0 && e.Differences == 0 && !e.Unsettled {
		return nil
	}
	return e
}

// Summary is the report's last line: the verdict in a few words.
func (rep *SandboxReport) Summary(color bool) string {
	p := Painter(color)
	facts := fmt.Sprintf("%d correlation(s), %d difference(s), %d dead letter(s); ran %s", len(rep.Diffs), rep.Differences,
		len(rep.DeadLetters), dash(strings.Join(rep.Services, ", ")))
	if err := rep.Verdict(); err != nil {
		return p.Paint(cRed, "NOT REPRODUCED") + ": " + facts + "; " + strings.TrimPrefix(err.Error(), "the sandbox did not reproduce the original run: ")
	}
	return p.Paint(cGreen, "REPRODUCED") + ": " + facts
}

package ops

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// Output is one message a run produced for a correlation id.
type Output struct {
	Stream  string    `json:"stream"`
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Subject string    `json:"subject"`
	Type    string    `json:"type"`
	ID      string    `json:"id"`
	Data    string    `json:"data"`
	// Context outputs (deliveries, ERP results) are shown but not compared:
	// in a sandbox they are simulated, so they always differ.
	Context bool `json:"context,omitempty"`
}

// Key is what aligns outputs of two runs: the same kind of command to the
// same place.
func (o Output) Key() string { return o.Type + " " + o.Subject }

// OutputStreams are the streams whose messages count as a run's outputs.
var OutputStreams = []string{schemas.StreamOut, schemas.StreamERP, schemas.StreamStored, schemas.StreamDelivered}

// IsContext tells outputs that are listed for context only: deliveries and
// ERP results (simulated in a sandbox), and thread statuses, which the ai
// publishes only when a turn is slower than MARIA_AI_STATUS_DELAY — a
// matter of timing (a replay's burst is not the original's pace), not of
// what the turn did.
func IsContext(subject, typ string) bool {
	return strings.HasPrefix(subject, "maria.delivered.") || strings.HasPrefix(subject, "maria.erp.result.") || typ == schemas.TypeOutStatus
}

// CollectOutputs reads, from the given streams since a time, every message
// whose Maria-Correlation-Id is in corrs, except the messages with an id in
// inputs (the replayed messages themselves), grouped by correlation id in
// time order. One pass with the bodies: nearly every message of a sandbox
// matches, and a second request per match (headers first, then each match
// by sequence) cost more than the bodies of the few that do not.
func CollectOutputs(ctx context.Context, js jetstream.JetStream, streams []string, since time.Time, corrs, inputs map[string]bool) (map[string][]Output, error) {
	out := map[string][]Output{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(streams))
	for i, name := range streams {
		wg.Go(func() {
			err := Scan(ctx, js, name, Window{Since: since}, ScanOptions{}, func(s Stored) (bool, error) {
				if !corrs[s.Header.Get(schemas.HeaderCorrelationID)] || inputs[s.Header.Get(schemas.HeaderMsgID)] {
					return true, nil
				}
				in := Describe(s.Header, s.Data)
				o := Output{Stream: name, Seq: s.Sequence, Time: s.Time, Subject: s.Subject, Type: in.Type, ID: in.ID, Data: in.Data, Context: IsContext(s.Subject, in.Type)}
				mu.Lock()
				out[in.CorrelationID] = append(out[in.CorrelationID], o)
				mu.Unlock()
				return true, nil
			})
			if err != nil && !isNotFound(err) {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for k := range out {
		sort.SliceStable(out[k], func(i, j int) bool {
			a, b := out[k][i], out[k][j]
			if !a.Time.Equal(b.Time) {
				return a.Time.Before(b.Time)
			}
			return a.Stream < b.Stream || (a.Stream == b.Stream && a.Seq < b.Seq)
		})
	}
	return out, nil
}

func isNotFound(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "not found") || strings.Contains(err.Error(), "no message found"))
}

// Diff marks.
const (
	MarkSame    = "="
	MarkChanged = "~"
	MarkOnlyOld = "-" // only the original run produced it
	MarkOnlyNew = "+" // only the sandbox produced it
	MarkContext = "·" // listed, not compared
)

// DiffLine pairs an original output with a sandbox one.
type DiffLine struct {
	Mark     string  `json:"mark"`
	Original *Output `json:"original,omitempty"`
	Sandbox  *Output `json:"sandbox,omitempty"`
}

// Diff aligns two runs' outputs for one correlation id: a longest common
// subsequence on (type, subject), then paired outputs compare their data.
// Context outputs follow, unpaired.
func Diff(orig, sandbox []Output) []DiffLine {
	var a, b, ca, cb []Output
	for _, o := range orig {
		if o.Context {
			ca = append(ca, o)
		} else {
			a = append(a, o)
		}
	}
	for _, o := range sandbox {
		if o.Context {
			cb = append(cb, o)
		} else {
			b = append(b, o)
		}
	}
	// lcs[i][j] = LCS length of a[i:], b[j:]
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i].Key() == b[j].Key() {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var lines []DiffLine
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i].Key() == b[j].Key():
			mark := MarkSame
			if a[i].Data != b[j].Data {
				mark = MarkChanged
			}
			lines = append(lines, DiffLine{Mark: mark, Original: &a[i], Sandbox: &b[j]})
			i++
			j++
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			lines = append(lines, DiffLine{Mark: MarkOnlyNew, Sandbox: &b[j]})
			j++
		default:
			lines = append(lines, DiffLine{Mark: MarkOnlyOld, Original: &a[i]})
			i++
		}
	}
	for k := range ca {
		lines = append(lines, DiffLine{Mark: MarkContext, Original: &ca[k]})
	}
	for k := range cb {
		lines = append(lines, DiffLine{Mark: MarkContext, Sandbox: &cb[k]})
	}
	return lines
}

// CorrelationDiff is the comparison for one conversation turn.
type CorrelationDiff struct {
	CorrelationID string     `json:"correlation_id"`
	Input         string     `json:"input"`
	Lines         []DiffLine `json:"lines"`
	Differences   int        `json:"differences"`
}

// DiffRuns compares every correlation id of the replayed inputs, in order.
func DiffRuns(inputs []Selected, orig, sandbox map[string][]Output) []CorrelationDiff {
	seen := map[string]bool{}
	var res []CorrelationDiff
	for _, s := range inputs {
		c := s.Info.CorrelationID
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		d := CorrelationDiff{CorrelationID: c, Input: fmt.Sprintf("%s %s seq %d", dash(s.Info.Type), s.Subject, s.Sequence), Lines: Diff(orig[c], sandbox[c])}
		for _, l := range d.Lines {
			if l.Mark != MarkSame && l.Mark != MarkContext {
				d.Differences++
			}
		}
		res = append(res, d)
	}
	return res
}

// PrintSideBySide writes the original run's outputs next to the sandbox's,
// per correlation id, with a mark per line: "=" same, "~" same command with
// different content, "-" only the original run, "+" only the sandbox, "·"
// context (deliveries, ERP results), not compared. It returns the number of
// differences.
func PrintSideBySide(w io.Writer, diffs []CorrelationDiff, width int, color bool) int {
	if width < 60 {
		width = 60
	}
	col := (width - 4) / 2
	p := Painter(color)
	total := 0
	for _, d := range diffs {
		total += d.Differences
		status := p.Paint(cGreen, "same")
		if d.Differences > 0 {
			status = p.Paint(cRed, fmt.Sprintf("%d difference(s)", d.Differences))
		}
		fmt.Fprintf(w, "%s %s  %s\n  input: %s\n", p.Paint(cBold, "correlation"), p.Paint(cYellow, d.CorrelationID), status, d.Input)
		fmt.Fprintf(w, "  %-*s  %s\n", col, "ORIGINAL RUN", "SANDBOX")
		if len(d.Lines) == 0 {
			fmt.Fprintf(w, "  %-*s  %s\n", col, "(nothing)", "(nothing)")
		}
		for _, l := range d.Lines {
			left, right := cell(l.Original, col), cell(l.Sandbox, col)
			c := ""
			switch l.Mark {
			case MarkChanged:
				c = cYellow
			case MarkOnlyOld:
				c = cRed
			case MarkOnlyNew:
				c = cGreen
			case MarkContext:
				c = cDim
			}
			fmt.Fprintf(w, "%s %s  %s\n", p.Paint(c, l.Mark), p.Paint(c, padRunes(left, col)), p.Paint(c, right))
		}
		fmt.Fprintln(w)
	}
	return total
}

func cell(o *Output, n int) string {
	if o == nil {
		return ""
	}
	return Truncate(o.Type+" "+o.Subject+" "+o.Data, n)
}

func padRunes(s string, n int) string {
	r := []rune(s)
	if len(r) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(r))
}

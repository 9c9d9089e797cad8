package ops_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/schemas"
)

// sandboxReplay runs `maria replay --stream MARIA_IN --from-seq 1 --to
// sandbox` on live as the command does, r adding options; it returns the
// report as printed, and the command's error (its exit status).
func sandboxReplay(t *testing.T, live *bus.Bus, r ops.ReplayRequest) (string, error) {
	t.Helper()
	r.Stream, r.FromSeq, r.To, r.Timeout, r.Verbose = schemas.StreamIn, 1, "sandbox", 30*time.Second, false
	if r.Environ == nil {
		r.Environ = map[string]string{} // an operator's shell with nothing of Maria's set
	}
	p, err := ops.PlanReplay(r, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = ops.RunReplay(ctxT(t), live, p, ops.Console{Out: &out, Err: &errOut, Width: 160})
	t.Logf("stderr:\n%s\nstdout:\n%s", errOut.String(), out.String())
	return out.String(), err
}

// Replayed into the sandbox, the demo's ERP question runs through ai and
// erp there — the sandbox takes the demo's configuration, simulators
// included, from its data dir — and reproduces the demo's answer exactly:
// exit status 0 and a one-line verdict. --simulate (the sandbox's own
// simulators) reproduces it too. Running without the ai (--services) does
// not: the answer is missing, and the command fails.
func TestSandboxReplayOfDemoRunsEveryServiceAndJudges(t *testing.T) {
	e := startDemo(t)
	askOrder(t, e)
	bustest.Eventually(t, 10*time.Second, func() bool { return consumerIdle(ctxT(t), e.Observer, schemas.StreamIn, "ai") }, "demo at rest")

	for _, simulate := range []bool{false, true} {
		out, err := sandboxReplay(t, e.Observer, ops.ReplayRequest{Simulate: simulate})
		if err != nil {
			t.Fatalf("simulate=%v: %v", simulate, err)
		}
		last := lastLine(out)
		if !strings.HasPrefix(last, "REPRODUCED: 1 correlation(s), 0 difference(s), 0 dead letter(s); ran ") ||
			!strings.Contains(last, "ai") || !strings.Contains(last, "erp") || strings.Contains(out, "skipped") {
			t.Fatalf("simulate=%v: verdict %q", simulate, last)
		}
	}

	out, err := sandboxReplay(t, e.Observer, ops.ReplayRequest{Services: "egress"})
	var mismatch *ops.SandboxMismatchError
	if !errors.As(err, &mismatch) || mismatch.Differences == 0 || strings.Contains(err.Error(), "\n") {
		t.Fatalf("without the ai: err = %v", err)
	}
	if last := lastLine(out); !strings.HasPrefix(last, "NOT REPRODUCED: 1 correlation(s), ") {
		t.Fatalf("without the ai: verdict %q", last)
	}
}

// Against a deployment whose model and Odoo the operator's shell does not
// name, the sandbox skips ai and erp — and says so with a failing exit
// status instead of an "all clear".
func TestSandboxReplaySkippingServicesFails(t *testing.T) {
	live := bustest.New(t)
	publishMessage(t, live, "Ev-skip", "C1", "what is S00042?")
	out, err := sandboxReplay(t, live, ops.ReplayRequest{})
	var mismatch *ops.SandboxMismatchError
	if !errors.As(err, &mismatch) || !contains(mismatch.Skipped, "ai") || !contains(mismatch.Skipped, "erp") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(out, "skipped ai:") || !strings.HasPrefix(lastLine(out), "NOT REPRODUCED") {
		t.Fatalf("report:\n%s", out)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

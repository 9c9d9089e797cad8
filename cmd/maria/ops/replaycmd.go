package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mariahq/maria/bus"
)

// ReplayRequest is what `maria replay` was asked, as given on its command
// line; PlanReplay checks it before anything is connected.
type ReplayRequest struct {
	Stream, Subject string
	Since, Until    string // RFC3339 or a duration ago
	FromSeq, ToSeq  uint64
	Speed           string // instant, original or Nx
	To              string // sandbox or original
	RunID           string // empty: a new one
	Services        string // sandbox: comma-separated
	DryRun, Yes     bool
	Progress        bool // show the progress bar on Console.Err
	Verbose         bool // sandbox services' logs on Console.Err
	JSON            bool
	Timeout, Quiet  time.Duration
	// Simulate: the sandbox runs on its own OpenAI and Odoo simulators.
	Simulate bool
	// Environ is the operator's environment (nil: the process's).
	Environ map[string]string
}

// ReplayPlan is a checked ReplayRequest.
type ReplayPlan struct {
	ReplayRequest
	Mode   ReplayMode
	Window Window
	Factor float64
}

// PlanReplay checks a request: one start (time or sequence), a valid window,
// a known destination and speed; it gives the run a new id if it has none.
func PlanReplay(r ReplayRequest, now time.Time) (ReplayPlan, error) {
	p := ReplayPlan{ReplayRequest: r, Window: Window{Subject: r.Subject, FromSeq: r.FromSeq, ToSeq: r.ToSeq}}
	if r.Stream == "" {
		return p, errors.New("--stream is required")
	}
	if (r.Since == "") == (r.FromSeq == 0) {
		return p, errors.New("give exactly one of --since or --from-seq")
	}
	switch r.To {
	case "sandbox", "":
		p.Mode, p.To = ToSandbox, "sandbox"
	case "original":
		p.Mode = ToOriginal
	default:
		return p, fmt.Errorf("--to %q: want sandbox or original", r.To)
	}
	var err error
	if p.Window.Since, err = ParseTime(r.Since, now); err != nil {
		return p, err
	}
	if p.Window.Until, err = ParseTime(r.Until, now); err != nil {
		return p, err
	}
	if err := p.Window.Validate(); err != nil {
		return p, err
	}
	if p.Factor, err = ParseSpeed(r.Speed); err != nil {
		return p, err
	}
	if p.RunID == "" {
		p.RunID = NewRunID(now)
	}
	return p, nil
}

// RunReplay selects the window of the live stream and replays it as planned:
// listed (dry run), into the live pipeline, or into a sandbox.
func RunReplay(ctx context.Context, live *bus.Bus, p ReplayPlan, c Console) error {
	sel, err := Select(ctx, live.JetStream(), p.Stream, p.Window)
	if err != nil {
		return err
	}
	if len(sel) == 0 {
		fmt.Fprintf(c.Err, "no message of %s in that window\n", p.Stream)
		return nil
	}
	fmt.Fprintf(c.Err, "%d message(s) of %s selected: seq %d..%d, %s .. %s\n", len(sel), p.Stream, sel[0].Sequence, sel[len(sel)-1].Sequence,
		sel[0].Time.UTC().Format(time.RFC3339), sel[len(sel)-1].Time.UTC().Format(time.RFC3339))
	if p.DryRun {
		return c.Emit(p.JSON, sel, func(w io.Writer) { PrintSelection(w, sel) })
	}
	ro := ReplayOptions{Mode: p.Mode, RunID: p.RunID, Speed: p.Factor, Subject: p.Subject}
	if p.Progress {
		ro.Progress = c.Err
	}
	if p.Mode == ToOriginal {
		return replayOriginal(ctx, live, p, sel, ro, c)
	}
	return replaySandbox(ctx, live, p, sel, ro, c)
}

func replayOriginal(ctx context.Context, live *bus.Bus, p ReplayPlan, sel []Selected, ro ReplayOptions, c Console) error {
	if err := c.Confirm(p.Yes, fmt.Sprintf("Re-drive %d message(s) of %s into the LIVE pipeline (run %s)? Processors will handle them again, with real effects.", len(sel), p.Stream, p.RunID)); err != nil {
		return err
	}
	res, err := Replay(ctx, live.JetStream(), p.Stream, sel, live, ro)
	if err != nil {
		return p.stopped(c.Err, sel, res, err)
	}
	if p.JSON {
		return JSON(c.Out, res)
	}
	fmt.Fprintf(c.Out, "replay %s: %d message(s) republished to the live pipeline, %d duplicate(s) dropped\n", res.RunID, res.Published, res.Duplicates)
	if res.Skipped > 0 {
		fmt.Fprintf(c.Out, "skipped %d ERP command(s) (maria.erp.command.>): a confirmed write is never executed twice; to retry a failed one, re-drive its dead letter\n", res.Skipped)
	}
	return nil
}

func replaySandbox(ctx context.Context, live *bus.Bus, p ReplayPlan, sel []Selected, ro ReplayOptions, c Console) error {
	var logOut io.Writer
	if p.Verbose {
		logOut = c.Err
	}
	environ, err := sandboxEnviron(live, p, c)
	if err != nil {
		return err
	}
	so := SandboxReplayOptions{Sandbox: SandboxOptions{Environ: environ, LogOutput: logOut, Simulate: p.Simulate}, Replay: ro, Quiet: p.Quiet, Timeout: p.Timeout}
	for _, s := range strings.Split(p.Services, ",") {
		if s = strings.TrimSpace(s); s != "" {
			so.Sandbox.Services = append(so.Sandbox.Services, s)
		}
	}
	rep, err := SandboxReplay(ctx, live, p.Stream, sel, so)
	if err != nil {
		if rep != nil {
			return p.stopped(c.Err, sel, rep.Replay, err)
		}
		return err
	}
	if err := c.Emit(p.JSON, rep, func(w io.Writer) { PrintSandboxReport(w, rep, c.Width, c.Color) }); err != nil {
		return err
	}
	return rep.Verdict()
}

// sandboxEnviron is the configuration the sandbox's services start from:
// the operator's environment, with, against a demo (its data dir holds
// DemoConfigFile), the demo's own service configuration on top, so ai and
// erp run as they ran there (--simulate then swaps only the simulators).
func sandboxEnviron(live *bus.Bus, p ReplayPlan, c Console) (map[string]string, error) {
	environ := p.Environ
	if environ == nil {
		environ = Environ()
	}
	vars, from, err := ReadDemoConfig(live.Config().DataDir, CredsDataDir(environ["NATS_CREDS"]))
	if err != nil || vars == nil {
		return environ, err
	}
	merged := make(map[string]string, len(environ)+len(vars))
	for k, v := range environ {
		merged[k] = v
	}
	for k, v := range vars {
		merged[k] = v
	}
	fmt.Fprintf(c.Err, "replaying against a demo: its services' configuration from %s\n", from)
	return merged, nil
}

// stopped reports a replay that ended early: the exact command that resumes
// it, and "interrupted" for a Ctrl-C.
func (p ReplayPlan) stopped(w io.Writer, sel []Selected, r ReplayResult, err error) error {
	if r.Resume > 0 {
		fmt.Fprintf(w, "\nstopped after %d of %d message(s); to resume: maria replay --stream %s --from-seq %d", r.Published+r.Duplicates, len(sel), p.Stream, r.Resume)
		if p.ToSeq > 0 {
			fmt.Fprintf(w, " --to-seq %d", p.ToSeq)
		} else {
			fmt.Fprintf(w, " --to-seq %d", sel[len(sel)-1].Sequence)
		}
		if p.Subject != "" {
			fmt.Fprintf(w, " --subject %s", p.Subject)
		}
		fmt.Fprintf(w, " --to %s --run-id %s\n", p.To, p.RunID)
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted")
	}
	return err
}

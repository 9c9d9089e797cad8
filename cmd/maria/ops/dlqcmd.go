package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// DLQSelection is which dead letters a `maria dlq` command works on: the
// sequence numbers given, or every one matching the filters (All, or any
// filter set).
type DLQSelection struct {
	Stream, Consumer string
	Since            time.Time
	All              bool
	Seqs             []uint64
}

// Filtered reports whether a filter selects the dead letters.
func (s DLQSelection) Filtered() bool {
	return s.Stream != "" || s.Consumer != "" || !s.Since.IsZero()
}

// ParseSeqs reads dead-letter sequence numbers given on the command line.
func ParseSeqs(args []string) ([]uint64, error) {
	seqs := make([]uint64, 0, len(args))
	for _, a := range args {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("%q is not a sequence number", a)
		}
		seqs = append(seqs, n)
	}
	return seqs, nil
}

// requireDLQ makes every dlq command say in one line that there is no
// MARIA_DLQ stream (see MissingStreamError) before it does anything.
func requireDLQ(ctx context.Context, js jetstream.JetStream) error {
	_, err := OpenStream(ctx, js, schemas.StreamDLQ)
	return err
}

// DLQList prints the dead letters matching the selection's filters.
func DLQList(ctx context.Context, js jetstream.JetStream, s DLQSelection, c Console, asJSON bool) error {
	if err := requireDLQ(ctx, js); err != nil {
		return err
	}
	rows, err := ListDLQ(ctx, js, s.Stream, s.Consumer, s.Since)
	if err != nil {
		return err
	}
	return c.Emit(asJSON, rows, func(w io.Writer) { PrintDLQ(w, rows) })
}

// DLQShow prints one dead letter: where it came from, its headers and its
// decoded envelope.
func DLQShow(ctx context.Context, js jetstream.JetStream, seq uint64, c Console, asJSON bool) error {
	if err := requireDLQ(ctx, js); err != nil {
		return err
	}
	d, err := ShowDLQ(ctx, js, seq)
	if err != nil {
		return err
	}
	if asJSON {
		return JSON(c.Out, d)
	}
	return PrintDeadLetter(c.Out, d)
}

// PrintDeadLetter writes one dead letter as `maria dlq show` does.
func PrintDeadLetter(w io.Writer, d DeadLetterDetail) error {
	r := d.Row
	fmt.Fprintf(w, "dead letter %d  %s\n  from     %s seq %d, consumer %s\n  subject  %s\n  tried    %d time(s)\n  reason   %s\n\nheaders:\n",
		r.Seq, r.Time.UTC().Format("2006-01-02T15:04:05.000Z"), r.Stream, r.OrigSeq, r.Consumer, r.Subject, r.Deliveries, r.Reason)
	keys := make([]string, 0, len(d.Header))
	for k := range d.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range d.Header[k] {
			fmt.Fprintf(w, "  %s: %s\n", k, v)
		}
	}
	fmt.Fprintln(w, "\nenvelope:")
	return JSON(w, d.Envelope)
}

// resolve turns the selection into sequence numbers; rows are filled when
// the filters were listed (nil for explicit sequence numbers).
func (s *DLQSelection) resolve(ctx context.Context, js jetstream.JetStream) ([]uint64, []DeadLetterRow, error) {
	switch {
	case (s.All || s.Filtered()) && len(s.Seqs) > 0:
		return nil, nil, errors.New("give sequence numbers or a selection (--all, --stream, --consumer, --since), not both")
	case s.All || s.Filtered():
		s.All = true
		rows, err := ListDLQ(ctx, js, s.Stream, s.Consumer, s.Since)
		if err != nil {
			return nil, nil, err
		}
		seqs := make([]uint64, 0, len(rows))
		for _, r := range rows {
			seqs = append(seqs, r.Seq)
		}
		return seqs, rows, nil
	}
	return s.Seqs, nil, nil
}

// DLQAction is `maria dlq redrive` or `maria dlq purge`.
type DLQAction struct {
	Purge       bool // else redrive
	Sel         DLQSelection
	DryRun, Yes bool
	JSON        bool
}

func (a DLQAction) verb() string {
	if a.Purge {
		return "purge"
	}
	return "redrive"
}

// RunDLQAction selects dead letters, then lists them (--dry-run), or
// confirms and redrives or purges them.
func RunDLQAction(ctx context.Context, b *bus.Bus, a DLQAction, c Console) error {
	if err := requireDLQ(ctx, b.JetStream()); err != nil {
		return err
	}
	seqs, rows, err := a.Sel.resolve(ctx, b.JetStream())
	if err != nil {
		return err
	}
	if len(seqs) == 0 {
		if a.Sel.All {
			fmt.Fprintln(c.Out, "no dead letters")
			return nil
		}
		return errors.New("give sequence numbers or --all")
	}
	if a.DryRun {
		return dryRunDLQ(ctx, b.JetStream(), a.verb(), seqs, rows, c)
	}
	if a.Purge {
		return purgeDLQ(ctx, b.JetStream(), a, seqs, c)
	}
	if err := c.Confirm(a.Yes, fmt.Sprintf("Return %d dead letter(s) to processing on their original subjects?", len(seqs))); err != nil {
		return err
	}
	return redriveDLQ(ctx, b, seqs, a.JSON, c)
}

// dryRunDLQ lists what redrive or purge would touch.
func dryRunDLQ(ctx context.Context, js jetstream.JetStream, verb string, seqs []uint64, rows []DeadLetterRow, c Console) error {
	if rows == nil {
		for _, sq := range seqs {
			d, err := ShowDLQ(ctx, js, sq)
			if err != nil {
				return err
			}
			rows = append(rows, d.Row)
		}
	}
	fmt.Fprintf(c.Out, "dry run: would %s %d dead letter(s):\n", verb, len(rows))
	PrintDLQ(c.Out, rows)
	return nil
}

func purgeDLQ(ctx context.Context, js jetstream.JetStream, a DLQAction, seqs []uint64, c Console) error {
	if err := c.Confirm(a.Yes, fmt.Sprintf("Delete %d dead letter(s) for good?", len(seqs))); err != nil {
		return err
	}
	n := uint64(len(seqs))
	if a.Sel.All && a.Sel.Since.IsZero() {
		// By filter, in one server-side purge.
		var err error
		if n, err = PurgeAllDLQ(ctx, js, a.Sel.Stream, a.Sel.Consumer); err != nil {
			return err
		}
	} else if err := PurgeDLQ(ctx, js, seqs); err != nil {
		return err
	}
	fmt.Fprintf(c.Out, "purged %d dead letter(s)\n", n)
	return nil
}

// redriveDLQ redrives each dead letter in turn, going on past failures and
// reporting them all at the end; Ctrl-C stops between two.
func redriveDLQ(ctx context.Context, b *bus.Bus, seqs []uint64, asJSON bool, c Console) error {
	var errs []error
	var results []RedriveResult
	for _, s := range seqs {
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("interrupted before %d", s))
			break
		}
		res, err := Redrive(ctx, b, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		results = append(results, res)
		if !asJSON {
			note := ""
			if res.Duplicate {
				note = " (already redriven: duplicate dropped)"
			}
			fmt.Fprintf(c.Out, "redrove %d → %s (%s seq %s)%s\n", s, res.Subject, res.Stream, strconv.FormatUint(res.NewSeq, 10), note)
		}
	}
	if asJSON {
		if err := JSON(c.Out, results); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

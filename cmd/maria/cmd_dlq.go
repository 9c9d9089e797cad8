package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/mariahq/maria/cmd/maria/ops"
)

func init() {
	register("dlq", "dead letters: maria dlq list|show|redrive|purge", cmdDLQ)
}

const dlqUsage = `usage:
  maria dlq list    [--stream S] [--consumer C] [--since T] [--json]      (alias: ls)
  maria dlq show    SEQ [--json]
  maria dlq redrive (SEQ... | --all | [--stream S] [--consumer C] [--since T]) [--dry-run] [--yes]
  maria dlq purge   (SEQ... | --all | [--stream S] [--consumer C] [--since T]) [--dry-run] [--yes]
SEQ is the dead letter's sequence in MARIA_DLQ (see list). A filter without SEQs selects every
dead letter it matches. T is RFC3339 or a duration ago (2h).`

func cmdDLQ(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, dlqUsage)
		return errors.New("missing subcommand")
	}
	sub := args[0]
	if sub == "ls" {
		sub = "list"
	}
	switch sub {
	case "list", "show", "redrive", "purge":
	default:
		fmt.Fprintln(os.Stderr, dlqUsage)
		return fmt.Errorf("unknown subcommand %q", sub)
	}
	fs := flag.NewFlagSet("dlq "+sub, flag.ContinueOnError)
	stream := fs.String("stream", "", "only dead letters of this stream (e.g. MARIA_IN)")
	consumer := fs.String("consumer", "", "only dead letters of this consumer (e.g. ai)")
	all := fs.Bool("all", false, "every dead letter (of --stream/--consumer/--since if given)")
	sinceFlag := fs.String("since", "", "only dead letters stored since this time (RFC3339 or a duration ago: 2h)")
	dryRun := fs.Bool("dry-run", false, "redrive/purge: list what would be done, do nothing")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() { fmt.Fprintln(fs.Output(), dlqUsage); fs.PrintDefaults() }
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	since, err := ops.ParseTime(*sinceFlag, time.Now())
	if err != nil {
		return err
	}
	filtered := *stream != "" || *consumer != "" || !since.IsZero()
	ctx, stop := opsContext()
	defer stop()
	b, err := connectOps(ctx)
	if err != nil {
		return err
	}
	defer b.Close()

	switch sub {
	case "list":
		rows, err := ops.ListDLQ(ctx, b.JS, *stream, *consumer, since)
		if err != nil {
			return err
		}
		if *asJSON {
			return ops.JSON(os.Stdout, rows)
		}
		ops.PrintDLQ(os.Stdout, rows)
		return nil
	case "show":
		seqs, err := parseSeqs(pos)
		if err != nil {
			return err
		}
		if len(seqs) != 1 {
			return errors.New("show takes one sequence number")
		}
		d, err := ops.ShowDLQ(ctx, b.JS, seqs[0])
		if err != nil {
			return err
		}
		if *asJSON {
			return ops.JSON(os.Stdout, d)
		}
		r := d.Row
		fmt.Printf("dead letter %d  %s\n  from     %s seq %d, consumer %s\n  subject  %s\n  tried    %d time(s)\n  reason   %s\n\nheaders:\n",
			r.Seq, r.Time.UTC().Format("2006-01-02T15:04:05.000Z"), r.Stream, r.OrigSeq, r.Consumer, r.Subject, r.Deliveries, r.Reason)
		keys := make([]string, 0, len(d.Header))
		for k := range d.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range d.Header[k] {
				fmt.Printf("  %s: %s\n", k, v)
			}
		}
		fmt.Println("\nenvelope:")
		return ops.JSON(os.Stdout, d.Envelope)
	case "redrive", "purge":
		var seqs []uint64
		var rows []ops.DeadLetterRow
		switch {
		case (*all || filtered) && len(pos) > 0:
			return errors.New("give sequence numbers or a selection (--all, --stream, --consumer, --since), not both")
		case *all || filtered:
			*all = true
			if rows, err = ops.ListDLQ(ctx, b.JS, *stream, *consumer, since); err != nil {
				return err
			}
			for _, r := range rows {
				seqs = append(seqs, r.Seq)
			}
		default:
			if seqs, err = parseSeqs(pos); err != nil {
				return err
			}
		}
		if len(seqs) == 0 {
			if *all {
				fmt.Println("no dead letters")
				return nil
			}
			return errors.New("give sequence numbers or --all")
		}
		if *dryRun {
			if rows == nil {
				for _, sq := range seqs {
					d, err := ops.ShowDLQ(ctx, b.JS, sq)
					if err != nil {
						return err
					}
					rows = append(rows, d.Row)
				}
			}
			fmt.Printf("dry run: would %s %d dead letter(s):\n", sub, len(rows))
			ops.PrintDLQ(os.Stdout, rows)
			return nil
		}
		if sub == "purge" {
			if err := confirm(*yes, fmt.Sprintf("Delete %d dead letter(s) for good?", len(seqs))); err != nil {
				return err
			}
			if *all && since.IsZero() {
				n, err := ops.PurgeAllDLQ(ctx, b.JS, *stream, *consumer)
				if err != nil {
					return err
				}
				fmt.Printf("purged %d dead letter(s)\n", n)
				return nil
			}
			if err := ops.PurgeDLQ(ctx, b.JS, seqs); err != nil {
				return err
			}
			fmt.Printf("purged %d dead letter(s)\n", len(seqs))
			return nil
		}
		if err := confirm(*yes, fmt.Sprintf("Return %d dead letter(s) to processing on their original subjects?", len(seqs))); err != nil {
			return err
		}
		var errs []error
		var results []ops.RedriveResult
		for _, s := range seqs {
			if ctx.Err() != nil {
				errs = append(errs, fmt.Errorf("interrupted before %d", s))
				break
			}
			res, err := ops.Redrive(ctx, b, s)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			results = append(results, res)
			if !*asJSON {
				note := ""
				if res.Duplicate {
					note = " (already redriven: duplicate dropped)"
				}
				fmt.Printf("redrove %d → %s (%s seq %s)%s\n", s, res.Subject, res.Stream, strconv.FormatUint(res.NewSeq, 10), note)
			}
		}
		if *asJSON {
			if err := ops.JSON(os.Stdout, results); err != nil {
				return err
			}
		}
		return errors.Join(errs...)
	}
	return nil
}

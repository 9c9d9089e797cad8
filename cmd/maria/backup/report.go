package backup

import (
	"fmt"
	"io"
	"time"

	"github.com/dustin/go-humanize"
)

// reporter prints progress: one line per stream when it is done and, on a
// terminal, a live line while its chunks move.
type reporter struct {
	w    io.Writer
	live bool
}

func (r reporter) printf(format string, a ...any) {
	if r.w != nil {
		fmt.Fprintf(r.w, format, a...)
	}
}

// moving redraws the live line for a stream (bytes done of total).
func (r reporter) moving(verb, stream string, done, total uint64, bps uint64) {
	if !r.live || r.w == nil {
		return
	}
	pct := 100.0
	if total > 0 {
		pct = min(100, 100*float64(done)/float64(total))
	}
	fmt.Fprintf(r.w, "\r  %s %-24s %5.1f%%  %s/s\x1b[K", verb, stream, pct, humanize.IBytes(bps))
}

// finished prints a stream's summary line.
func (r reporter) finished(verb string, e Entry, took time.Duration) {
	if r.live {
		r.printf("\r\x1b[K")
	}
	r.printf("  %s %-24s %-6s %8d messages %10s %3d consumers  %s\n", verb, e.Name, e.Kind, e.Messages,
		humanize.IBytes(e.Bytes), e.Consumers, took.Round(time.Millisecond))
}

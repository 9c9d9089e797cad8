package ops

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress draws a one-line progress bar with rate and ETA, redrawn at most
// every 200ms (meant for a terminal's stderr).
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	n     int
	start time.Time
	last  time.Time
	now   func() time.Time
}

// NewProgress starts a bar for total items.
func NewProgress(w io.Writer, total int) *Progress {
	p := &Progress{w: w, total: total, now: time.Now}
	p.start = p.now()
	return p
}

// Set records n items done and redraws if due.
func (p *Progress) Set(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = n
	if t := p.now(); t.Sub(p.last) >= 200*time.Millisecond || n == p.total {
		p.last = t
		fmt.Fprint(p.w, "\r"+p.line(t)+"\x1b[K")
	}
}

// Done ends the line.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r"+p.line(p.now())+"\x1b[K\n")
}

func (p *Progress) line(now time.Time) string {
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = float64(p.n) / float64(p.total)
	}
	filled := int(frac * width)
	el := now.Sub(p.start)
	rate := 0.0
	if el > 0 {
		rate = float64(p.n) / el.Seconds()
	}
	eta := "?"
	if rate > 0 {
		eta = time.Duration(float64(p.total-p.n) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("[%s%s] %d/%d %3.0f%%  %.1f msg/s  ETA %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		p.n, p.total, frac*100, rate, eta)
}

// ErrNotConfirmed is returned when the operator declines.
var ErrNotConfirmed = errors.New("not confirmed")

// Confirm asks a yes/no question on out and reads the answer from in.
func Confirm(in io.Reader, out io.Writer, question string) error {
	fmt.Fprintf(out, "%s [y/N] ", question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("%w (no answer)", ErrNotConfirmed)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return ErrNotConfirmed
}

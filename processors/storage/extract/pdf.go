package extract

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ledongthuc/pdf"
)

// pdfTimeout bounds one PDF's extraction: a document that takes longer is
// refused rather than holding a storage worker.
var pdfTimeout = 20 * time.Second

// pdfText extracts a PDF's text page by page, line by line (text pieces
// grouped by their baseline, left to right). The library parses only
// what it is asked for; before interpreting a page, its content streams
// are read once decompressed through a counting limit, so a stream that
// inflates past MaxStreamBytes (a compression bomb) is refused without
// ever being held in memory. The parser panics on some malformed input:
// that is recovered and reported as unreadable.
func pdfText(r io.ReaderAt, size int64, lim Limits) (Result, error) {
	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if p := recover(); p != nil {
				o = outcome{err: fmt.Errorf("%w: malformed PDF (%v)", ErrUnreadable, p)}
			}
			done <- o
		}()
		o.res, o.err = readPDF(r, size, lim)
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-time.After(pdfTimeout):
		return Result{}, fmt.Errorf("%w: reading the PDF took over %s", ErrUnreadable, pdfTimeout)
	}
}

func readPDF(r io.ReaderAt, size int64, lim Limits) (Result, error) {
	doc, err := pdf.NewReader(r, size)
	if err != nil {
		if err == pdf.ErrInvalidPassword || strings.Contains(err.Error(), "encrypt") {
			return Result{}, fmt.Errorf("%w: the PDF is encrypted (password-protected)", ErrUnreadable)
		}
		return Result{}, fmt.Errorf("%w: not a readable PDF: %v", ErrUnreadable, err)
	}
	pages := doc.NumPage()
	if pages <= 0 {
		return Result{}, fmt.Errorf("%w: the PDF has no pages", ErrUnreadable)
	}
	res := Result{}
	maxPages := lim.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultLimits.MaxPages
	}
	if pages > maxPages {
		res.Truncated, res.Note = true, fmt.Sprintf("only the first %d of %d pages were read", maxPages, pages)
		pages = maxPages
	}
	var b strings.Builder
	var inflated int64
	for i := 1; i <= pages; i++ {
		p := doc.Page(i)
		if p.V.IsNull() || p.V.Key("Contents").Kind() == pdf.Null {
			continue
		}
		n, err := contentSize(p.V.Key("Contents"), lim.MaxStreamBytes-inflated)
		inflated += n
		if err != nil {
			return Result{}, err
		}
		if pages > 1 {
			fmt.Fprintf(&b, "--- page %d ---\n", i)
		}
		for _, line := range pageLines(p) {
			b.WriteString(line)
			b.WriteByte('\n')
		}
		if lim.MaxChars > 0 && b.Len() > lim.MaxChars*4 {
			res.Truncated, res.Note = true, fmt.Sprintf("only the first %d of %d pages were read", i, doc.NumPage())
			break
		}
	}
	if strings.TrimSpace(strings.ReplaceAll(b.String(), "---", "")) == "" {
		return Result{}, fmt.Errorf("%w: the PDF has no text (a scan? share it as an image instead)", ErrUnreadable)
	}
	text, cut := capText(strings.ToValidUTF8(b.String(), "\uFFFD"), lim.MaxChars)
	res.Text = text
	if cut {
		res.Truncated, res.Note = true, fmt.Sprintf("only the first %d characters were kept", lim.MaxChars)
	}
	return res, nil
}

// contentSize reads a page's content stream(s) decompressed, up to budget
// bytes (≤ 0: none left), and returns how many there were.
func contentSize(v pdf.Value, budget int64) (int64, error) {
	var streams []pdf.Value
	if v.Kind() == pdf.Array {
		for i := 0; i < v.Len(); i++ {
			streams = append(streams, v.Index(i))
		}
	} else {
		streams = []pdf.Value{v}
	}
	var total int64
	for _, s := range streams {
		if s.Kind() != pdf.Stream {
			continue
		}
		rc := s.Reader()
		n, err := io.Copy(io.Discard, io.LimitReader(rc, max(budget-total, 0)+1))
		_ = rc.Close()
		total += n
		if total > budget {
			return total, fmt.Errorf("%w: the PDF's content expands beyond %d MB (a compression bomb?)", ErrUnreadable, (budget+total-n)>>20)
		}
		if err != nil {
			return total, fmt.Errorf("%w: a content stream is damaged: %v", ErrUnreadable, err)
		}
	}
	return total, nil
}

// pageLines groups a page's text pieces into lines by baseline (top to
// bottom), each left to right, with a space where pieces are apart.
func pageLines(p pdf.Page) []string {
	texts := p.Content().Text
	type line struct {
		y     float64
		texts []pdf.Text
	}
	var lines []*line
	for _, t := range texts {
		var l *line
		for _, c := range lines {
			if math.Abs(c.y-t.Y) < max(t.FontSize*0.4, 1) {
				l = c
				break
			}
		}
		if l == nil {
			l = &line{y: t.Y}
			lines = append(lines, l)
		}
		l.texts = append(l.texts, t)
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].y > lines[j].y })
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		sort.SliceStable(l.texts, func(i, j int) bool { return l.texts[i].X < l.texts[j].X })
		var b strings.Builder
		end := math.Inf(-1)
		for _, t := range l.texts {
			if b.Len() > 0 && t.X-end > max(t.FontSize*0.2, 0.5) && !strings.HasSuffix(b.String(), " ") {
				b.WriteByte(' ')
			}
			b.WriteString(t.S)
			end = t.X + t.W
		}
		if s := strings.TrimSpace(b.String()); s != "" {
			out = append(out, s)
		}
	}
	return out
}

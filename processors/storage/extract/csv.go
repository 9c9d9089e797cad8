package extract

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// csvTable renders a CSV (or TSV) file as a compact pipe table: the header
// and up to MaxCSVRows rows, every cell cut at MaxCellChars, followed by
// how many rows were left out. A ragged or badly quoted file is read as
// far as it goes.
func csvTable(r io.Reader, tsv bool, lim Limits) (Result, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	if tsv {
		cr.Comma = '\t'
	}
	maxRows := lim.MaxCSVRows
	if maxRows <= 0 {
		maxRows = DefaultLimits.MaxCSVRows
	}
	var b strings.Builder
	rows, skipped, cols := 0, 0, 0
	var readErr error
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && rows > 0 {
				readErr = err
				break
			}
			return Result{}, fmt.Errorf("%w: not a readable CSV file: %v", ErrUnreadable, err)
		}
		if rows > maxRows || (lim.MaxChars > 0 && b.Len() > lim.MaxChars) {
			skipped++
			continue
		}
		cols = max(cols, len(rec))
		cells := make([]string, len(rec))
		for i, c := range rec {
			cells[i] = cell(c, lim.MaxCellChars)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		if rows == 0 {
			b.WriteString("|" + strings.Repeat(" --- |", max(len(rec), 1)) + "\n")
		}
		rows++
	}
	if rows == 0 {
		return Result{}, fmt.Errorf("%w: the CSV file has no rows", ErrUnreadable)
	}
	res := Result{}
	data := rows - 1
	fmt.Fprintf(&b, "(%d data rows, %d columns", data+skipped, cols)
	if skipped > 0 {
		fmt.Fprintf(&b, "; only the first %d are shown", data)
		res.Truncated, res.Note = true, fmt.Sprintf("only the first %d of %d rows were kept", data, data+skipped)
	}
	b.WriteString(")\n")
	if readErr != nil {
		fmt.Fprintf(&b, "(reading stopped at a malformed line: %v)\n", readErr)
	}
	text, cut := capText(b.String(), lim.MaxChars)
	res.Text = text
	if cut {
		res.Truncated, res.Note = true, fmt.Sprintf("only the first %d characters were kept", utf8.RuneCountInString(text))
	}
	return res, nil
}

// cell flattens and cuts one CSV cell for the table.
func cell(s string, maxChars int) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	s = strings.ReplaceAll(s, "|", "/")
	if maxChars > 0 && utf8.RuneCountInString(s) > maxChars {
		r := []rune(s)
		s = string(r[:maxChars-1]) + "…"
	}
	return s
}

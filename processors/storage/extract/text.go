package extract

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// plainText reads text, Markdown or JSON as it is: valid UTF-8 (invalid
// bytes replaced), NULs dropped, capped at MaxChars.
func plainText(r io.Reader, lim Limits) (Result, error) {
	max := int64(lim.MaxChars) * 4 // a rune is at most 4 bytes
	if max <= 0 {
		max = lim.MaxInputBytes
	}
	raw, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return Result{}, fmt.Errorf("%w: read: %v", ErrUnreadable, err)
	}
	s := strings.ToValidUTF8(string(raw), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	s = strings.TrimPrefix(s, "\uFEFF")
	if strings.TrimSpace(s) == "" {
		return Result{}, fmt.Errorf("%w: the file has no text", ErrUnreadable)
	}
	text, cut := capText(s, lim.MaxChars)
	res := Result{Text: text, Truncated: cut || int64(len(raw)) > max}
	if res.Truncated {
		res.Note = fmt.Sprintf("only the first %d characters were kept", utf8.RuneCountInString(text))
	}
	return res, nil
}

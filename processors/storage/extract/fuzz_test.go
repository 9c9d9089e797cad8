package extract

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzText feeds arbitrary bytes to every extractor: whatever they are, the
// result is text or one of the package's errors, never a panic or a hang.
func FuzzText(f *testing.F) {
	f.Add(makePDF(quote, false, nil), "application/pdf")
	f.Add(makePDF(quote, true, nil), "application/pdf")
	f.Add(encryptedPDF(), "application/pdf")
	f.Add([]byte("a,b\n\"c,d\n1,2"), "text/csv")
	f.Add([]byte("# t\n\x00\xff"), "text/markdown")
	lim := DefaultLimits
	lim.MaxStreamBytes, lim.MaxChars = 1<<20, 10_000
	f.Fuzz(func(t *testing.T, body []byte, typ string) {
		start := time.Now()
		res, err := Text(bytes.NewReader(body), int64(len(body)), typ, "f", lim)
		if err != nil && !errors.Is(err, ErrUnreadable) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooBig) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("slow: %s", time.Since(start))
		}
		if len(res.Text) > 4*lim.MaxChars+64 {
			t.Fatalf("text of %d bytes over the cap", len(res.Text))
		}
	})
}

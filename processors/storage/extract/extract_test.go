package extract

import (
	"bytes"
	"compress/zlib"
	"errors"
	"strings"
	"testing"
)

var quote = []string{"QUOTATION S00042", "Customer: Azure Interior", "Desk Combination 2 x 450.00", "Total: 1,050.00 EUR"}

func TestText(t *testing.T) {
	bigCSV := "sku,qty\n" + strings.Repeat("A-1,3\n", 500)
	hugeLine := "name,notes\nx," + strings.Repeat("y", 2<<20) + "\n"
	tests := []struct {
		name, typ, file string
		body            []byte
		lim             Limits
		kind            string
		want            []string
		truncated       bool
		err             error
	}{
		{name: "pdf", typ: "application/pdf", file: "q.pdf", body: makePDF(quote, false, nil), kind: KindPDF,
			want: []string{"QUOTATION S00042\nCustomer: Azure Interior", "Total: 1,050.00 EUR"}},
		{name: "deflated pdf", typ: "application/pdf", file: "q.pdf", body: makePDF(quote, true, nil), kind: KindPDF,
			want: []string{"Desk Combination 2 x 450.00"}},
		{name: "text", typ: "text/plain; charset=utf-8", file: "n.txt", body: []byte("hello\nworld"), kind: KindText, want: []string{"hello\nworld"}},
		{name: "markdown by name", typ: "text/plain", file: "notes.md", body: []byte("# Title\n- a"), kind: KindMarkdown, want: []string{"# Title"}},
		{name: "json", typ: "application/json", file: "d.json", body: []byte(`{"a":1}`), kind: KindJSON, want: []string{`{"a":1}`}},
		{name: "csv table", typ: "text/csv", file: "s.csv", body: []byte("sku,qty\nA-1,3\nB-2,5\n"), kind: KindCSV,
			want: []string{"| sku | qty |\n| --- | --- |\n| A-1 | 3 |\n| B-2 | 5 |", "(2 data rows, 2 columns)"}},
		{name: "csv rows limited", typ: "text/csv", file: "s.csv", body: []byte(bigCSV), lim: Limits{MaxCSVRows: 10},
			kind: KindCSV, want: []string{"(500 data rows, 2 columns; only the first 10 are shown)"}, truncated: true},
		{name: "csv huge line", typ: "text/csv", file: "s.csv", body: []byte(hugeLine), lim: Limits{MaxCellChars: 20},
			kind: KindCSV, want: []string{"| x | yyyyyyyyyyyyyyyyyyy… |"}},
		{name: "text capped", typ: "text/plain", file: "n.txt", body: []byte(strings.Repeat("abcd\n", 100)), lim: Limits{MaxChars: 52},
			kind: KindText, want: []string{"abcd\nabcd"}, truncated: true},
		{name: "image has no text", typ: "image/png", file: "a.png", body: []byte("\x89PNG"), kind: KindImage},
		{name: "docx unsupported", typ: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", file: "a.docx",
			body: []byte("PK"), err: ErrUnsupported},
		{name: "too big", typ: "text/plain", file: "a.txt", body: []byte("0123456789"), lim: Limits{MaxInputBytes: 5}, err: ErrTooBig},
		{name: "empty text", typ: "text/plain", file: "a.txt", body: []byte("  \n"), err: ErrUnreadable},
		{name: "garbage pdf", typ: "application/pdf", file: "a.pdf", body: []byte("%PDF-1.4\nnot really"), err: ErrUnreadable},
		{name: "truncated pdf", typ: "application/pdf", file: "a.pdf", body: makePDF(quote, false, nil)[:300], err: ErrUnreadable},
		{name: "encrypted pdf", typ: "application/pdf", file: "a.pdf", body: encryptedPDF(), err: ErrUnreadable},
		{name: "pdf bomb", typ: "application/pdf", file: "a.pdf", body: makePDF(nil, true, deflatedZeros(8<<20)),
			lim: Limits{MaxStreamBytes: 1 << 20}, err: ErrUnreadable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := DefaultLimits
			if tc.lim.MaxChars > 0 {
				lim.MaxChars = tc.lim.MaxChars
			}
			if tc.lim.MaxCSVRows > 0 {
				lim.MaxCSVRows = tc.lim.MaxCSVRows
			}
			if tc.lim.MaxCellChars > 0 {
				lim.MaxCellChars = tc.lim.MaxCellChars
			}
			if tc.lim.MaxInputBytes > 0 {
				lim.MaxInputBytes = tc.lim.MaxInputBytes
			}
			if tc.lim.MaxStreamBytes > 0 {
				lim.MaxStreamBytes = tc.lim.MaxStreamBytes
			}
			res, err := Text(bytes.NewReader(tc.body), int64(len(tc.body)), tc.typ, tc.file, lim)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Kind != tc.kind || res.Truncated != tc.truncated {
				t.Errorf("kind %q truncated %v, want %q %v (note %q)", res.Kind, res.Truncated, tc.kind, tc.truncated, res.Note)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Text, w) {
					t.Errorf("text lacks %q:\n%s", w, res.Text)
				}
			}
			if len(res.Text) > 4*lim.MaxChars {
				t.Errorf("text is %d bytes, over the cap", len(res.Text))
			}
		})
	}
}

func TestUnsupportedNamesReadableKinds(t *testing.T) {
	_, err := Text(bytes.NewReader([]byte("PK")), 2, "application/zip", "a.zip", DefaultLimits)
	if err == nil || !strings.Contains(err.Error(), "PDF, plain text, CSV") {
		t.Fatalf("err = %v, want the readable kinds named", err)
	}
}

// deflatedZeros is n zero bytes deflated: a few KB that expand n-fold.
func deflatedZeros(n int) []byte {
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	_, _ = w.Write(make([]byte, n))
	_ = w.Close()
	return z.Bytes()
}

// encryptedPDF declares an /Encrypt dictionary (RC4, unknown password).
func encryptedPDF() []byte {
	p := makePDF(quote, false, nil)
	return bytes.Replace(p, []byte("/Size 6 /Root 1 0 R"),
		[]byte("/Size 6 /Root 1 0 R /Encrypt << /Filter /Standard /V 1 /R 2 /O (0123456789abcdef0123456789abcdef) /U (0123456789abcdef0123456789abcdef) /P -4 >> /ID [(abc) (abc)]"), 1)
}

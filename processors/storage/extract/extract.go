// Package extract turns a stored document into text a model can read:
// PDF (via github.com/ledongthuc/pdf), plain text, Markdown, JSON and CSV
// (rendered as a compact, row-limited table). It runs once, when storage
// stores a file, so every later question about the file reads the text
// instead of parsing the document again.
//
// Every input is hostile until read: sizes are bounded before parsing,
// a PDF's content streams are measured decompressed before they are
// interpreted (a compression bomb is refused, not expanded), the PDF
// parser's panics are recovered, and the output is capped.
package extract

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
)

// Kinds of readable file.
const (
	KindPDF      = "pdf"
	KindText     = "text"
	KindMarkdown = "markdown"
	KindJSON     = "json"
	KindCSV      = "csv"
	KindImage    = "image"
)

// Readable names the kinds of file Maria can read, for replies that
// refuse another kind.
const Readable = "PDF, plain text, CSV, Markdown and JSON files (and PNG, JPEG, GIF or WebP images with a vision-capable model)"

// Limits bound one extraction.
type Limits struct {
	// MaxInputBytes refuses larger files before parsing.
	MaxInputBytes int64
	// MaxChars caps the extracted text (the rest is cut and reported).
	MaxChars int
	// MaxPages caps the PDF pages read.
	MaxPages int
	// MaxStreamBytes caps the decompressed size of a PDF's page content.
	MaxStreamBytes int64
	// MaxCSVRows caps the rows of a CSV table; MaxCellChars each cell.
	MaxCSVRows   int
	MaxCellChars int
}

// DefaultLimits are generous for documents people share in chat and small
// enough that one extraction cannot exhaust a replica.
var DefaultLimits = Limits{MaxInputBytes: 20 << 20, MaxChars: 200_000, MaxPages: 300,
	MaxStreamBytes: 32 << 20, MaxCSVRows: 200, MaxCellChars: 60}

// Result is a document's text.
type Result struct {
	Kind string
	Text string
	// Truncated is true when the text was cut at Limits.MaxChars (or the
	// CSV rows, or the PDF pages); Note says what was cut.
	Truncated bool
	Note      string
}

// Errors callers tell apart (wrapped with the reason).
var (
	// ErrUnsupported: a kind Maria does not read.
	ErrUnsupported = errors.New("unsupported kind of file")
	// ErrUnreadable: a supported kind that could not be read (malformed,
	// encrypted, too big once decompressed, no text in it).
	ErrUnreadable = errors.New("unreadable file")
	// ErrTooBig: over Limits.MaxInputBytes.
	ErrTooBig = errors.New("file too big to read")
)

// KindOf decides the kind from a content type and the file name ("" when
// Maria cannot read it). Images are a kind too: a vision model reads them.
func KindOf(contentType, name string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	}
	switch mt {
	case "application/pdf":
		return KindPDF
	case "text/csv", "application/csv", "text/tab-separated-values":
		return KindCSV
	case "text/markdown", "text/x-markdown":
		return KindMarkdown
	case "application/json":
		return KindJSON
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return KindImage
	}
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".csv", ".tsv":
		return KindCSV
	case ".md", ".markdown":
		return KindMarkdown
	case ".json":
		return KindJSON
	case ".pdf":
		return KindPDF
	}
	if strings.HasPrefix(mt, "text/") && mt != "text/html" {
		return KindText
	}
	if mt == "" || mt == "application/octet-stream" {
		switch ext {
		case ".txt", ".log", ".text":
			return KindText
		case ".png", ".jpg", ".jpeg", ".gif", ".webp":
			return KindImage
		}
	}
	return ""
}

// Text extracts the text of a document of size bytes read from r.
func Text(r io.ReaderAt, size int64, contentType, name string, lim Limits) (res Result, err error) {
	kind := KindOf(contentType, name)
	switch {
	case kind == "":
		return Result{}, fmt.Errorf("%w: %s (%s); I can read %s", ErrUnsupported, describe(contentType), name, Readable)
	case kind == KindImage:
		return Result{Kind: kind}, nil // no text: a vision model reads the image itself
	case lim.MaxInputBytes > 0 && size > lim.MaxInputBytes:
		return Result{}, fmt.Errorf("%w: %d bytes, over the %d-byte limit for reading", ErrTooBig, size, lim.MaxInputBytes)
	}
	switch kind {
	case KindPDF:
		res, err = pdfText(r, size, lim)
	case KindCSV:
		res, err = csvTable(io.NewSectionReader(r, 0, size), strings.HasSuffix(strings.ToLower(name), ".tsv") || strings.Contains(contentType, "tab-separated"), lim)
	default:
		res, err = plainText(io.NewSectionReader(r, 0, size), lim)
	}
	if err != nil {
		return Result{}, err
	}
	res.Kind = kind
	return res, nil
}

func describe(contentType string) string {
	if contentType == "" {
		return "unknown type"
	}
	return contentType
}

// capText cuts s at max runes (0: no cap), on a line break when one is near.
func capText(s string, max int) (string, bool) {
	if max <= 0 || len(s) <= max {
		return s, false
	}
	n := 0
	for i := range s {
		if n == max {
			cut := s[:i]
			if j := strings.LastIndexByte(cut, '\n'); j > len(cut)*9/10 {
				cut = cut[:j]
			}
			return cut, true
		}
		n++
	}
	return s, false
}

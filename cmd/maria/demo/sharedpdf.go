package demo

import (
	"context"
	_ "embed"
	"errors"
	"strings"
)

// DemoPDF is a one-page quotation (generated once by the storage
// extractor's test PDF writer: Helvetica text, a deflated content stream)
// shared in the script's thread with a question about it.
//
//go:embed testdata/quote-S00042.pdf
var DemoPDF []byte

// PDF step names and words (tests quote the same).
const (
	PDFName     = "quote-S00042.pdf"
	QuestionPDF = "summarize this quote: what is the total?"
	// PDFTotal is a line of the quote the answer must carry.
	PDFTotal = "1,450.73"
)

// sharedPDF: a PDF shared with a question → its content reaches the model.
func (s *script) sharedPDF(ctx context.Context) {
	e := s.e
	if s.thread == "" {
		s.fail(errors.New("skipped: step 1 started no thread"))
		return
	}
	before := 0
	if e.OpenAI != nil {
		before = len(e.OpenAI.Requests())
	}
	t, seen, ok := s.ask(ctx, func() (*Turn, error) {
		t, _, err := e.ShareFile(ctx, ScriptChannel, "channel", ScriptUser, QuestionPDF, s.thread, PDFName, "application/pdf", DemoPDF)
		return t, err
	}, Answered)
	if !ok {
		return
	}
	answer := s.answerIn(t, seen)
	if e.OpenAI != nil {
		gave := false
		for _, r := range e.OpenAI.Requests()[before:] {
			for _, m := range r.Messages {
				gave = gave || (m.Role == "user" && strings.Contains(m.Text(), "Total: "+PDFTotal))
			}
		}
		s.check(gave, "the model was given the PDF's text with the question")
		if !e.RealAI {
			s.check(strings.Contains(answer, PDFTotal), "the answer quotes the quote's total from the PDF (%s)", PDFTotal)
		}
	}
}

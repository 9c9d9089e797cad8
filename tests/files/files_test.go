// Package files tests that files users share with a question reach the AI
// (issue 21 item 5): through the real ingress, storage (extraction at
// store time, maria.files.read) and ai, against the Slack and OpenAI
// simulators.
package files

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/tests/sim/openaisim"
)

const user = "U0ALICE"

func TestFilesReachTheModel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sim := openaisim.New(openaisim.Rules())
	e, err := demo.Start(ctx, demo.Options{DataDir: t.TempDir(), OpenAI: sim, SettleTimeout: 45 * time.Second,
		Overrides: map[string]string{
			"MARIA_AI_VISION":            "true",
			"MARIA_AI_MAX_FILE_BYTES":    "8192",
			"MARIA_AI_FILE_TOKEN_BUDGET": "200", // ≈ 800 characters
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.Slack.AddUser(user, "alice", "Alice Martin", "alice@example.com")

	longText := strings.Repeat("Line of a long report that goes on.\n", 60) + "Grand total: 99,999.00\n"
	tests := []struct {
		name, file, mime string
		body             []byte
		answer           []string // in Maria's reply
		prompt           []string // in the question the model got
		notPrompt        []string
		image            bool
	}{
		{name: "pdf", file: demo.PDFName, mime: "application/pdf", body: demo.DemoPDF,
			answer: []string{"Quotation S00042", "Total: 1,450.73 EUR"}, prompt: []string{"Customer: Azure Interior"}},
		{name: "csv", file: "stock.csv", mime: "text/csv", body: []byte("product,qty\nDesk,4\nChair,12\nTotal,16\n"),
			answer: []string{"| product | qty |", "Totals found: | Total | 16 |"}, prompt: []string{"(3 data rows, 2 columns)"}},
		{name: "text", file: "notes.txt", mime: "text/plain", body: []byte("Meeting notes\nBudget total is 5,000 EUR\n"),
			answer: []string{"Meeting notes", "Budget total is 5,000 EUR"}},
		{name: "budget cut", file: "report.txt", mime: "text/plain", body: []byte(longText),
			answer: []string{"I was given only the first part", "I read only part of *report.txt*"},
			prompt: []string{"[Maria: the file was cut here"}, notPrompt: []string{"Grand total"}},
		{name: "oversized", file: "big.txt", mime: "text/plain", body: bytes.Repeat([]byte("x"), 9000),
			answer: []string{"I couldn't read *big.txt*: it is 8 KB, over the 8 KB I read"}, notPrompt: []string{"xxxxxxxx"}},
		{name: "unsupported", file: "contract.docx", mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			body:   zipBytes(),
			answer: []string{"I couldn't read *contract.docx*", "I can read PDF, plain text, CSV, Markdown and JSON files"}},
		{name: "image to a vision model", file: demo.ImageName, mime: "image/png", body: demo.DemoImage(), image: true,
			answer: []string{"I was shown image/png of about"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(sim.Requests())
			channel := "D0FILES" + string(rune('A'+i))
			turn, _, err := e.ShareFile(ctx, channel, "im", user, "summarize this", "", tc.file, tc.mime, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			seen, err := e.Settle(ctx, turn.ID, demo.Answered)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			var answer []string
			for _, m := range e.Replies(turn, seen) {
				answer = append(answer, m.Text)
			}
			reply := strings.Join(answer, "\n")
			for _, w := range tc.answer {
				if !strings.Contains(reply, w) {
					t.Errorf("answer lacks %q:\n%s", w, reply)
				}
			}
			var question openaisim.Message
			for _, r := range sim.Requests()[before:] {
				question = r.Messages[len(r.Messages)-1]
			}
			for _, w := range tc.prompt {
				if !strings.Contains(question.Text(), w) {
					t.Errorf("the model's question lacks %q:\n%s", w, question.Text())
				}
			}
			for _, w := range tc.notPrompt {
				if strings.Contains(question.Text(), w) {
					t.Errorf("the model's question has %q, which should not reach it", w)
				}
			}
			imgs := question.Images()
			if tc.image {
				want := "data:image/png;base64," + base64.StdEncoding.EncodeToString(tc.body)
				if len(imgs) != 1 || imgs[0].URL != want {
					t.Errorf("want the PNG as one image_url part, got %d parts", len(imgs))
				}
			} else if len(imgs) != 0 {
				t.Errorf("unexpected image parts: %d", len(imgs))
			}
		})
	}
}

// zipBytes is the start of a zip container (what a .docx is).
func zipBytes() []byte {
	return append([]byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), bytes.Repeat([]byte{0}, 40)...)
}

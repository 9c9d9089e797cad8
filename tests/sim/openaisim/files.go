package openaisim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Files shared with a question arrive in the question itself: Maria adds
// each file's text as a block
//
//	<file name="quote.pdf" type="application/pdf">
//	…text…
//	</file>
//
// and images as image_url parts of the same message. The offline model
// answers a question that carries files from their content alone: the
// first lines of each, the lines that name a total, and the images it
// was shown (type and size) — nothing hard-coded.

// Image is an image_url part of a message.
type Image struct {
	URL    string
	Detail string
}

// Images returns the message's image_url parts.
func (m Message) Images() []Image {
	var parts []struct {
		Type     string `json:"type"`
		ImageURL *struct {
			URL    string `json:"url"`
			Detail string `json:"detail"`
		} `json:"image_url"`
	}
	if json.Unmarshal(m.Content, &parts) != nil {
		return nil
	}
	var out []Image
	for _, p := range parts {
		if p.Type == "image_url" && p.ImageURL != nil {
			out = append(out, Image{URL: p.ImageURL.URL, Detail: p.ImageURL.Detail})
		}
	}
	return out
}

// SharedFile is one file block of a question.
type SharedFile struct {
	Name, Type, Text string
}

var reFileBlock = regexp.MustCompile(`(?s)<file name="((?:[^"\\]|\\.)*)" type="((?:[^"\\]|\\.)*)">\n?(.*?)\n?</file>`)

// FilesIn returns the file blocks in a question's text.
func FilesIn(text string) []SharedFile {
	var out []SharedFile
	for _, m := range reFileBlock.FindAllStringSubmatch(text, -1) {
		out = append(out, SharedFile{Name: unquote(m[1]), Type: unquote(m[2]), Text: m[3]})
	}
	return out
}

func unquote(s string) string {
	var out string
	if json.Unmarshal([]byte(`"`+s+`"`), &out) == nil {
		return out
	}
	return s
}

var reTotalLine = regexp.MustCompile(`(?i)\b(total|amount due|balance|grand total|sum)\b`)

// answerFiles answers a question about shared files from their content.
func answerFiles(files []SharedFile, images []Image) string {
	var b strings.Builder
	for _, f := range files {
		if strings.HasPrefix(f.Text, "[the image is attached") {
			continue
		}
		lines := nonEmptyLines(stripNotes(f.Text))
		fmt.Fprintf(&b, "*%s* (%s, %d lines) begins:\n", f.Name, f.Type, len(lines))
		for _, l := range lines[:min(3, len(lines))] {
			fmt.Fprintf(&b, "> %s\n", l)
		}
		var totals []string
		for _, l := range lines {
			if reTotalLine.MatchString(l) {
				totals = append(totals, l)
			}
		}
		if len(totals) > 0 {
			fmt.Fprintf(&b, "Totals found: %s\n", strings.Join(totals[:min(3, len(totals))], "; "))
		}
		if strings.Contains(f.Text, "[Maria: the file was cut here") {
			b.WriteString("(I was given only the first part of this file.)\n")
		}
	}
	for i, img := range images {
		mt, size := "an image", 0
		if head, data, ok := strings.Cut(img.URL, ","); ok && strings.HasPrefix(head, "data:") {
			mt = strings.TrimSuffix(strings.TrimPrefix(head, "data:"), ";base64")
			size = len(data) * 3 / 4
		}
		fmt.Fprintf(&b, "Image %d: I was shown %s of about %d bytes.\n", i+1, mt, size)
	}
	if b.Len() == 0 {
		return "I couldn't see any content in the files you shared."
	}
	return strings.TrimSpace(b.String())
}

func stripNotes(s string) string {
	if i := strings.Index(s, "\n[Maria: the file was cut here"); i >= 0 {
		return s[:i]
	}
	return s
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--- page ") {
			out = append(out, l)
		}
	}
	return out
}

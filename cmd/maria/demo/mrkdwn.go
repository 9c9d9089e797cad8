package demo

import (
	"regexp"
	"strings"
)

// Mrkdwn renders Slack's mrkdwn for a terminal, as Slack would show it:
// *bold*, _italic_ and ~strike~ as ANSI styles (Color) or plain text,
// `code` and ``` blocks verbatim, <url|text> links as "text (url)",
// mentions as @name / #channel, list bullets and quotes kept, and the
// &amp; &lt; &gt; escapes decoded. Users names user ids (nil: the id).
type Mrkdwn struct {
	Color bool
	Users func(id string) string
}

// reAngle is Slack's control sequence: <…> (links, mentions, commands).
var reAngle = regexp.MustCompile(`<([^<>\n]+)>`)

// Render renders text, line by line; ``` fences delimit code blocks
// shown indented and unformatted.
func (r Mrkdwn) Render(text string) string {
	var out []string
	inCode := false
	for _, line := range strings.Split(text, "\n") {
		fenced := false // the line had a fence: an empty rest is no line
		for {
			before, after, fence := strings.Cut(line, "```")
			if !fence {
				break
			}
			// A fence may sit inside a line: ```code``` or text ```code.
			if inCode && before != "" {
				out = append(out, r.code(before))
			} else if !inCode && strings.TrimSpace(before) != "" {
				out = append(out, r.line(before))
			}
			inCode, line, fenced = !inCode, after, true
		}
		switch {
		case fenced && line == "":
		case inCode:
			out = append(out, r.code(line))
		default:
			out = append(out, r.line(line))
		}
	}
	return strings.Join(out, "\n")
}

func (r Mrkdwn) code(s string) string {
	return "    " + r.paint(styleDim, unescape(s))
}

// line renders one line outside code blocks: quote and list markers, then
// the inline content.
func (r Mrkdwn) line(s string) string {
	prefix := ""
	switch {
	case strings.HasPrefix(s, "&gt; "):
		prefix, s = "│ ", s[len("&gt; "):]
	case strings.HasPrefix(s, "> "):
		prefix, s = "│ ", s[2:]
	}
	indent := len(s) - len(strings.TrimLeft(s, " "))
	body := s[indent:]
	if strings.HasPrefix(body, "- ") || strings.HasPrefix(body, "* ") {
		body = "• " + body[2:] // Slack shows a typed "- " list as bullets
	}
	return prefix + s[:indent] + r.inline(body)
}

// reCode is an inline code span.
var reCode = regexp.MustCompile("`([^`\n]+)`")

// inline renders a line's code spans (verbatim), control sequences and
// emphasis. Code spans and each <…> are set aside as placeholders first,
// so emphasis around them (*<url|S00042>*, _see `x.json`._) pairs up and
// nothing inside them is taken for emphasis; then they are put back
// rendered.
func (r Mrkdwn) inline(s string) string {
	var rendered []string
	hold := func(out string) string {
		rendered = append(rendered, out)
		return string(rune(placeholder + len(rendered) - 1))
	}
	s = reCode.ReplaceAllStringFunc(s, func(m string) string {
		code := unescape(m[1 : len(m)-1])
		if r.Color {
			return hold(r.paint(styleCyan, code))
		}
		return hold("`" + code + "`")
	})
	s = reAngle.ReplaceAllStringFunc(s, func(m string) string { return hold(r.angle(m[1 : len(m)-1])) })
	s = unescape(r.emphasis(s))
	if len(rendered) == 0 {
		return s
	}
	return rePlaceholder.ReplaceAllStringFunc(s, func(p string) string {
		return rendered[[]rune(p)[0]-placeholder]
	})
}

// placeholder is the first of the private-use runes standing for <…>.
const placeholder = 0xF0000

var rePlaceholder = regexp.MustCompile(`[\x{F0000}-\x{FFFFD}]`)

// angle renders the inside of <…>: a user or channel mention, a special
// mention, or a link with an optional label.
func (r Mrkdwn) angle(inner string) string {
	target, label, _ := strings.Cut(inner, "|")
	label = unescape(label)
	switch {
	case strings.HasPrefix(target, "@"):
		if label != "" {
			return "@" + strings.TrimPrefix(label, "@")
		}
		id := target[1:]
		if r.Users != nil {
			if name := r.Users(id); name != "" {
				return "@" + name
			}
		}
		return "@" + id
	case strings.HasPrefix(target, "#"):
		if label != "" {
			return "#" + label
		}
		return target
	case strings.HasPrefix(target, "!"):
		if label != "" {
			return label // <!date^…|fallback>, <!subteam^ID|@team>
		}
		name, _, _ := strings.Cut(target[1:], "^")
		return "@" + name // <!here>, <!channel>, <!everyone>
	}
	url := unescape(target)
	shown := strings.TrimPrefix(url, "mailto:")
	if label == "" || label == url || label == shown {
		return shown
	}
	return label + " (" + shown + ")"
}

// emphasis renders *bold*, _italic_ and ~strike~: a marker opens at the
// start or after a non-word character, before a non-space, and closes
// before the end or a non-word character, on the same line.
func (r Mrkdwn) emphasis(s string) string {
	for _, st := range []struct {
		marker byte
		style  string
	}{{'*', styleBold}, {'_', styleItalic}, {'~', styleStrike}} {
		s = r.pairs(s, st.marker, st.style)
	}
	return s
}

func (r Mrkdwn) pairs(s string, marker byte, style string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		open := strings.IndexByte(s[i:], marker)
		if open < 0 {
			b.WriteString(s[i:])
			break
		}
		open += i
		end := closing(s, open, marker)
		if end < 0 {
			b.WriteString(s[i : open+1])
			i = open + 1
			continue
		}
		b.WriteString(s[i:open])
		b.WriteString(r.paint(style, s[open+1:end]))
		i = end + 1
	}
	return b.String()
}

// closing returns the index of the marker closing the one at open, or -1.
func closing(s string, open int, marker byte) int {
	if open > 0 && isWord(s[open-1]) || open+1 >= len(s) || s[open+1] == ' ' || s[open+1] == marker {
		return -1
	}
	for j := open + 2; j < len(s); j++ {
		if s[j] == marker && s[j-1] != ' ' && (j+1 == len(s) || !isWord(s[j+1])) {
			return j
		}
	}
	return -1
}

func isWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// paint styles s on a colour terminal; plain text otherwise.
func (r Mrkdwn) paint(style, s string) string {
	if !r.Color || s == "" {
		return s
	}
	return style + s + styleReset
}

// unescape decodes the three escapes Slack requires in mrkdwn.
func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

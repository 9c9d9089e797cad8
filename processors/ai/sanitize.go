package ai

import (
	"net/url"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Model output is untrusted: a prompt injected through a user message, a
// file or an ERP record can make the model write anything. Before any of
// its text reaches Slack (streamed markdown, the final post, fallbacks) the
// answer's sanitizer makes it unable to ping or to send people elsewhere:
//
//   - Special mentions (<!channel>, <!here>, <!everyone>, <!subteam^…>, any
//     <!…>) and plain @channel / @here / @everyone become "@" + a zero-width
//     joiner (U+200D) + the word: they read the same and notify nobody.
//     <!date^…|fallback> becomes its fallback text.
//   - User mentions <@U…> stay only for the user who asked (they are
//     notified of the answer anyway); anyone else is shown inert the same
//     way, so an injected record cannot make Maria ping the CEO.
//   - Links — <url|text>, <url>, Markdown [text](url) and bare http(s):// or
//     www. URLs — are kept only when their host is allowed (Slack, Odoo,
//     MARIA_LINK_ALLOWED_HOSTS; see linkPolicy). Others become their text
//     followed by the host in `code` (not clickable, not auto-linked).
//   - A "<" that starts no complete token is escaped (&lt;), so it cannot
//     combine with later text into one.
//
// Streaming: a token can be split across deltas ("<!chan" + "nel>"), so
// Write holds back an unfinished tail (an open "<" or "[", a URL or an
// @word reaching the end of what arrived) until it completes, up to
// maxTokenBytes; Flush releases the rest at the end of the answer.
type sanitizer struct {
	links *linkPolicy
	// user is the only user the answer may mention.
	user    string
	pending string
}

// maxTokenBytes bounds what Write holds back waiting for a token to close;
// longer, it cannot be a token Slack would parse either.
const maxTokenBytes = 1000

// zwj keeps a mention word readable while breaking Slack's match.
const zwj = "\u200d"

func newSanitizer(links *linkPolicy, user string) *sanitizer {
	return &sanitizer{links: links, user: user}
}

// Write takes the next piece of model text and returns what is safe to send
// now; an unfinished token is kept for the next call.
func (s *sanitizer) Write(delta string) string {
	out, rest := s.scan(s.pending+delta, false)
	s.pending = rest
	return out
}

// Flush returns the held-back tail, sanitized as final.
func (s *sanitizer) Flush() string {
	out, _ := s.scan(s.pending, true)
	s.pending = ""
	return out
}

// Pending is the held-back tail as Flush would render it, without
// consuming it.
func (s *sanitizer) Pending() string {
	out, _ := s.scan(s.pending, true)
	return out
}

// Sanitize renders a complete text.
func (s *sanitizer) Sanitize(text string) string {
	out, _ := s.scan(text, true)
	return out
}

// scan sanitizes text. Unless final, it stops at an unfinished token and
// returns it as rest.
func (s *sanitizer) scan(text string, final bool) (out, rest string) {
	var b strings.Builder
	hold := func(i int) bool { return !final && len(text)-i <= maxTokenBytes }
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '<':
			if i+1 < len(text) && unicode.IsSpace(rune(text[i+1])) {
				b.WriteString("&lt;") // "a < b": no Slack token starts with a space
				i++
				continue
			}
			j := strings.IndexAny(text[i+1:], ">\n")
			if j < 0 && hold(i) {
				return b.String(), text[i:]
			}
			if j < 0 || text[i+1+j] != '>' || j == 0 || j > maxTokenBytes {
				b.WriteString("&lt;")
				i++
				continue
			}
			b.WriteString(s.angle(text[i+1 : i+1+j]))
			i += j + 2
		case c == '[':
			n, rendered, state := s.markdownLink(text[i:])
			switch {
			case state == tokenOpen && hold(i):
				return b.String(), text[i:]
			case state == tokenDone:
				b.WriteString(rendered)
				i += n
			default:
				b.WriteByte(c)
				i++
			}
		case c == '@':
			word := leadingLetters(text[i+1:])
			switch {
			case massMention(word):
				b.WriteString("@" + zwj)
				i++
			case i+1+len(word) == len(text) && prefixOfMassMention(word) && hold(i):
				return b.String(), text[i:]
			default:
				b.WriteByte(c)
				i++
			}
		case c == 'h' || c == 'H' || c == 'w' || c == 'W':
			n, state := bareURL(text[i:], i == 0 || !isWordByte(text[i-1]))
			switch {
			case state == tokenOpen && hold(i):
				return b.String(), text[i:]
			case state == tokenDone || (state == tokenOpen && n > 0):
				b.WriteString(s.link(text[i:i+n], "", false))
				i += n
			default:
				b.WriteByte(c)
				i++
			}
		default:
			_, size := utf8.DecodeRuneInString(text[i:])
			b.WriteString(text[i : i+size])
			i += size
		}
	}
	return b.String(), ""
}

// angle renders the inside of a Slack <…> token.
func (s *sanitizer) angle(tok string) string {
	target, label, _ := strings.Cut(tok, "|")
	switch {
	case strings.HasPrefix(target, "!"):
		// Special mentions and commands: none may reach Slack as a token.
		name := strings.TrimPrefix(label, "@")
		if strings.HasPrefix(target, "!date^") {
			return s.text(label)
		}
		if name == "" {
			name, _, _ = strings.Cut(target[1:], "^")
		}
		return "@" + zwj + s.text(name)
	case strings.HasPrefix(target, "@"):
		if s.user != "" && target[1:] == s.user {
			return "<@" + s.user + ">"
		}
		name := strings.TrimPrefix(label, "@")
		if name == "" {
			name = target[1:]
		}
		return "@" + zwj + s.text(name)
	case strings.HasPrefix(target, "#"):
		// A channel link: it notifies nobody.
		return "<#" + s.text(strings.TrimPrefix(tok, "#")) + ">"
	}
	if u, err := url.Parse(target); err == nil && u.Scheme != "" {
		return s.link(target, label, true)
	}
	return "&lt;" + s.text(tok) + "&gt;"
}

// link renders a link to target with an optional label: kept as written
// when the host is allowed, else the label plus the host, inert.
func (s *sanitizer) link(target, label string, angle bool) string {
	raw := target
	if strings.HasPrefix(strings.ToLower(raw), "www.") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.User == nil && s.links.Allowed(u.Hostname()) {
		if !angle {
			return target
		}
		if label == "" {
			return "<" + target + ">"
		}
		return "<" + target + "|" + s.text(label) + ">"
	}
	host := ""
	if err == nil {
		host = inertHost(u.Hostname())
	}
	switch {
	case label != "" && host != "":
		return s.text(label) + " (" + host + ")"
	case label != "":
		return s.text(label)
	case host != "":
		return host
	}
	return "(link removed)"
}

// text sanitizes a label or name inside a token (no nested tokens).
func (s *sanitizer) text(t string) string {
	t = strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(t)
	out, _ := s.scan(t, true)
	return out
}

type tokenState int

const (
	tokenNone tokenState = iota // not a token: the first byte is plain text
	tokenOpen                   // may become a token with more text
	tokenDone                   // a complete token of n bytes
)

// markdownLink matches [label](url) at the start of text and renders it.
func (s *sanitizer) markdownLink(text string) (n int, rendered string, state tokenState) {
	end := strings.IndexAny(text[1:], "]\n")
	if end < 0 {
		return 0, "", tokenOpen
	}
	end++
	if text[end] != ']' {
		return 0, "", tokenNone
	}
	if end+1 == len(text) {
		return 0, "", tokenOpen
	}
	if text[end+1] != '(' {
		return 0, "", tokenNone
	}
	closing := strings.IndexAny(text[end+2:], ")\n")
	if closing < 0 {
		return 0, "", tokenOpen
	}
	closing += end + 2
	if text[closing] != ')' {
		return 0, "", tokenNone
	}
	label := text[1:end]
	target, _, _ := strings.Cut(strings.TrimSpace(text[end+2:closing]), " ")
	if u, err := url.Parse(target); err != nil || u.Scheme == "" {
		return 0, "", tokenNone
	}
	out := s.link(target, label, false)
	if out == target { // allowed: keep the Markdown link
		out = "[" + s.text(label) + "](" + target + ")"
	}
	return closing + 1, out, tokenDone
}

// bareURL measures an http(s):// or www. URL at the start of text
// (www. only at a word start). tokenOpen means it reaches the end of text
// and may continue (n is its length so far), or text is a prefix of a
// scheme that may become one (n is 0).
func bareURL(text string, wordStart bool) (n int, state tokenState) {
	lower := strings.ToLower(text[:min(len(text), 8)])
	start := ""
	for _, p := range []string{"https://", "http://", "www."} {
		switch {
		case strings.HasPrefix(lower, p):
			start = p
		case len(text) < len(p) && strings.HasPrefix(p, lower) && (p != "www." || wordStart):
			return 0, tokenOpen
		}
		if start != "" {
			break
		}
	}
	if start == "" || (start == "www." && !wordStart) {
		return 0, tokenNone
	}
	end := strings.IndexFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("<>\"`|", r)
	})
	// A URL reaching the end of text may go on ("https://x.co" + "m/a").
	open := end < 0
	if open {
		end = len(text)
	}
	// Trailing punctuation ends a sentence, not the URL.
	for end > len(start) && strings.ContainsRune(".,;:!?)]}'\"*_~", rune(text[end-1])) {
		end--
	}
	switch {
	case end <= len(start) && open:
		return 0, tokenOpen
	case end <= len(start):
		return 0, tokenNone
	case open:
		return end, tokenOpen
	}
	return end, tokenDone
}

// inertHost shows a host as code: Slack neither links nor auto-links it.
func inertHost(h string) string {
	h = strings.Map(func(r rune) rune {
		if r == '`' || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, strings.ToLower(h))
	if h == "" {
		return ""
	}
	return "`" + h + "`"
}

var massMentions = []string{"channel", "here", "everyone"}

func massMention(word string) bool {
	for _, m := range massMentions {
		if len(word) >= len(m) && strings.EqualFold(word[:len(m)], m) {
			return true
		}
	}
	return false
}

func prefixOfMassMention(word string) bool {
	for _, m := range massMentions {
		if len(word) < len(m) && strings.EqualFold(word, m[:len(word)]) {
			return true
		}
	}
	return false
}

func leadingLetters(s string) string {
	i := 0
	for i < len(s) && (s[i]|0x20 >= 'a' && s[i]|0x20 <= 'z') {
		i++
	}
	return s[:i]
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 0x80 || (c|0x20 >= 'a' && c|0x20 <= 'z') || (c >= '0' && c <= '9')
}

// linkPolicy is where links in answers may point: Slack, the Odoo hosts
// of the configuration and of ERP replies (their record links), and
// MARIA_LINK_ALLOWED_HOSTS. Safe for concurrent use.
type linkPolicy struct {
	mu    sync.RWMutex
	hosts map[string]bool
	// domains are "*.example.com" entries as ".example.com".
	domains []string
}

func newLinkPolicy(hosts []string) *linkPolicy {
	p := &linkPolicy{hosts: map[string]bool{}}
	for _, h := range append([]string{"slack.com", "*.slack.com"}, hosts...) {
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		if strings.HasPrefix(h, "*.") {
			p.domains = append(p.domains, h[1:])
		} else if h != "" {
			p.hosts[h] = true
		}
	}
	return p
}

// Allowed reports whether links may point to host.
func (p *linkPolicy) Allowed(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.hosts[host] {
		return true
	}
	for _, d := range p.domains {
		if strings.HasSuffix(host, d) {
			return true
		}
	}
	return false
}

// Learn allows the host of an Odoo base URL the ERP service reported:
// record links the tools return point there.
func (p *linkPolicy) Learn(base string) {
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" {
		return
	}
	h := strings.ToLower(u.Hostname())
	p.mu.RLock()
	known := p.hosts[h]
	p.mu.RUnlock()
	if !known {
		p.mu.Lock()
		p.hosts[h] = true
		p.mu.Unlock()
	}
}

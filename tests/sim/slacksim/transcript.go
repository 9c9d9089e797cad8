package slacksim

import (
	"fmt"
	"sort"
	"strings"
)

// Transcript renders every channel as a user would see it: top-level
// messages in order, each followed by its thread replies, with edits,
// streaming state, files, reactions, assistant status/title, ephemeral
// messages and response_url answers. `maria demo` prints it.
func (s *Sim) Transcript() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	chans := make([]string, 0, len(s.messages))
	for c := range s.messages {
		chans = append(chans, c)
	}
	for _, e := range s.ephemerals {
		if _, ok := s.messages[e.Channel]; !ok {
			chans = append(chans, e.Channel)
			s.messages[e.Channel] = nil
		}
	}
	sort.Strings(chans)
	for _, ch := range chans {
		fmt.Fprintf(&b, "#%s\n", ch)
		msgs := s.messages[ch]
		printed := map[string]bool{}
		for _, m := range msgs {
			if m.ThreadTS != "" && m.ThreadTS != m.TS {
				continue
			}
			s.writeMessage(&b, m, "  ")
			printed[m.TS] = true
			s.writeThread(&b, ch, m.TS, msgs, printed)
		}
		// Replies whose parent is not a bot message we hold (user threads).
		parents := []string{}
		seen := map[string]bool{}
		for _, m := range msgs {
			if !printed[m.TS] && m.ThreadTS != "" && !seen[m.ThreadTS] {
				seen[m.ThreadTS] = true
				parents = append(parents, m.ThreadTS)
			}
		}
		for _, p := range parents {
			fmt.Fprintf(&b, "  [thread %s]\n", p)
			s.writeThread(&b, ch, p, msgs, printed)
		}
		for _, e := range s.ephemerals {
			if e.Channel == ch {
				fmt.Fprintf(&b, "  (only visible to %s)%s %s\n", e.User, threadNote(e.ThreadTS), oneLine(e.Text, e.Blocks != nil))
			}
		}
	}
	if len(s.responses) > 0 {
		b.WriteString("response_url answers\n")
		for _, r := range s.responses {
			kind := r.ResponseType
			if kind == "" {
				kind = "ephemeral"
			}
			if r.ReplaceOriginal {
				kind += ", replaces original"
			}
			fmt.Fprintf(&b, "  (%s) %s\n", kind, oneLine(r.Text, r.Blocks != nil))
		}
	}
	return b.String()
}

func (s *Sim) writeThread(b *strings.Builder, ch, root string, msgs []*Message, printed map[string]bool) {
	if a := s.assistant[ch+"/"+root]; a != nil {
		if a.Title != "" {
			fmt.Fprintf(b, "      [title] %s\n", a.Title)
		}
		if a.Status != "" {
			fmt.Fprintf(b, "      [status] %s\n", a.Status)
		}
		if len(a.Prompts) > 0 {
			titles := make([]string, len(a.Prompts))
			for i, p := range a.Prompts {
				titles[i] = p.Title
			}
			fmt.Fprintf(b, "      [suggested] %s\n", strings.Join(titles, " | "))
		}
	}
	for _, r := range msgs {
		if r.ThreadTS == root && r.TS != root {
			s.writeMessage(b, r, "    ↳ ")
			printed[r.TS] = true
		}
	}
}

func (s *Sim) writeMessage(b *strings.Builder, m *Message, indent string) {
	who := m.User
	if m.BotID == BotID {
		who = "@" + BotName
	}
	var notes []string
	if m.Edits > 0 {
		notes = append(notes, "edited")
	}
	if m.Streaming {
		notes = append(notes, "streaming…")
	}
	note := ""
	if len(notes) > 0 {
		note = " (" + strings.Join(notes, ", ") + ")"
	}
	fmt.Fprintf(b, "%s%s %s%s: %s\n", indent, m.TS, who, note, oneLine(m.Text, len(m.Blocks) > 0))
	for _, f := range m.Files {
		fmt.Fprintf(b, "%s    📎 %s (%s)\n", strings.Repeat(" ", len([]rune(indent))), f.Name, f.ID)
	}
	if len(m.Reactions) > 0 {
		fmt.Fprintf(b, "%s    :%s:\n", strings.Repeat(" ", len([]rune(indent))), strings.Join(m.Reactions, ": :"))
	}
}

func threadNote(ts string) string {
	if ts == "" {
		return ""
	}
	return " [in thread " + ts + "]"
}

func oneLine(text string, blocks bool) string {
	t := strings.ReplaceAll(strings.TrimSpace(text), "\n", "\n        ")
	if blocks {
		t += " [blocks]"
	}
	return t
}

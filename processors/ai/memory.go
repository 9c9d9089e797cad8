package ai

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mariahq/maria/bus/kv"
	"github.com/nats-io/nats.go/jetstream"
)

// Memory roles.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	// RoleNote is a summarized tool result or ERP outcome.
	RoleNote = "note"
)

// Entry is one remembered item of a thread.
type Entry struct {
	// ID makes appends idempotent: a redelivered turn does not add twice.
	ID   string    `json:"id"`
	Role string    `json:"role"`
	User string    `json:"user,omitempty"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
	// TS is the Slack ts of a user's message, so an edit or a deletion of
	// that message can revise what Maria remembers of it.
	TS string `json:"ts,omitempty"`
}

// Thread is the memory of one Slack thread.
type Thread struct {
	// Summary condenses entries trimmed to stay within the token budget.
	Summary string  `json:"summary,omitempty"`
	Entries []Entry `json:"entries"`
	// Context is the channel the user looked at when opening the assistant pane.
	Context string    `json:"context,omitempty"`
	Updated time.Time `json:"updated"`

	// rev is the KV revision Load read (0: none stored): AppendLoaded
	// writes conditioned on it without reading the thread again.
	rev uint64
}

// EstimateTokens approximates a text's token count: about four bytes per
// token for English and JSON, never less than one word per token.
func EstimateTokens(s string) int {
	if s == "" {
		return 0
	}
	byBytes := (len(s) + 3) / 4
	words := len(strings.Fields(s))
	return max(byBytes, words)
}

// Tokens estimates the prompt cost of the whole thread memory.
func (t *Thread) Tokens() int {
	n := EstimateTokens(t.Summary) + EstimateTokens(t.Context)
	for _, e := range t.Entries {
		n += EstimateTokens(e.Text) + 4 // per-message overhead
	}
	return n
}

// Trim folds the oldest entries into the running summary until the thread
// fits budget tokens; the summary itself is bounded to a fifth of the budget
// (its oldest part is dropped). The last entry is always kept. It returns
// how many entries were folded.
func (t *Thread) Trim(budget int) int {
	folded := 0
	for len(t.Entries) > 1 && t.Tokens() > budget {
		e := t.Entries[0]
		t.Entries = t.Entries[1:]
		t.Summary = joinSummary(t.Summary, summarizeEntry(e))
		folded++
	}
	maxSummary := budget / 5 * 4 // chars
	if len(t.Summary) > maxSummary {
		s := t.Summary[len(t.Summary)-maxSummary:]
		for len(s) > 0 && !utf8Start(s[0]) {
			s = s[1:]
		}
		t.Summary = "…" + s
	}
	// A single huge entry still must not blow the budget.
	if len(t.Entries) == 1 && t.Tokens() > budget {
		room := max(budget*4-len(t.Summary)-len(t.Context)-16, 64)
		t.Entries[0].Text = truncate(t.Entries[0].Text, room)
	}
	metricMemoryTrims.Add(float64(folded))
	return folded
}

func summarizeEntry(e Entry) string {
	text := strings.Join(strings.Fields(e.Text), " ")
	switch e.Role {
	case RoleUser:
		if e.User != "" {
			return fmt.Sprintf("<@%s> asked: %s", e.User, truncate(text, 140))
		}
		return "user asked: " + truncate(text, 140)
	case RoleAssistant:
		return "Maria answered: " + truncate(text, 140)
	default:
		return truncate(text, 160)
	}
}

func joinSummary(a, b string) string {
	if a == "" {
		return b
	}
	return a + " | " + b
}

// Memory stores threads in a JetStream KV bucket, so memory survives
// restarts and is shared by every replica. Writes are kv.Store updates
// (compare-and-set on the key's revision, retried on conflict). A corrupt
// record reads as an empty thread, so it cannot wedge the thread forever.
type Memory struct {
	threads kv.Store[Thread]
	budget  int
}

// MemoryBucket is the KV bucket holding thread memory.
const MemoryBucket = "maria_memory"

// OpenMemory opens (or creates) the memory bucket. Threads idle for ttl are forgotten.
func OpenMemory(ctx context.Context, js jetstream.JetStream, replicas int, budget int, ttl time.Duration) (*Memory, error) {
	b, err := kv.Open(ctx, js, kv.Config{
		Bucket:      MemoryBucket,
		Description: "maria ai: per-thread conversation memory",
		TTL:         ttl,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("memory bucket: %w", err)
	}
	return &Memory{threads: kv.Typed[Thread](b).ResetCorrupt(), budget: budget}, nil
}

// ThreadKey names a thread's memory.
func ThreadKey(team, channel, threadTS string) string {
	return kvSafe(team) + "." + kvSafe(channel) + "." + kvSafe(threadTS)
}

// kvSafe keeps KV key characters valid: [A-Za-z0-9_-], anything else → '_'.
func kvSafe(s string) string {
	if s == "" {
		return "_"
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Load returns the thread's memory (empty when none) and whether it exists.
func (m *Memory) Load(ctx context.Context, key string) (*Thread, bool, error) {
	e, found, err := m.threads.Get(ctx, key)
	if err != nil {
		return nil, false, fmt.Errorf("memory get: %w", err)
	}
	e.Value.rev = e.Revision
	return &e.Value, found, nil
}

// Append adds entries not already present (by ID), trims to the budget
// (or to budget when it is positive and smaller), and saves with CAS.
func (m *Memory) Append(ctx context.Context, key string, budget int, entries ...Entry) error {
	return m.update(ctx, key, m.appender(budget, entries))
}

// AppendLoaded is Append onto t, the thread as Load returned it: a turn
// has just read its thread, so the write is conditioned on that read (one
// KV round trip, not a read and a write); when another writer got there
// first it is an Append.
func (m *Memory) AppendLoaded(ctx context.Context, key string, t *Thread, budget int, entries ...Entry) error {
	change := m.appender(budget, entries)
	next := *t
	next.Entries = append([]Entry(nil), t.Entries...)
	if !change(&next) {
		return nil
	}
	next.Updated = time.Now().UTC()
	var err error
	if t.rev == 0 {
		_, err = m.threads.Create(ctx, key, next)
	} else {
		_, err = m.threads.Put(ctx, key, next, t.rev)
	}
	if errors.Is(err, kv.ErrConflict) {
		return m.Append(ctx, key, budget, entries...)
	}
	if err != nil {
		return fmt.Errorf("memory save: %w", err)
	}
	return nil
}

// appender is the change of Append.
func (m *Memory) appender(budget int, entries []Entry) func(*Thread) bool {
	if budget <= 0 || budget > m.budget {
		budget = m.budget
	}
	return func(t *Thread) bool {
		have := make(map[string]bool, len(t.Entries))
		for _, e := range t.Entries {
			have[e.ID] = true
		}
		changed := false
		for _, e := range entries {
			if e.ID != "" && have[e.ID] {
				continue
			}
			t.Entries = append(t.Entries, e)
			changed = true
		}
		if t.Tokens() > budget {
			t.Trim(budget)
			changed = true
		}
		return changed
	}
}

// Revise applies an edit (text) or a deletion (deleted) of the user's
// message ts to the thread's memory, so follow-ups see what the user now
// says, not what they retracted. It reports whether the thread remembered
// that message; threads Maria is not part of are left alone.
func (m *Memory) Revise(ctx context.Context, key, ts, text string, deleted bool) (bool, error) {
	revised := false
	err := m.update(ctx, key, func(t *Thread) bool {
		revised = false // a rerun after a lost race decides afresh
		for i, e := range t.Entries {
			if e.Role != RoleUser || e.TS == "" || e.TS != ts {
				continue
			}
			if deleted {
				t.Entries = append(t.Entries[:i:i], t.Entries[i+1:]...)
			} else if e.Text != text {
				t.Entries[i].Text = text
			} else {
				return false
			}
			revised = true
			return true
		}
		return false
	})
	return revised, err
}

// SetContext records the channel the user is looking at (assistant pane).
func (m *Memory) SetContext(ctx context.Context, key, context string) error {
	return m.update(ctx, key, func(t *Thread) bool {
		if t.Context == context {
			return false
		}
		t.Context = context
		return true
	})
}

// update applies change to the stored thread; change reports whether it
// changed anything (nothing is written otherwise) and may run again when
// another replica saved first.
func (m *Memory) update(ctx context.Context, key string, change func(*Thread) bool) error {
	_, err := m.threads.Update(ctx, key, func(t Thread, _ bool) (Thread, error) {
		if !change(&t) {
			return t, kv.ErrNoChange
		}
		t.Updated = time.Now().UTC()
		return t, nil
	})
	if err != nil {
		return fmt.Errorf("memory save: %w", err)
	}
	return nil
}

package ingress

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// messageEvent (one decode) and anyEvent (the general way) must normalize
// a delivery alike whenever messageEvent takes it: every testdata payload
// and a few edge cases (FuzzNormalize checks arbitrary inputs too).
func TestMessageEventAgrees(t *testing.T) {
	n := NewNormalizer([]string{"U0LAN0Z89"}, []string{"B0MARIA01"})
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	bodies := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bodies[filepath.Base(f)] = b
	}
	for name, body := range map[string]string{
		"own message":         `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"message","channel":"C1","user":"U0LAN0Z89","text":"hi","ts":"1.1"}}`,
		"edited, no message":  `{"type":"event_callback","team_id":"T1","event_id":"Ev2","event":{"type":"message","subtype":"message_changed","channel":"C1","ts":"1.2"}}`,
		"deleted, no ts":      `{"type":"event_callback","team_id":"T1","event_id":"Ev3","event":{"type":"message","subtype":"message_deleted","channel":"C1"}}`,
		"user of wrong type":  `{"type":"event_callback","team_id":"T1","event_id":"Ev4","event":{"type":"app_mention","channel":"C1","user":5,"text":"hi","ts":"1.4"}}`,
		"no event id":         `{"type":"event_callback","team_id":"T1","event":{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1.5"}}`,
		"reaction":            `{"type":"event_callback","team_id":"T1","event_id":"Ev6","event":{"type":"reaction_added","user":"U1","reaction":"+1","item":{"type":"message","channel":"C1","ts":"1.6"}}}`,
		"enterprise install":  `{"type":"event_callback","team_id":"T1","enterprise_id":"E1","event_id":"Ev7","authorizations":[{"enterprise_id":"E1","is_enterprise_install":true}],"event":{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1.7","thread_ts":"1.0"}}`,
		"team of wrong type":  `{"type":"event_callback","team_id":7,"event_id":"Ev8","event":{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1.8"}}`,
		"mention of the bot":  `{"type":"event_callback","team_id":"T1","event_id":"Ev9","event":{"type":"message","channel":"C1","user":"U1","text":"<@U0LAN0Z89> hi","ts":"1.9"}}`,
		"message by a bot id": `{"type":"event_callback","team_id":"T1","event_id":"Ev10","event":{"type":"message","channel":"C1","bot_id":"B0MARIA01","text":"hi","ts":"1.10"}}`,
	} {
		bodies[name] = []byte(body)
	}
	taken := 0
	for name, body := range bodies {
		if messageEventAgrees(t, n, name, body) {
			taken++
		}
	}
	if taken < 5 {
		t.Errorf("messageEvent took only %d of %d payloads: the fast path is not exercised", taken, len(bodies))
	}
}

// messageEventAgrees fails t when messageEvent takes body and normalizes
// it otherwise than anyEvent; it tells whether messageEvent took it.
func messageEventAgrees(t *testing.T, n *Normalizer, name string, body []byte) bool {
	t.Helper()
	fast, ok, ferr := n.messageEvent(body)
	if !ok {
		return false
	}
	slow, serr := n.anyEvent(body)
	if (ferr == nil) != (serr == nil) || (ferr != nil && ferr.Error() != serr.Error()) {
		t.Fatalf("%s: messageEvent error %v, anyEvent error %v", name, ferr, serr)
	}
	if got, want := resultJSON(t, fast), resultJSON(t, slow); got != want {
		t.Fatalf("%s: messageEvent\n%s\nanyEvent\n%s", name, got, want)
	}
	return true
}

// resultJSON renders a result comparably: envelope times are when it was
// normalized, not part of what it says.
func resultJSON(t *testing.T, r *Result) string {
	t.Helper()
	if r == nil {
		return "null"
	}
	for _, ev := range r.Events {
		ev.Env.Time = time.Time{}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

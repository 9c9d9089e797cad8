package ingress

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/mariahq/maria/schemas"
)

// FuzzNormalize feeds arbitrary bytes to every entry of the normalizer (the
// Events API body, the interaction payload, a slash command form): it must
// never panic, must fail only with ErrMalformed, and whatever it accepts
// must be valid envelopes on well-formed maria.in subjects. The Events
// API's fast path for messages must agree with its general way.
func FuzzNormalize(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"url_verification","challenge":"x"}`))
	f.Add([]byte(`{"type":"event_callback","team_id":"T.*>","event_id":"E","event":{"type":"message","channel":"C >.","user":"U","text":"<@U|"}}`))
	f.Add([]byte("command=/maria&team_id=T1&user_id=U1&channel_id=C1&text=hi&trigger_id=1.2.3"))
	n := NewNormalizer([]string{"U0LAN0Z89"}, []string{"B0MARIA01"})
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(entry string, res *Result, err error) {
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("%s: error not ErrMalformed: %v", entry, err)
				}
				return
			}
			if res == nil {
				t.Fatalf("%s: nil result without error", entry)
			}
			for _, ev := range res.Events {
				if err := ev.Env.Validate(); err != nil {
					t.Fatalf("%s: %v", entry, err)
				}
				s, err := schemas.ParseSubject(ev.Subject)
				if err != nil || s.Stage != "in" || s.Kind != ev.Kind {
					t.Fatalf("%s: bad subject %q (%v)", entry, ev.Subject, err)
				}
				if s.Team != schemas.Token(ev.Env.Team) || s.Channel != schemas.Token(ev.Env.Channel) {
					t.Fatalf("%s: subject %q disagrees with envelope team %q channel %q", entry, ev.Subject, ev.Env.Team, ev.Env.Channel)
				}
			}
		}
		res, err := n.Event(body)
		check("event", res, err)
		messageEventAgrees(t, n, "event", body)
		res, err = n.Interaction(body)
		check("interaction", res, err)
		if form, err := url.ParseQuery(string(body)); err == nil {
			res, err := n.Command(CommandFromForm(form))
			check("command", res, err)
		}
	})
}

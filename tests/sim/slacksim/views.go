package slacksim

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TriggerLifetime is how long a trigger id can open a modal, as at Slack.
const TriggerLifetime = 3 * time.Second

// View is a published Home tab or an opened modal, as the app sent it.
type View struct {
	ID   string
	User string
	// Type is "home" or "modal".
	Type string
	// JSON is the view object.
	JSON json.RawMessage
	// TriggerID opened a modal.
	TriggerID string
	At        time.Time
}

// Text is every text string and input's initial value in the view, joined
// by newlines: enough for tests to look for what a user sees.
func (v View) Text() string {
	var parts []string
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, y := range t {
				if s, ok := y.(string); ok && (k == "text" || k == "initial_value") {
					parts = append(parts, s)
				} else {
					walk(y)
				}
			}
		case []any:
			for _, y := range t {
				walk(y)
			}
		}
	}
	var root any
	_ = json.Unmarshal(v.JSON, &root)
	walk(root)
	return strings.Join(parts, "\n")
}

type viewStore struct {
	home   map[string]View // user → current Home tab
	modals []View
}

func (s *Sim) viewsLocked() *viewStore {
	if s.views == nil {
		s.views = &viewStore{home: map[string]View{}}
	}
	return s.views
}

// Home is the Home tab last published for user.
func (s *Sim) Home(user string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.viewsLocked().home[user]
	return v, ok
}

// Modals are the modals opened, oldest first.
func (s *Sim) Modals() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]View(nil), s.viewsLocked().modals...)
}

// viewCall serves views.publish and views.open with s.mu held.
func (s *Sim) viewCall(method string, p url.Values) (reply, string) {
	var view map[string]any
	if err := json.Unmarshal([]byte(p.Get("view")), &view); err != nil || view == nil {
		return nil, "invalid_arguments"
	}
	raw, _ := json.Marshal(view)
	st := s.viewsLocked()
	s.idSeq++
	v := View{ID: "V" + s.idBase + strconv.Itoa(s.idSeq), JSON: raw, At: time.Now()}
	v.Type, _ = view["type"].(string)
	switch method {
	case "views.publish":
		v.User = p.Get("user_id")
		if v.User == "" {
			return nil, "invalid_arguments"
		}
		if v.Type != "home" {
			return nil, "invalid_arguments"
		}
		st.home[v.User] = v
	case "views.open":
		v.TriggerID = p.Get("trigger_id")
		if code := triggerProblem(v.TriggerID, v.At); code != "" {
			return nil, code
		}
		if v.Type != "modal" {
			return nil, "invalid_arguments"
		}
		st.modals = append(st.modals, v)
	}
	return reply{"view": json.RawMessage(raw)}, ""
}

// triggerProblem checks a trigger id made by slackevents.NewTriggerID
// (<n>.<unix seconds>.<hex>): unknown shapes are invalid, ids older than
// TriggerLifetime expired, as Slack answers.
func triggerProblem(id string, now time.Time) string {
	parts := strings.Split(id, ".")
	if len(parts) != 3 {
		return "invalid_trigger_id"
	}
	sec, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return "invalid_trigger_id"
	}
	// Whole seconds: an id issued at second s is good until s+1+lifetime.
	if now.Sub(time.Unix(sec+1, 0)) > TriggerLifetime {
		return "expired_trigger_id"
	}
	return ""
}

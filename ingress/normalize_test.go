package ingress

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mariahq/maria/schemas"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// want describes one expected envelope.
type want struct {
	subject, typ, id             string
	team, channel, user, threadT string
	payload                      any // pointer to the expected decoded payload
}

func decodeInto(t *testing.T, env *schemas.Envelope, like any) any {
	t.Helper()
	v := reflect.New(reflect.TypeOf(like).Elem())
	if err := json.Unmarshal(env.Data, v.Interface()); err != nil {
		t.Fatalf("decode %s data: %v", env.Type, err)
	}
	return v.Interface()
}

// checkEvents checks res's envelopes against wants, and that all of them
// carry the correlation id turn (a schemas.TurnID).
func checkEvents(t *testing.T, res *Result, turn string, wants []want) {
	t.Helper()
	if len(res.Events) != len(wants) {
		t.Fatalf("got %d events, want %d (ignored=%q)", len(res.Events), len(wants), res.Ignored)
	}
	for i, w := range wants {
		ev := res.Events[i]
		e := ev.Env
		if err := e.Validate(); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		got := want{ev.Subject, e.Type, e.ID, e.Team, e.Channel, e.User, e.ThreadTS, nil}
		w2 := w
		w2.payload = nil
		if got != w2 {
			t.Errorf("event %d envelope:\n got  %+v\n want %+v", i, got, w2)
		}
		// One correlation per user turn (a message's files are caused by
		// the message and carry its turn).
		first := res.Events[0].Env
		if e.Source != Source || e.CorrelationID != turn || !schemas.IsTurnID(e.CorrelationID) || (i > 0 && e.CausationID != first.ID) {
			t.Errorf("event %d: source %q correlation %q causation %q, want turn %q caused by %q", i, e.Source, e.CorrelationID, e.CausationID, turn, first.ID)
		}
		if w.payload != nil {
			if p := decodeInto(t, e, w.payload); !reflect.DeepEqual(p, w.payload) {
				t.Errorf("event %d payload:\n got  %+v\n want %+v", i, p, w.payload)
			}
		}
	}
}

func TestNormalizeEvents(t *testing.T) {
	n := NewNormalizer(nil, nil)
	const team = "T123ABC456"
	cases := []struct {
		file    string
		ignored string
		user    string
		turn    string
		wants   []want
	}{
		{file: "app_mention.json", user: "U123ABC456", turn: schemas.SlackMessageTurn(team, "C123ABC456", "1515449522.000016"), wants: []want{{
			subject: "maria.in.mention.T123ABC456.C123ABC456", typ: schemas.TypeSlackMention, id: "Ev123ABC456",
			team: team, channel: "C123ABC456", user: "U123ABC456", threadT: "1515449522.000016",
			payload: &schemas.SlackMessage{EventID: "Ev123ABC456", TS: "1515449522.000016", Text: "What is the hour of the pearl, <@U0LAN0Z89>?", Mentioned: true},
		}}},
		{file: "message_im.json", user: "U2147483697", turn: schemas.SlackMessageTurn(team, "D024BE91L", "1355517523.000005"), wants: []want{{
			subject: "maria.in.message.T123ABC456.D024BE91L", typ: schemas.TypeSlackMessage, id: "Ev0PV52K21",
			team: team, channel: "D024BE91L", user: "U2147483697", threadT: "1355517523.000005",
			payload: &schemas.SlackMessage{EventID: "Ev0PV52K21", TS: "1355517523.000005", Text: "Hello hello can you hear me?", ChannelType: "im"},
		}}},
		{file: "message_thread_reply.json", user: "U2147483697", turn: schemas.SlackMessageTurn(team, "C123ABC456", "1355517529.000006"), wants: []want{{
			subject: "maria.in.message.T123ABC456.C123ABC456", typ: schemas.TypeSlackMessage, id: "Ev0PV52K22",
			team: team, channel: "C123ABC456", user: "U2147483697", threadT: "1355517523.000005",
			payload: &schemas.SlackMessage{EventID: "Ev0PV52K22", TS: "1355517529.000006", ThreadTS: "1355517523.000005",
				Text: "and what about <@U0LAN0Z89|maria> here?", ChannelType: "channel", Mentioned: true},
		}}},
		{file: "message_changed.json", user: "U2147483697", turn: schemas.SlackMessageTurn(team, "C123ABC456", "1358878755.000001"), wants: []want{{
			subject: "maria.in.message.T123ABC456.C123ABC456", typ: schemas.TypeSlackMessage, id: "Ev0PV52K23",
			team: team, channel: "C123ABC456", user: "U2147483697", threadT: "1355517523.000005",
			payload: &schemas.SlackMessage{EventID: "Ev0PV52K23", TS: "1358878755.000001", Text: "Hello, world!", ChannelType: "channel",
				Subtype: "message_changed", PreviousTS: "1355517523.000005"},
		}}},
		{file: "message_deleted.json", user: "U2147483697", turn: schemas.SlackMessageTurn(team, "C123ABC456", "1358878755.000001"), wants: []want{{
			subject: "maria.in.message.T123ABC456.C123ABC456", typ: schemas.TypeSlackMessage, id: "Ev0PV52K24",
			team: team, channel: "C123ABC456", user: "U2147483697", threadT: "1358878700.000001",
			payload: &schemas.SlackMessage{EventID: "Ev0PV52K24", TS: "1358878755.000001", ThreadTS: "1358878700.000001", ChannelType: "channel",
				Subtype: "message_deleted", PreviousTS: "1358878749.000002"},
		}}},
		{file: "message_file_share.json", user: "U2147483697", turn: schemas.SlackMessageTurn(team, "C123ABC456", "1700000000.000100"), wants: []want{
			{subject: "maria.in.message.T123ABC456.C123ABC456", typ: schemas.TypeSlackMessage, id: "Ev0FILEMSG1",
				team: team, channel: "C123ABC456", user: "U2147483697", threadT: "1700000000.000100"},
			{subject: "maria.in.file.T123ABC456.C123ABC456", typ: schemas.TypeSlackFile, id: schemas.SlackFileEventID(team, "C123ABC456", "F0ABC1111"),
				team: team, channel: "C123ABC456", user: "U2147483697", threadT: "1700000000.000100",
				payload: &schemas.SlackFileShared{EventID: "Ev0FILEMSG1", TS: "1700000000.000100", File: schemas.SlackFile{
					ID: "F0ABC1111", Name: "invoice.pdf", Title: "invoice.pdf", Mimetype: "application/pdf", Filetype: "pdf", Size: 52344,
					URLPrivate:         "https://files.slack.com/files-pri/T123ABC456-F0ABC1111/invoice.pdf",
					URLPrivateDownload: "https://files.slack.com/files-pri/T123ABC456-F0ABC1111/download/invoice.pdf"}}},
			{subject: "maria.in.file.T123ABC456.C123ABC456", typ: schemas.TypeSlackFile, id: schemas.SlackFileEventID(team, "C123ABC456", "F0ABC2222"),
				team: team, channel: "C123ABC456", user: "U2147483697", threadT: "1700000000.000100"},
		}},
		// The message carrying the file announces it (TestFileSharedIsTheMessagesTurn).
		{file: "file_shared.json", ignored: IgnoredFileInMessage, user: "U2147483697"},
		{file: "reaction_added.json", user: "U123ABC456", turn: schemas.SlackEventTurn(team, "Ev0REACT1"), wants: []want{{
			subject: "maria.in.reaction.T123ABC456.C123ABC456", typ: schemas.TypeSlackReaction, id: "Ev0REACT1",
			team: team, channel: "C123ABC456", user: "U123ABC456",
			payload: &schemas.SlackReaction{EventID: "Ev0REACT1", Reaction: "thumbsup", ItemTS: "1360782400.498405", ItemUser: "U222222222"},
		}}},
		{file: "assistant_thread_started.json", user: "U123ABC456", turn: schemas.SlackEventTurn(team, "Ev0ASSIST1"), wants: []want{{
			subject: "maria.in.assistant.T123ABC456.D123ABC456", typ: schemas.TypeSlackAssistant, id: "Ev0ASSIST1",
			team: team, channel: "D123ABC456", user: "U123ABC456", threadT: "1729999327.187299",
			payload: &schemas.SlackAssistant{EventID: "Ev0ASSIST1", Event: "assistant_thread_started", ContextChannel: "C123ABC456", ContextTeam: "T07XY8FPJ5C"},
		}}},
		{file: "assistant_thread_context_changed.json", user: "U123ABC456", turn: schemas.SlackEventTurn(team, "Ev0ASSIST2"), wants: []want{{
			subject: "maria.in.assistant.T123ABC456.D123ABC456", typ: schemas.TypeSlackAssistant, id: "Ev0ASSIST2",
			team: team, channel: "D123ABC456", user: "U123ABC456", threadT: "1729999327.187299",
			payload: &schemas.SlackAssistant{EventID: "Ev0ASSIST2", Event: "assistant_thread_context_changed", ContextChannel: "C789XYZ000", ContextTeam: "T07XY8FPJ5C"},
		}}},
		{file: "message_own_bot.json", ignored: IgnoredOwnMessage, user: ""},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			res, err := n.Event(readTestdata(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if res.Ignored != c.ignored {
				t.Fatalf("ignored = %q, want %q", res.Ignored, c.ignored)
			}
			if res.Team != team || res.User != c.user {
				t.Errorf("rate keys team=%q user=%q, want %q %q", res.Team, res.User, team, c.user)
			}
			checkEvents(t, res, c.turn, c.wants)
		})
	}
}

// mutate applies f to the decoded testdata file and re-encodes it.
func mutate(t *testing.T, file string, f func(cb map[string]any, ev map[string]any)) []byte {
	t.Helper()
	var cb map[string]any
	if err := json.Unmarshal(readTestdata(t, file), &cb); err != nil {
		t.Fatal(err)
	}
	ev, _ := cb["event"].(map[string]any)
	f(cb, ev)
	b, err := json.Marshal(cb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNormalizeOwnMessages(t *testing.T) {
	cases := []struct {
		name string
		norm *Normalizer
		body []byte
	}{
		{"user is the authorized bot user", NewNormalizer(nil, nil), mutate(t, "message_im.json", func(_, ev map[string]any) { ev["user"] = "U0LAN0Z89" })},
		{"bot user known from auth.test", NewNormalizer([]string{"U0AUTHTEST"}, nil), mutate(t, "message_im.json", func(cb, ev map[string]any) {
			delete(cb, "authorizations")
			ev["user"] = "U0AUTHTEST"
		})},
		{"bot_id known from auth.test", NewNormalizer(nil, []string{"B0MARIA01"}), mutate(t, "message_im.json", func(cb, ev map[string]any) {
			delete(cb, "authorizations")
			delete(ev, "user")
			ev["bot_id"] = "B0MARIA01"
			ev["subtype"] = "bot_message"
		})},
		{"bot_profile of our app", NewNormalizer(nil, nil), mutate(t, "message_im.json", func(cb, ev map[string]any) {
			delete(cb, "authorizations")
			delete(ev, "user")
			ev["bot_id"] = "B0OTHER"
			ev["bot_profile"] = map[string]any{"id": "B0OTHER", "app_id": "A123ABC456"}
		})},
		{"edit of our own message", NewNormalizer(nil, nil), mutate(t, "message_changed.json", func(_, ev map[string]any) {
			ev["message"].(map[string]any)["user"] = "U0LAN0Z89"
			ev["previous_message"].(map[string]any)["user"] = "U0LAN0Z89"
		})},
		{"deletion of our own message", NewNormalizer(nil, nil), mutate(t, "message_deleted.json", func(_, ev map[string]any) {
			ev["previous_message"].(map[string]any)["user"] = "U0LAN0Z89"
		})},
		{"our own upload", NewNormalizer(nil, nil), mutate(t, "file_shared.json", func(_, ev map[string]any) { ev["user_id"] = "U0LAN0Z89" })},
		{"our own reaction", NewNormalizer(nil, nil), mutate(t, "reaction_added.json", func(_, ev map[string]any) { ev["user"] = "U0LAN0Z89" })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := c.norm.Event(c.body)
			if err != nil {
				t.Fatal(err)
			}
			if res.Ignored != IgnoredOwnMessage || len(res.Events) != 0 {
				t.Fatalf("ignored=%q events=%d, want own_message and none", res.Ignored, len(res.Events))
			}
		})
	}
	// Another bot's message is not ours: published, with its bot_id.
	other := mutate(t, "message_im.json", func(_, ev map[string]any) {
		ev["subtype"] = "bot_message"
		ev["bot_id"] = "B0SOMEONE"
		ev["bot_profile"] = map[string]any{"id": "B0SOMEONE", "app_id": "A0SOMEONE"}
	})
	res, err := NewNormalizer(nil, nil).Event(other)
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("another bot's message: %v, %+v", err, res)
	}
}

func TestNormalizeAcknowledgedWithoutEvents(t *testing.T) {
	n := NewNormalizer(nil, nil)
	cases := []struct {
		name, body, challenge, ignored string
	}{
		{"url_verification", `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`,
			"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", ""},
		{"app_rate_limited", `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","type":"app_rate_limited","team_id":"T123456","minute_rate_limited":1518467820,"api_app_id":"A123456"}`, "", IgnoredAppRateLimited},
		{"unsupported inner event", `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"channel_created","channel":{"id":"C1","name":"x","created":1,"creator":"U1"}}}`, "", IgnoredUnsupportedEvent},
		{"unknown outer type", `{"type":"something_new","team_id":"T1"}`, "", IgnoredUnsupportedEvent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := n.Event([]byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if res.Challenge != c.challenge || res.Ignored != c.ignored || len(res.Events) != 0 {
				t.Fatalf("got %+v", res)
			}
		})
	}
}

func TestNormalizeMalformed(t *testing.T) {
	n := NewNormalizer(nil, nil)
	bodies := map[string]string{
		"not json":                   `{"type":"event_callback",`,
		"array":                      `[1,2]`,
		"no type":                    `{"event_id":"Ev1"}`,
		"challenge missing":          `{"type":"url_verification"}`,
		"no event_id":                `{"type":"event_callback","team_id":"T1","event":{"type":"message","text":"x"}}`,
		"no event":                   `{"type":"event_callback","team_id":"T1","event_id":"Ev1"}`,
		"event null":                 `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":null}`,
		"event without type":         `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"text":"x"}}`,
		"text not a string":          `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"message","text":5}}`,
		"changed without message":    `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"message","subtype":"message_changed","channel":"C1"}}`,
		"deleted without deleted_ts": `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"message","subtype":"message_deleted","channel":"C1"}}`,
		"file_shared without id":     `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"file_shared","channel_id":"C1"}}`,
		"reaction without reaction":  `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"reaction_added","user":"U1"}}`,
		"assistant without thread":   `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"assistant_thread_started"}}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			if _, err := n.Event([]byte(body)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestNormalizeCommand(t *testing.T) {
	// Slack's documented slash command example.
	form, err := url.ParseQuery("token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&enterprise_id=E0001&enterprise_name=Globular%20Construct%20Inc&channel_id=C2147483705&channel_name=test&user_id=U2147483697&user_name=Steve&command=/weather&text=94070&response_url=https://hooks.slack.com/commands/1234/5678&trigger_id=13345224609.738474920.8088930838d88f008e0&api_app_id=A123456")
	if err != nil {
		t.Fatal(err)
	}
	n := NewNormalizer(nil, nil)
	res, err := n.Command(CommandFromForm(form))
	if err != nil {
		t.Fatal(err)
	}
	id := schemas.StableID("slack-command", "T0001", "13345224609.738474920.8088930838d88f008e0")
	checkEvents(t, res, schemas.SlackInteractionTurn("T0001", id), []want{{subject: "maria.in.command.T0001.C2147483705", typ: schemas.TypeSlackCommand, id: id,
		team: "T0001", channel: "C2147483705", user: "U2147483697",
		payload: &schemas.SlackCommand{Command: "/weather", Text: "94070", ResponseURL: "https://hooks.slack.com/commands/1234/5678",
			TriggerID: "13345224609.738474920.8088930838d88f008e0", UserName: "Steve", ChannelName: "test"}}})
	if res.Team != "T0001" || res.User != "U2147483697" {
		t.Errorf("rate keys %q %q", res.Team, res.User)
	}
	// Same command again (Slack retry) → same id; another invocation → another id.
	again, _ := n.Command(CommandFromForm(form))
	if again.Events[0].Env.ID != id {
		t.Error("retry changed the command id")
	}
	form.Set("trigger_id", "99999.1.abc")
	other, _ := n.Command(CommandFromForm(form))
	if other.Events[0].Env.ID == id {
		t.Error("another invocation reused the id")
	}
	for _, missing := range []string{"command", "team_id", "user_id"} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Del(missing)
		if _, err := n.Command(CommandFromForm(f)); !errors.Is(err, ErrMalformed) {
			t.Errorf("without %s: err = %v", missing, err)
		}
	}
}

func TestNormalizeInteraction(t *testing.T) {
	n := NewNormalizer(nil, nil)
	body := readTestdata(t, "block_actions.json")
	res, err := n.Interaction(body)
	if err != nil {
		t.Fatal(err)
	}
	id := schemas.SlackActionID("T123ABC456", "U123ABC456", "1548426417.840180", "erp_confirm", "proposal_1", "12466734323.1395872398.a1b2c3d4e5f6")
	checkEvents(t, res, schemas.SlackInteractionTurn("T123ABC456", id), []want{{subject: "maria.in.action.T123ABC456.C123ABC456", typ: schemas.TypeSlackAction, id: id,
		team: "T123ABC456", channel: "C123ABC456", user: "U123ABC456", threadT: "1548261200.000100",
		payload: &schemas.SlackAction{ActionID: "erp_confirm", BlockID: "proposal_1", Value: "proposal-42", MessageTS: "1548261231.000200",
			ResponseURL: "https://hooks.slack.com/actions/AABA1ABCD/1232321423432/D09sSasdasdAS9091209", TriggerID: "12466734323.1395872398.a1b2c3d4e5f6"}}})

	// Two actions → two events; a top-level message → its ts is the thread.
	var p map[string]any
	_ = json.Unmarshal(body, &p)
	delete(p["container"].(map[string]any), "thread_ts")
	delete(p["message"].(map[string]any), "thread_ts")
	acts := p["actions"].([]any)
	second := map[string]any{"action_id": "erp_cancel", "block_id": "proposal_1", "type": "static_select", "action_ts": "1548426418.000001",
		"selected_option": map[string]any{"value": "cancel-42"}}
	p["actions"] = append(acts, second)
	b, _ := json.Marshal(p)
	res, err = n.Interaction(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 2 {
		t.Fatalf("got %d events", len(res.Events))
	}
	for _, ev := range res.Events {
		if ev.Env.ThreadTS != "1548261231.000200" {
			t.Errorf("thread %q, want the message ts", ev.Env.ThreadTS)
		}
	}
	a2, _ := schemas.DecodeData[schemas.SlackAction](res.Events[1].Env)
	if a2.Value != "cancel-42" || res.Events[0].Env.ID == res.Events[1].Env.ID {
		t.Errorf("second action %+v", a2)
	}

	ignored, err := n.Interaction([]byte(`{"type":"view_submission","user":{"id":"U1","team_id":"T1"},"view":{}}`))
	if err != nil || ignored.Ignored != IgnoredUnsupportedInteraction {
		t.Errorf("view_submission: %v %+v", err, ignored)
	}
	for name, bad := range map[string]string{
		"not json": `{`, "no type": `{}`, "no user": `{"type":"block_actions","actions":[{"action_id":"a"}]}`,
		"no actions":   `{"type":"block_actions","user":{"id":"U1"}}`,
		"no action_id": `{"type":"block_actions","user":{"id":"U1"},"actions":[{"value":"x"}]}`,
	} {
		if _, err := n.Interaction([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// A file shared with a question is one turn whichever delivery comes
// first: the message and the app_mention for it share the turn and
// announce the file under one id; file_shared in the conversation is not
// published (it would be a turn of its own when it arrives first).
func TestFileSharedIsTheMessagesTurn(t *testing.T) {
	n := NewNormalizer(nil, nil)
	const team, channel = "T123ABC456", "C123ABC456"
	msg, err := n.Event(readTestdata(t, "message_file_share.json"))
	if err != nil {
		t.Fatal(err)
	}
	mention, err := n.Event(mutate(t, "message_file_share.json", func(cb, ev map[string]any) {
		cb["event_id"] = "Ev0FILEMENTION"
		ev["type"] = "app_mention"
		delete(ev, "subtype")
	}))
	if err != nil {
		t.Fatal(err)
	}
	turn := schemas.SlackMessageTurn(team, channel, "1700000000.000100")
	for i := range msg.Events {
		m, a := msg.Events[i].Env, mention.Events[i].Env
		if m.CorrelationID != turn || a.CorrelationID != turn {
			t.Errorf("event %d: correlations %s (message) and %s (app_mention), want the turn %s", i, m.CorrelationID, a.CorrelationID, turn)
		}
		if i > 0 && m.ID != a.ID {
			t.Errorf("file %d: ids %s and %s, want one", i, m.ID, a.ID)
		}
	}
	if msg.Events[0].Env.ID == mention.Events[0].Env.ID {
		t.Error("the message and its app_mention got one envelope id: the stream would drop one")
	}

	fs, err := n.Event(mutate(t, "file_shared.json", func(_, ev map[string]any) {
		ev["file_id"] = "F0ABC1111"
		ev["file"] = map[string]any{"id": "F0ABC1111"}
	}))
	if err != nil || fs.Ignored != IgnoredFileInMessage || len(fs.Events) != 0 {
		t.Fatalf("file_shared in a channel: err %v ignored %q events %d, want %q and none", err, fs.Ignored, len(fs.Events), IgnoredFileInMessage)
	}
	// Without a conversation nothing else announces the file.
	alone, err := n.Event(mutate(t, "file_shared.json", func(_, ev map[string]any) { delete(ev, "channel_id") }))
	if err != nil {
		t.Fatal(err)
	}
	checkEvents(t, alone, schemas.SlackEventTurn(team, "Ev0FILESH1"), []want{{
		subject: schemas.InSubject(schemas.KindFile, team, ""), typ: schemas.TypeSlackFile, id: schemas.SlackFileEventID(team, "", "F2147483862"),
		team: team, user: "U2147483697",
		payload: &schemas.SlackFileShared{EventID: "Ev0FILESH1", TS: "1361482916.000004", File: schemas.SlackFile{ID: "F2147483862"}},
	}})
}

func TestMentionsBot(t *testing.T) {
	c := &callbackCtx{n: NewNormalizer([]string{"UBOT"}, nil), cb: &eventCallback{}}
	for text, want := range map[string]bool{
		"<@UBOT> hi": true, "hi <@UBOT|maria>": true, "<@UBOTX> hi": false, "<@UOTHER> <@UBOT>": true,
		"UBOT": false, "<@": false, "<@UBOT": false, "": false, "<!here> <@U1|x> <@UBOT>": true,
	} {
		if got := c.mentionsBot(text); got != want {
			t.Errorf("mentionsBot(%q) = %v", text, got)
		}
	}
}

// Package slacksim is an in-process Slack Web API server for tests and for
// `maria demo`. It speaks what slack-go v0.35.0 sends (form-encoded bodies
// with the token as a form field, JSON bodies with a bearer token, multipart
// uploads) and answers with Slack's response shapes, so the production
// client code runs unchanged against it:
//
//	sim := slacksim.New("xoxb-test")
//	defer sim.Close()
//	api := slack.New("xoxb-test", slack.OptionAPIURL(sim.URL()))
//
// It checks the bot token (invalid_auth otherwise), records every call
// (Calls, Messages), and can inject per-channel rate limits (429 with
// Retry-After), HTTP failures before or after acting, Slack error codes and
// latency.
package slacksim

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mariahq/maria/schemas"
)

// Identity of the simulated workspace and bot.
const (
	TeamID    = "T0SIM"
	TeamName  = "Maria Sim"
	BotUserID = "U0MARIA"
	BotID     = "B0MARIA"
	BotName   = "maria"
)

// Metadata is Slack message metadata.
type Metadata struct {
	EventType    string         `json:"event_type"`
	EventPayload map[string]any `json:"event_payload"`
}

// FileRef is a file attached to a message.
type FileRef struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Title string `json:"title,omitempty"`
}

// Message is one message as Slack stores it.
type Message struct {
	Channel  string          `json:"-"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	User     string          `json:"user,omitempty"`
	BotID    string          `json:"bot_id,omitempty"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	Metadata *Metadata       `json:"metadata,omitempty"`
	Files    []FileRef       `json:"files,omitempty"`
	// Edits counts chat.update calls applied to the message.
	Edits int `json:"-"`
	// Streaming is true between chat.startStream and chat.stopStream.
	Streaming bool     `json:"-"`
	Stream    bool     `json:"-"` // created by chat.startStream
	Reactions []string `json:"-"`
}

// Ephemeral is a chat.postEphemeral message (never in history).
type Ephemeral struct {
	Channel, User, ThreadTS, Text, MessageTS string
	Blocks                                   json.RawMessage
}

// Response is a message sent to a response_url.
type Response struct {
	URL             string          `json:"-"`
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks,omitempty"`
	ResponseType    string          `json:"response_type,omitempty"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts,omitempty"`
}

// AssistantThread is the assistant state of one thread.
type AssistantThread struct {
	Status      string
	Title       string
	PromptTitle string
	Prompts     []Prompt
}

// Prompt is a suggested prompt.
type Prompt struct {
	Title   string `json:"title"`
	Message string `json:"message"`
}

// Call records one request.
type Call struct {
	Method  string
	Channel string
	// Params holds the request arguments without the token.
	Params url.Values
	// Status is the HTTP status answered; Error the Slack error code, if any.
	Status int
	Error  string
	At     time.Time
	// Team is the workspace of the token used, for tokens issued through
	// OAuth (oauth.go); empty for the simulator's own bot token.
	Team string
}

// OK reports whether the call succeeded.
func (c Call) OK() bool { return c.Status == http.StatusOK && c.Error == "" }

type failure struct {
	status int
	code   string
}

type rateRule struct {
	n          int
	retryAfter time.Duration
}

type hostedFile struct {
	schemas.SlackFile
	content  []byte
	uploaded bool
}

// Sim is the simulated Slack.
type Sim struct {
	srv   *httptest.Server
	token string

	mu         sync.Mutex
	seq        int64
	idSeq      int
	idBase     string // per instance: ids stay unique across simulator restarts
	calls      []Call
	messages   map[string][]*Message // channel → in post order
	ephemerals []Ephemeral
	responses  []Response
	respURLs   map[string]int // path → uses left
	assistant  map[string]*AssistantThread
	files      map[string]*hostedFile
	users      map[string]map[string]any
	rate       map[string]*rateRule
	fails      map[string][]failure
	afterAct   map[string][]int // method → HTTP statuses answered after acting
	every      map[string]*everyRule
	slow       map[string]time.Duration
	chanErr    map[string]string
	noStream   map[string]string
	listeners  []chan struct{}
	views      *viewStore  // views.go
	oauth      *oauthState // oauth.go
}

// New starts a simulator accepting botToken.
func New(botToken string) *Sim {
	s := &Sim{token: botToken, messages: map[string][]*Message{}, respURLs: map[string]int{},
		assistant: map[string]*AssistantThread{}, files: map[string]*hostedFile{}, users: map[string]map[string]any{},
		rate: map[string]*rateRule{}, fails: map[string][]failure{}, afterAct: map[string][]int{}, every: map[string]*everyRule{}, slow: map[string]time.Duration{},
		chanErr: map[string]string{}, noStream: map[string]string{}, idBase: randomBase()}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.api)
	mux.HandleFunc("POST /upload/{id}", s.upload)
	mux.HandleFunc("GET /files-pri/{id}/{name}", s.download)
	mux.HandleFunc("GET /files-pri/{id}/download/{name}", s.download)
	mux.HandleFunc("GET /signin", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html><body>Sign in to Maria Sim</body></html>")
	})
	mux.HandleFunc("POST /respond/{id}", s.respond)
	mux.HandleFunc("GET /oauth/v2/authorize", s.authorize)
	s.srv = httptest.NewServer(mux)
	return s
}

// Close stops the server.
func (s *Sim) Close() { s.srv.Close() }

// URL is the Web API base for slack.OptionAPIURL (ends with "/").
func (s *Sim) URL() string { return s.srv.URL + "/api/" }

// BaseURL is the server root (files, uploads, response URLs live under it).
func (s *Sim) BaseURL() string { return s.srv.URL }

// Token is the accepted bot token.
func (s *Sim) Token() string { return s.token }

// ---- injection ----

// RateLimit answers the next n calls addressed to channel with HTTP 429 and
// Retry-After (whole seconds, as Slack sends; rounded up).
func (s *Sim) RateLimit(channel string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rate[channel] = &rateRule{n: n, retryAfter: retryAfter}
}

// FailNext makes the next call of method fail: an int is an HTTP status
// (e.g. 503), a string a Slack error code answered with ok:false.
func (s *Sim) FailNext(method string, statusOrCode any) { s.FailN(method, 1, statusOrCode) }

// FailN makes the next n calls of method fail (see FailNext).
func (s *Sim) FailN(method string, n int, statusOrCode any) {
	var f failure
	switch v := statusOrCode.(type) {
	case int:
		f.status = v
	case string:
		f.code = v
	default:
		panic(fmt.Sprintf("slacksim: FailNext wants an int status or a string error code, got %T", statusOrCode))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fails[method] = append(s.fails[method], f)
	}
}

// FailAfterActing makes the next n calls of method act (post, update,
// start, append to or stop a stream, …) and then answer with HTTP status —
// the ambiguous failure a client cannot tell from one that did nothing.
// The call is recorded with that status; its effect stays.
func (s *Sim) FailAfterActing(method string, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.afterAct[method] = append(s.afterAct[method], status)
	}
}

// everyRule fails every nth call of a method, before or after acting.
type everyRule struct {
	n, seen, status int
	afterActing     bool
}

// FailEvery makes every nth call of method (the nth, 2nth, …) answer HTTP
// status — before acting, or, afterActing, after the call took effect (see
// FailAfterActing) — for as long as it is set: a steady fault rate under
// load (chaos suite) rather than a burst of the next calls. n <= 0 clears it.
func (s *Sim) FailEvery(method string, n, status int, afterActing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.every, method)
		return
	}
	s.every[method] = &everyRule{n: n, status: status, afterActing: afterActing}
}

// everyFault counts a call of method against its FailEvery rule and says
// whether this call fails, and when (s.mu held).
func (s *Sim) everyFault(method string) (status int, afterActing bool) {
	r := s.every[method]
	if r == nil {
		return 0, false
	}
	r.seen++
	if r.seen%r.n != 0 {
		return 0, false
	}
	return r.status, r.afterActing
}

// SetChannelError makes every call addressed to channel fail with code
// (channel_not_found, not_in_channel, is_archived, ...); "" clears it.
func (s *Sim) SetChannelError(channel, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "" {
		delete(s.chanErr, channel)
		return
	}
	s.chanErr[channel] = code
}

// DisableStreaming makes chat.startStream fail in channel with code
// (default "streaming_unavailable"), as Slack does outside assistant contexts.
func (s *Sim) DisableStreaming(channel, code string) {
	if code == "" {
		code = "streaming_unavailable"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noStream[channel] = code
}

// Slow delays every answer of method by d ("*" for every method).
func (s *Sim) Slow(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slow[method] = d
}

// AddUser registers a user for users.info: a full member of the
// simulated workspace (TeamID).
func (s *Sim) AddUser(id, name, realName, email string) {
	s.AddUserAs(id, User{Name: name, RealName: realName, Email: email})
}

// User describes a users.info answer beyond the member default.
type User struct {
	Name, RealName, Email string
	// Team is the user's home workspace (default TeamID); another team
	// makes a Slack Connect (external) user.
	Team string
	// Restricted is a multi-channel guest, UltraRestricted (with
	// Restricted) a single-channel guest, as Slack flags them.
	Restricted, UltraRestricted bool
	Bot                         bool
	// Admin is a workspace admin (is_admin).
	Admin bool
}

// AddUserAs registers a user with the given kind for users.info.
func (s *Sim) AddUserAs(id string, u User) {
	if u.Name == "" {
		u.Name = strings.ToLower(id)
	}
	j := userJSON(id, u.Name, u.RealName, u.Email)
	if u.Team != "" {
		j["team_id"] = u.Team
	}
	j["is_restricted"] = u.Restricted || u.UltraRestricted
	j["is_ultra_restricted"] = u.UltraRestricted
	j["is_bot"] = u.Bot
	j["is_admin"] = u.Admin
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = j
}

// AddFile hosts a file downloadable with the bot token and returns it as
// Slack describes files in events.
func (s *Sim) AddFile(name, mimetype string, content []byte) schemas.SlackFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addFileLocked(name, mimetype, content, true).SlackFile
}

func (s *Sim) addFileLocked(name, mimetype string, content []byte, uploaded bool) *hostedFile {
	s.idSeq++
	id := fmt.Sprintf("F%s%05d", s.idBase, s.idSeq)
	ft := strings.TrimPrefix(strings.ToLower(extOf(name)), ".")
	f := &hostedFile{SlackFile: schemas.SlackFile{ID: id, Name: name, Title: name, Mimetype: mimetype, Filetype: ft,
		Size:               int64(len(content)),
		URLPrivate:         fmt.Sprintf("%s/files-pri/%s-%s/%s", s.srv.URL, TeamID, id, url.PathEscape(name)),
		URLPrivateDownload: fmt.Sprintf("%s/files-pri/%s-%s/download/%s", s.srv.URL, TeamID, id, url.PathEscape(name))},
		content: content, uploaded: uploaded}
	s.files[id] = f
	return f
}

// AddUserMessage records a message a user wrote (what Maria replies to in
// its thread) and returns its ts. threadTS may be empty; fileIDs attach
// files hosted with AddFile (a file share).
func (s *Sim) AddUserMessage(channel, user, text, threadTS string, fileIDs ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Message{Channel: channel, TS: s.nextTS(), ThreadTS: threadTS, User: user, Text: text}
	for _, id := range fileIDs {
		ref := FileRef{ID: id}
		if f := s.files[id]; f != nil {
			ref.Name, ref.Title = f.Name, f.Title
		}
		m.Files = append(m.Files, ref)
	}
	s.messages[channel] = append(s.messages[channel], m)
	return m.TS
}

// BotMessages returns the bot's messages in channel, in post order.
func (s *Sim) BotMessages(channel string) []Message {
	var out []Message
	for _, m := range s.Messages(channel) {
		if m.BotID == BotID {
			out = append(out, m)
		}
	}
	return out
}

// ResponseURL returns a fresh response_url (5 uses, like Slack's).
func (s *Sim) ResponseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idSeq++
	p := fmt.Sprintf("/respond/R%s%05d", s.idBase, s.idSeq)
	s.respURLs[p] = 5
	return s.srv.URL + p
}

// ---- inspection ----

// Calls returns every call so far, in order.
func (s *Sim) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the calls of one method.
func (s *Sim) CallsTo(method string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns copies of channel's messages (top-level and replies) in
// the order they were posted.
func (s *Sim) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.messages[channel]))
	for _, m := range s.messages[channel] {
		c := *m
		c.Reactions = append([]string(nil), m.Reactions...)
		out = append(out, c)
	}
	return out
}

// Thread returns the replies to threadTS in channel, in order.
func (s *Sim) Thread(channel, threadTS string) []Message {
	var out []Message
	for _, m := range s.Messages(channel) {
		if m.ThreadTS == threadTS && m.TS != threadTS {
			out = append(out, m)
		}
	}
	return out
}

// OpenStreams returns channel's streamed messages never stopped.
func (s *Sim) OpenStreams(channel string) []Message {
	var out []Message
	for _, m := range s.Messages(channel) {
		if m.Stream && m.Streaming {
			out = append(out, m)
		}
	}
	return out
}

// Message returns the message with ts in channel.
func (s *Sim) Message(channel, ts string) (Message, bool) {
	for _, m := range s.Messages(channel) {
		if m.TS == ts {
			return m, true
		}
	}
	return Message{}, false
}

// Ephemerals returns every ephemeral message posted.
func (s *Sim) Ephemerals() []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ephemeral(nil), s.ephemerals...)
}

// Responses returns every response_url message.
func (s *Sim) Responses() []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Response(nil), s.responses...)
}

// Assistant returns the assistant state of a thread.
func (s *Sim) Assistant(channel, threadTS string) AssistantThread {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.assistant[channel+"/"+threadTS]; a != nil {
		c := *a
		c.Prompts = append([]Prompt(nil), a.Prompts...)
		return c
	}
	return AssistantThread{}
}

// File returns a hosted or uploaded file and its content.
func (s *Sim) File(id string) (schemas.SlackFile, []byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[id]
	if !ok {
		return schemas.SlackFile{}, nil, false
	}
	return f.SlackFile, append([]byte(nil), f.content...), true
}

// Changed returns a channel that is closed at the next recorded call.
func (s *Sim) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	s.listeners = append(s.listeners, ch)
	return ch
}

// ---- HTTP ----

type reply map[string]any

func (s *Sim) api(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	params, perr := readParams(r)
	token := params.Get("token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	params.Del("token")
	channel := params.Get("channel")
	if channel == "" {
		channel = params.Get("channel_id")
	}

	s.mu.Lock()
	delay := s.slow[method]
	if d, ok := s.slow["*"]; ok && d > delay {
		delay = d
	}
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}

	s.mu.Lock()
	call := Call{Method: method, Channel: channel, Params: params, Status: http.StatusOK, At: time.Now()}
	var out reply
	var code string
	everyStatus := 0 // a FailEvery status due after acting
	switch {
	case perr != nil:
		code = "invalid_form_data"
	case method == "oauth.v2.access": // the app authenticates with its client id and secret
	case token == "":
		code = "not_authed"
	default:
		call.Team, code = s.authorizeCall(token, channel)
	}
	if code == "" {
		if rr := s.rate[channel]; channel != "" && rr != nil && rr.n > 0 {
			rr.n--
			call.Status = http.StatusTooManyRequests
			secs := int((rr.retryAfter + time.Second - 1) / time.Second)
			s.record(call)
			s.mu.Unlock()
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			http.Error(w, "rate limited", http.StatusTooManyRequests)
			return
		}
		var after bool
		if everyStatus, after = s.everyFault(method); everyStatus != 0 && !after {
			call.Status = everyStatus
			s.serverError(w, call, "simulated server error")
			return
		} else if !after {
			everyStatus = 0
		}
		if q := s.fails[method]; len(q) > 0 {
			f := q[0]
			s.fails[method] = q[1:]
			if f.status != 0 {
				call.Status = f.status
				s.serverError(w, call, "simulated server error")
				return
			}
			code = f.code
		}
	}
	if code == "" && channel != "" && s.chanErr[channel] != "" && method != "auth.test" {
		code = s.chanErr[channel]
	}
	if code == "" {
		out, code = s.dispatch(method, channel, params)
		if method == "auth.test" && call.Team != "" {
			out = s.authTest(call.Team)
		}
		if code == "" && everyStatus != 0 {
			call.Status = everyStatus
			s.serverError(w, call, "simulated server error after acting")
			return
		}
		if q := s.afterAct[method]; code == "" && len(q) > 0 {
			s.afterAct[method] = q[1:]
			call.Status = q[0]
			s.serverError(w, call, "simulated server error after acting")
			return
		}
	}
	call.Error = code
	s.record(call)
	s.mu.Unlock()

	if code != "" {
		writeJSON(w, reply{"ok": false, "error": code})
		return
	}
	out["ok"] = true
	writeJSON(w, out)
}

// serverError records call (with s.mu held, which it releases) and answers
// its HTTP status with an HTML page, as Slack's edge does.
func (s *Sim) serverError(w http.ResponseWriter, call Call, page string) {
	s.record(call)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(call.Status)
	_, _ = io.WriteString(w, "<html><body>"+page+"</body></html>")
}

func (s *Sim) record(c Call) {
	s.calls = append(s.calls, c)
	for _, l := range s.listeners {
		close(l)
	}
	s.listeners = nil
}

// dispatch runs a method with s.mu held.
func (s *Sim) dispatch(method, channel string, p url.Values) (reply, string) {
	switch method {
	case "auth.test":
		return reply{"url": "https://maria-sim.slack.test/", "team": TeamName, "user": BotName, "team_id": TeamID,
			"user_id": BotUserID, "bot_id": BotID, "is_enterprise_install": false}, ""
	case "chat.postMessage":
		return s.postMessage(channel, p)
	case "chat.update":
		return s.update(channel, p)
	case "chat.postEphemeral":
		return s.postEphemeral(channel, p)
	case "chat.startStream":
		return s.startStream(channel, p)
	case "chat.appendStream":
		return s.appendStream(channel, p)
	case "chat.stopStream":
		return s.stopStream(channel, p)
	case "assistant.threads.setStatus", "assistant.threads.setTitle", "assistant.threads.setSuggestedPrompts":
		return s.assistantCall(method, channel, p)
	case "reactions.add":
		return s.react(channel, p)
	case "files.getUploadURLExternal":
		return s.getUploadURL(p)
	case "files.completeUploadExternal":
		return s.completeUpload(channel, p)
	case "conversations.history":
		return s.history(channel, p)
	case "conversations.replies":
		return s.replies(channel, p)
	case "users.info":
		return s.userInfo(p)
	case "files.info":
		return s.fileInfo(p)
	case "oauth.v2.access":
		return s.oauthAccess(p)
	case "views.publish", "views.open":
		return s.viewCall(method, p)
	}
	return nil, "unknown_method"
}

// nextTS returns a Slack timestamp from the wall clock (microseconds),
// strictly increasing like Slack's per-channel ts.
func (s *Sim) nextTS() string {
	now := time.Now().UnixMicro()
	if now <= s.seq {
		now = s.seq + 1
	}
	s.seq = now
	return fmt.Sprintf("%d.%06d", now/1000000, now%1000000)
}

func validChannel(ch string) bool {
	return ch != "" && (ch[0] == 'C' || ch[0] == 'D' || ch[0] == 'G')
}

func parseBlocks(raw string) (json.RawMessage, string) {
	if raw == "" {
		return nil, ""
	}
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
		return nil, "invalid_blocks_format"
	}
	for _, b := range blocks {
		if t, _ := b["type"].(string); t == "" {
			return nil, "invalid_blocks"
		}
	}
	if len(blocks) > 50 {
		return nil, "invalid_blocks"
	}
	return json.RawMessage(raw), ""
}

func parseMetadata(raw string) (*Metadata, string) {
	if raw == "" {
		return nil, ""
	}
	var m Metadata
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m.EventType == "" {
		return nil, "invalid_metadata_format"
	}
	return &m, ""
}

func (s *Sim) messageJSON(m *Message, withMeta bool) map[string]any {
	out := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "team": TeamID}
	if m.User != "" {
		out["user"] = m.User
	}
	if m.BotID != "" {
		out["bot_id"] = m.BotID
		out["app_id"] = "A0MARIA"
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
		if m.ThreadTS != m.TS {
			out["parent_user_id"] = BotUserID
		}
	}
	if len(m.Blocks) > 0 {
		out["blocks"] = m.Blocks
	}
	if withMeta && m.Metadata != nil {
		out["metadata"] = m.Metadata
	}
	if m.Edits > 0 {
		out["edited"] = map[string]any{"user": BotUserID, "ts": m.TS}
	}
	if len(m.Files) > 0 {
		files := make([]map[string]any, 0, len(m.Files))
		for _, fr := range m.Files {
			if f := s.files[fr.ID]; f != nil {
				files = append(files, fileJSON(f.SlackFile))
			}
		}
		out["files"] = files
		out["upload"] = true
	}
	if m.Stream {
		state := "completed"
		if m.Streaming {
			state = "in_progress"
		}
		out["streaming_state"] = state
	}
	return out
}

func fileJSON(f schemas.SlackFile) map[string]any {
	return map[string]any{"id": f.ID, "name": f.Name, "title": f.Title, "mimetype": f.Mimetype, "filetype": f.Filetype,
		"size": f.Size, "url_private": f.URLPrivate, "url_private_download": f.URLPrivateDownload, "user": BotUserID}
}

func (s *Sim) find(channel, ts string) *Message {
	for _, m := range s.messages[channel] {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

func (s *Sim) postMessage(channel string, p url.Values) (reply, string) {
	if !validChannel(channel) {
		return nil, "channel_not_found"
	}
	text := p.Get("text")
	blocks, code := parseBlocks(p.Get("blocks"))
	if code != "" {
		return nil, code
	}
	meta, code := parseMetadata(p.Get("metadata"))
	if code != "" {
		return nil, code
	}
	if text == "" && len(blocks) == 0 && p.Get("attachments") == "" {
		return nil, "no_text"
	}
	if len([]rune(text)) > 40000 {
		return nil, "msg_too_long"
	}
	thread := p.Get("thread_ts")
	if thread != "" && s.find(channel, thread) == nil {
		return nil, "thread_not_found"
	}
	m := &Message{Channel: channel, TS: s.nextTS(), ThreadTS: thread, User: BotUserID, BotID: BotID, Text: text, Blocks: blocks, Metadata: meta}
	s.messages[channel] = append(s.messages[channel], m)
	return reply{"channel": channel, "ts": m.TS, "message": s.messageJSON(m, true)}, ""
}

func (s *Sim) update(channel string, p url.Values) (reply, string) {
	m := s.find(channel, p.Get("ts"))
	if m == nil {
		return nil, "message_not_found"
	}
	if m.BotID != BotID {
		return nil, "cant_update_message"
	}
	blocks, code := parseBlocks(p.Get("blocks"))
	if code != "" {
		return nil, code
	}
	text := p.Get("text")
	if text == "" && len(blocks) == 0 {
		return nil, "no_text"
	}
	if len([]rune(text)) > 40000 {
		return nil, "msg_too_long"
	}
	if p.Has("metadata") {
		meta, code := parseMetadata(p.Get("metadata"))
		if code != "" {
			return nil, code
		}
		m.Metadata = meta
	}
	m.Text, m.Edits = text, m.Edits+1
	if p.Has("blocks") {
		m.Blocks = blocks
	}
	return reply{"channel": channel, "ts": m.TS, "text": m.Text, "message": s.messageJSON(m, true)}, ""
}

func (s *Sim) postEphemeral(channel string, p url.Values) (reply, string) {
	if !validChannel(channel) {
		return nil, "channel_not_found"
	}
	user := p.Get("user")
	if user == "" {
		return nil, "user_not_in_channel"
	}
	blocks, code := parseBlocks(p.Get("blocks"))
	if code != "" {
		return nil, code
	}
	if p.Get("text") == "" && len(blocks) == 0 {
		return nil, "no_text"
	}
	ts := s.nextTS()
	s.ephemerals = append(s.ephemerals, Ephemeral{Channel: channel, User: user, ThreadTS: p.Get("thread_ts"), Text: p.Get("text"), Blocks: blocks, MessageTS: ts})
	return reply{"message_ts": ts}, ""
}

func (s *Sim) startStream(channel string, p url.Values) (reply, string) {
	if !validChannel(channel) {
		return nil, "channel_not_found"
	}
	if code := s.noStream[channel]; code != "" {
		return nil, code
	}
	if channel[0] != 'D' && (p.Get("recipient_user_id") == "" || p.Get("recipient_team_id") == "") {
		return nil, "missing_recipient"
	}
	thread := p.Get("thread_ts")
	if thread != "" && s.find(channel, thread) == nil {
		return nil, "thread_not_found"
	}
	m := &Message{Channel: channel, TS: s.nextTS(), ThreadTS: thread, User: BotUserID, BotID: BotID,
		Text: p.Get("markdown_text"), Stream: true, Streaming: true}
	s.messages[channel] = append(s.messages[channel], m)
	return reply{"channel": channel, "ts": m.TS}, ""
}

// openStream finds a streamed message still open for appends or a stop,
// with Slack's error codes otherwise.
func (s *Sim) openStream(channel, ts string) (*Message, string) {
	m := s.find(channel, ts)
	if m == nil || !m.Stream {
		return nil, "message_not_found"
	}
	if !m.Streaming {
		return nil, "message_not_in_streaming_state"
	}
	return m, ""
}

func (s *Sim) appendStream(channel string, p url.Values) (reply, string) {
	m, code := s.openStream(channel, p.Get("ts"))
	if code != "" {
		return nil, code
	}
	if p.Get("markdown_text") == "" && p.Get("chunks") == "" {
		return nil, "no_text"
	}
	m.Text += p.Get("markdown_text")
	return reply{"channel": channel, "ts": m.TS}, ""
}

func (s *Sim) stopStream(channel string, p url.Values) (reply, string) {
	m, code := s.openStream(channel, p.Get("ts"))
	if code != "" {
		return nil, code
	}
	blocks, code := parseBlocks(p.Get("blocks"))
	if code != "" {
		return nil, code
	}
	meta, code := parseMetadata(p.Get("metadata"))
	if code != "" {
		return nil, code
	}
	m.Text += p.Get("markdown_text")
	if len(blocks) > 0 {
		m.Blocks = blocks
	}
	if meta != nil {
		m.Metadata = meta
	}
	m.Streaming = false
	return reply{"channel": channel, "ts": m.TS, "message": s.messageJSON(m, true)}, ""
}

func (s *Sim) assistantCall(method, channel string, p url.Values) (reply, string) {
	if !validChannel(channel) {
		return nil, "channel_not_found"
	}
	thread := p.Get("thread_ts")
	if thread == "" {
		return nil, "invalid_arguments"
	}
	k := channel + "/" + thread
	a := s.assistant[k]
	if a == nil {
		a = &AssistantThread{}
		s.assistant[k] = a
	}
	switch method {
	case "assistant.threads.setStatus":
		if !p.Has("status") {
			return nil, "invalid_arguments"
		}
		a.Status = p.Get("status")
	case "assistant.threads.setTitle":
		if p.Get("title") == "" {
			return nil, "invalid_arguments"
		}
		a.Title = p.Get("title")
	case "assistant.threads.setSuggestedPrompts":
		var prompts []Prompt
		if err := json.Unmarshal([]byte(p.Get("prompts")), &prompts); err != nil || len(prompts) == 0 || len(prompts) > 4 {
			return nil, "invalid_arguments"
		}
		a.Prompts, a.PromptTitle = prompts, p.Get("title")
	}
	return reply{}, ""
}

func (s *Sim) react(channel string, p url.Values) (reply, string) {
	m := s.find(channel, p.Get("timestamp"))
	if m == nil {
		return nil, "message_not_found"
	}
	name := strings.Trim(p.Get("name"), ":")
	if name == "" {
		return nil, "invalid_name"
	}
	for _, r := range m.Reactions {
		if r == name {
			return nil, "already_reacted"
		}
	}
	m.Reactions = append(m.Reactions, name)
	return reply{}, ""
}

func (s *Sim) getUploadURL(p url.Values) (reply, string) {
	name := p.Get("filename")
	n, err := strconv.Atoi(p.Get("length"))
	if name == "" || err != nil || n <= 0 {
		return nil, "invalid_arguments"
	}
	f := s.addFileLocked(name, mime.TypeByExtension(extOf(name)), nil, false)
	f.Size = int64(n)
	return reply{"upload_url": fmt.Sprintf("%s/upload/%s", s.srv.URL, f.ID), "file_id": f.ID}, ""
}

func (s *Sim) completeUpload(channel string, p url.Values) (reply, string) {
	var files []FileRef
	if err := json.Unmarshal([]byte(p.Get("files")), &files); err != nil || len(files) == 0 {
		return nil, "invalid_arguments"
	}
	out := make([]map[string]any, 0, len(files))
	for _, fr := range files {
		f := s.files[fr.ID]
		if f == nil || !f.uploaded {
			return nil, "file_not_found"
		}
		if fr.Title != "" {
			f.Title = fr.Title
		}
		out = append(out, map[string]any{"id": f.ID, "title": f.Title})
	}
	if channel != "" {
		if !validChannel(channel) {
			return nil, "channel_not_found"
		}
		refs := make([]FileRef, 0, len(files))
		for _, fr := range files {
			f := s.files[fr.ID]
			refs = append(refs, FileRef{ID: f.ID, Name: f.Name, Title: f.Title})
		}
		m := &Message{Channel: channel, TS: s.nextTS(), ThreadTS: p.Get("thread_ts"), User: BotUserID, BotID: BotID,
			Text: p.Get("initial_comment"), Files: refs}
		s.messages[channel] = append(s.messages[channel], m)
	}
	return reply{"files": out}, ""
}

// randomBase is the random part of this instance's ids. Slack's file ids
// are unique for ever, and Maria relies on it (a file's event id and its
// store-once record derive from it): a second simulator — the next run of
// `maria demo` on the same data directory — must not reuse them.
func randomBase() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func truthy(v string) bool { return v == "1" || v == "true" }

func pageOf(p url.Values, msgs []*Message) (page []*Message, next string) {
	limit, _ := strconv.Atoi(p.Get("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	start := 0
	if c := p.Get("cursor"); c != "" {
		start, _ = strconv.Atoi(strings.TrimPrefix(c, "bmV4dF90czo"))
	}
	if start > len(msgs) {
		start = len(msgs)
	}
	end := min(start+limit, len(msgs))
	if end < len(msgs) {
		next = "bmV4dF90czo" + strconv.Itoa(end)
	}
	return msgs[start:end], next
}

func inRange(ts string, p url.Values) bool {
	incl := truthy(p.Get("inclusive"))
	if o := p.Get("oldest"); o != "" && (ts < o || (!incl && ts == o)) {
		return false
	}
	if l := p.Get("latest"); l != "" && (ts > l || (!incl && ts == l)) {
		return false
	}
	return true
}

func (s *Sim) history(channel string, p url.Values) (reply, string) {
	if !validChannel(channel) {
		return nil, "channel_not_found"
	}
	var top []*Message
	all := s.messages[channel]
	for i := len(all) - 1; i >= 0; i-- { // newest first, like Slack
		m := all[i]
		if (m.ThreadTS == "" || m.ThreadTS == m.TS) && inRange(m.TS, p) {
			top = append(top, m)
		}
	}
	page, next := pageOf(p, top)
	return s.listReply(page, next, truthy(p.Get("include_all_metadata"))), ""
}

func (s *Sim) replies(channel string, p url.Values) (reply, string) {
	if !validChannel(channel) {
		return nil, "channel_not_found"
	}
	ts := p.Get("ts")
	m := s.find(channel, ts)
	if m == nil {
		return nil, "thread_not_found"
	}
	root := ts
	if m.ThreadTS != "" {
		root = m.ThreadTS
	}
	var thread []*Message
	for _, x := range s.messages[channel] {
		if (x.TS == root || x.ThreadTS == root) && inRange(x.TS, p) {
			thread = append(thread, x)
		}
	}
	sort.SliceStable(thread, func(i, j int) bool { return thread[i].TS < thread[j].TS })
	page, next := pageOf(p, thread)
	return s.listReply(page, next, truthy(p.Get("include_all_metadata"))), ""
}

func (s *Sim) listReply(page []*Message, next string, meta bool) reply {
	msgs := make([]map[string]any, 0, len(page))
	for _, m := range page {
		msgs = append(msgs, s.messageJSON(m, meta))
	}
	return reply{"messages": msgs, "has_more": next != "", "response_metadata": map[string]any{"next_cursor": next}}
}

// fileInfo answers files.info as Slack does: the file object, so a
// consumer that only got a file_shared event (file id alone) can find the
// download URLs.
func (s *Sim) fileInfo(p url.Values) (reply, string) {
	f, ok := s.files[p.Get("file")]
	if !ok {
		return nil, "file_not_found"
	}
	return reply{"file": map[string]any{"id": f.ID, "name": f.Name, "title": f.Title, "mimetype": f.Mimetype,
		"filetype": f.Filetype, "size": f.Size, "url_private": f.URLPrivate, "url_private_download": f.URLPrivateDownload}}, ""
}

func (s *Sim) userInfo(p url.Values) (reply, string) {
	id := p.Get("user")
	if id == "" {
		return nil, "user_not_found"
	}
	if u, ok := s.users[id]; ok {
		return reply{"user": u}, ""
	}
	if id == BotUserID {
		u := userJSON(id, BotName, "Maria", "")
		u["is_bot"] = true
		return reply{"user": u}, ""
	}
	if !strings.HasPrefix(id, "U") && !strings.HasPrefix(id, "W") {
		return nil, "user_not_found"
	}
	return reply{"user": userJSON(id, strings.ToLower(id), "User "+id, strings.ToLower(id)+"@example.com")}, ""
}

func userJSON(id, name, realName, email string) map[string]any {
	return map[string]any{"id": id, "team_id": TeamID, "name": name, "real_name": realName, "tz": "Europe/Brussels",
		"tz_label": "Central European Time", "tz_offset": 3600, "locale": "en-US", "is_bot": false, "deleted": false,
		"is_restricted": false, "is_ultra_restricted": false,
		"profile": map[string]any{"real_name": realName, "display_name": name, "email": email}}
}

// upload receives the bytes of files.getUploadURLExternal.
func (s *Sim) upload(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var content []byte
	var err error
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		if err = r.ParseMultipartForm(64 << 20); err == nil {
			f, _, ferr := r.FormFile("file")
			if ferr != nil {
				err = ferr
			} else {
				content, err = io.ReadAll(f)
				_ = f.Close()
			}
		}
	} else {
		content, err = io.ReadAll(r.Body)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	call := Call{Method: "upload", Params: url.Values{"file_id": {id}}, Status: http.StatusOK, At: time.Now()}
	f := s.files[id]
	switch {
	case err != nil:
		call.Status = http.StatusBadRequest
	case f == nil || f.uploaded:
		call.Status = http.StatusNotFound
	}
	s.record(call)
	if call.Status != http.StatusOK {
		http.Error(w, "upload failed", call.Status)
		return
	}
	f.content, f.uploaded, f.Size = content, true, int64(len(content))
	if f.Mimetype == "" {
		f.Mimetype = http.DetectContentType(content)
	}
	_, _ = fmt.Fprintf(w, "OK - %d", len(content))
}

// download serves url_private(_download) to holders of the bot token;
// others are redirected to the sign-in page, as Slack does.
func (s *Sim) download(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	id = strings.TrimPrefix(id, TeamID+"-")
	s.mu.Lock()
	f := s.files[id]
	team, denied := s.authorizeCall(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), "")
	authed := denied == ""
	call := Call{Method: "files.download", Params: url.Values{"file_id": {id}}, Status: http.StatusOK, At: time.Now(), Team: team}
	if !authed {
		call.Status = http.StatusFound
	} else if f == nil || !f.uploaded {
		call.Status = http.StatusNotFound
	}
	s.record(call)
	s.mu.Unlock()
	switch call.Status {
	case http.StatusFound:
		http.Redirect(w, r, "/signin?redir="+url.QueryEscape(r.URL.Path), http.StatusFound)
		return
	case http.StatusNotFound:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.Mimetype)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.content)))
	_, _ = w.Write(f.content)
}

// respond receives response_url messages (JSON, as slack-go sends them).
func (s *Sim) respond(w http.ResponseWriter, r *http.Request) {
	var resp Response
	body, _ := io.ReadAll(r.Body)
	err := json.Unmarshal(body, &resp)
	s.mu.Lock()
	defer s.mu.Unlock()
	call := Call{Method: "response_url", Params: url.Values{"path": {r.URL.Path}}, Status: http.StatusOK, At: time.Now()}
	left, known := s.respURLs[r.URL.Path]
	switch {
	case !known:
		call.Status = http.StatusNotFound
	case left <= 0:
		call.Status = http.StatusNotFound
		call.Error = "used_url"
	case err != nil:
		call.Status = http.StatusBadRequest
		call.Error = "invalid_payload"
	case resp.Text == "" && len(resp.Blocks) == 0 && !resp.DeleteOriginal:
		call.Status = http.StatusBadRequest
		call.Error = "no_text"
	}
	s.record(call)
	if call.Status != http.StatusOK {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(call.Status)
		_, _ = io.WriteString(w, call.Error)
		return
	}
	s.respURLs[r.URL.Path] = left - 1
	resp.URL = s.srv.URL + r.URL.Path
	s.responses = append(s.responses, resp)
	writeJSON(w, reply{"ok": true})
}

// readParams reads form-encoded (body or query) and JSON bodies alike.
func readParams(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return url.Values{}, err
		}
		v := r.URL.Query()
		for k, x := range body {
			switch t := x.(type) {
			case string:
				v.Set(k, t)
			case bool:
				v.Set(k, strconv.FormatBool(t))
			case float64:
				v.Set(k, strconv.FormatFloat(t, 'f', -1, 64))
			case nil:
			default:
				b, _ := json.Marshal(t)
				v.Set(k, string(b))
			}
		}
		return v, nil
	}
	if err := r.ParseForm(); err != nil {
		return url.Values{}, err
	}
	return r.Form, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}
